// The resolved configuration of one process: every registry key with its value and where the
// value came from. Built once at start-up (by the `ember` command or ember::context::create) from
// flags > --conf > $EMBER_CONF_DIR/ember-defaults.conf > built-in defaults, then handed to
// components as small settings structs (settings.hpp), never read through a global.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "config/keys.hpp"
#include "config/registry.hpp"

namespace ember::config {

// A configuration that cannot be loaded: unknown key, bad value, unreadable file. The message is
// one line naming the key, the value and what was expected (and the file:line when from a file).
class config_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Where a resolved value came from.
struct origin {
  enum class kind { built_in, inherited, file, conf, flag };
  kind what = kind::built_in;
  std::string file;  // kind::file
  int line = 0;      // kind::file
  std::string flag;  // kind::flag, e.g. "--master"
  // kind::inherited: the parent key and where the parent's value came from ("default", ...).
  std::string parent;
  std::string parent_origin;

  // "default", "/etc/ember/ember-defaults.conf:3", "--conf", "--master",
  // "inherited from ember.locality.wait (--conf)".
  std::string describe() const;
};

struct entry {
  const key_spec* spec = nullptr;
  ember::config::value value;
  ember::config::origin origin;
};

// A dedicated command-line flag that sets one key (e.g. --master sets ember.master).
struct flag_setting {
  std::string flag;
  std::string key;
  std::string text;
};

struct load_options {
  // "key=value" strings from --conf, in command-line order (a later one wins).
  std::vector<std::string> conf;
  // Dedicated flags; they win over --conf (as spark-submit's --master wins over --conf spark.master).
  std::vector<flag_setting> flags;
  // Explicit defaults file (--properties-file); must exist. Replaces the EMBER_CONF_DIR one.
  std::optional<std::string> properties_file;
  // When true and no properties_file is given, read $EMBER_CONF_DIR/ember-defaults.conf if that
  // file exists (a missing file is not an error, as in Spark).
  bool use_environment = true;
};

class config {
 public:
  // -- typed getters --------------------------------------------------------------------
  // `conf.get(keys::network_timeout)` (keys.hpp): the handle fixes the key and its type at
  // compile time. Strings are looked up only where a name is truly dynamic (at(), text()).

  bool get(key<key_type::boolean> k) const;
  std::int64_t get(key<key_type::integer> k) const;
  double get(key<key_type::real> k) const;
  std::int64_t get(key<key_type::size> k) const;  // bytes
  std::chrono::milliseconds get(key<key_type::duration> k) const;
  const std::string& get(key<key_type::string> k) const;
  const std::string& get(key<key_type::enumeration> k) const;  // the canonical spelling

  // -- introspection ----------------------------------------------------------------------

  // By name, for names that come from outside the code (`ember conf`, an application's settings
  // forwarded to its executors); throws std::logic_error when the key is not in the registry.
  const entry& at(std::string_view key) const;
  template <key_type K>
  const entry& at(key<K> k) const {
    return at(k.name);
  }
  // The value as canonical text ("48m", "120s", "0.6").
  std::string text(std::string_view key) const;
  template <key_type K>
  std::string text(key<K> k) const {
    return text(k.name);
  }
  // Every key in registry order.
  const std::vector<entry>& entries() const { return entries_; }
  // The defaults file that was read, if any.
  const std::optional<std::string>& defaults_file() const { return defaults_file_; }

 private:
  friend config load(const load_options&);
  const entry& typed(std::string_view key, key_type t) const;
  std::vector<entry> entries_;
  std::optional<std::string> defaults_file_;
};

// Resolves every key; throws config_error on the first problem.
config load(const load_options& options = {});

// Built-in defaults only (no environment, no file): for tests and tools.
config defaults();

// "a,b , c" -> {"a", "b", "c"} (empty items dropped): the items of a list-valued string key
// (ember.local.dir, ember.worker.dataDirs).
std::vector<std::string> split_list(std::string_view text);

// Parses a defaults file body (`key value` or `key=value` lines, `#` comment lines, blank lines)
// into (key, value, line) triples; `name` is used in errors ("name:3: ...").
struct file_setting {
  std::string key;
  std::string text;
  int line = 0;
};
std::vector<file_setting> parse_defaults_file(std::string_view body, std::string_view name);

// -- shared command-line handling ---------------------------------------------------------

// Extracts `--conf k=v` / `--conf=k=v`, `--master X` / `--master=X`, `--name X` / `--name=X` and
// `--properties-file F` / `--properties-file=F` from argv, loads the configuration and stores the
// other arguments (argv[0] first, everything after a literal `--` untouched) in `remaining`.
// Used by the `ember` command's callers and by ember::context::create. Throws config_error,
// also for a flag missing its value.
config from_args(int argc, const char* const* argv, std::vector<std::string>& remaining);

}  // namespace ember::config
