#include "config/config.hpp"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

namespace ember::config {

namespace {

std::string unknown_key_message(std::string_view key) {
  std::string msg = "unknown configuration key '" + std::string(key) + "'";
  if (auto near = suggest_key(key))
    msg += " (did you mean '" + std::string(*near) + "'?)";
  return msg;
}

// One value given by a source, before it is checked.
struct given {
  std::string text;
  ember::config::origin origin;
  std::string where;  // prefix for errors: "file:3: ", "--master: " or ""
};

const key_spec& require_key(std::string_view key, std::string_view where) {
  auto spec = find_key(key);
  if (spec == nullptr)
    throw config_error(std::string(where) + unknown_key_message(key));
  return *spec;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw config_error("cannot read configuration file '" + path + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool file_exists(const std::string& path) {
  std::ifstream in(path);
  return static_cast<bool>(in);
}

std::string describe(const entry& e) {
  return std::string(e.spec->name) + " = " + format_value(*e.spec, e.value) + " ("
         + e.origin.describe() + ")";
}

// Constraints between keys, checked after every key is resolved.
void check_relations(const config& c) {
  using namespace keys;
  auto fail = [&](auto a, std::string_view relation, auto b) {
    throw config_error(describe(c.at(a)) + " " + std::string(relation) + " " + describe(c.at(b)));
  };
  if (c.get(executor_heartbeat_interval) >= c.get(network_timeout))
    fail(executor_heartbeat_interval, "must be below", network_timeout);
  if (c.get(task_cpus) > c.get(executor_cores))
    fail(task_cpus, "must not exceed", executor_cores);
  if (c.get(dynamic_allocation_enabled)) {
    auto min = c.get(dynamic_allocation_min_executors);
    auto max = c.get(dynamic_allocation_max_executors);
    auto initial = c.get(dynamic_allocation_initial_executors);
    if (max != 0 && min > max)
      fail(dynamic_allocation_min_executors, "must not exceed", dynamic_allocation_max_executors);
    if (initial < min)
      fail(dynamic_allocation_initial_executors, "must not be below", dynamic_allocation_min_executors);
    if (max != 0 && initial > max)
      fail(dynamic_allocation_initial_executors, "must not exceed", dynamic_allocation_max_executors);
  }
  // Where the secret comes from (a file, a descriptor from the worker, the value) is checked by
  // security::resolve, which is what reads it.
  if ((c.get(authenticate) || c.get(ssl_enabled)) && !c.get(network_crypto_enabled))
    throw config_error(describe(c.at(network_crypto_enabled))
                       + ": Ember authenticates peers through TLS, which always encrypts; leave it true");
  if (c.get(ssl_enabled))
    for (auto key : {ssl_certificate, ssl_key, ssl_ca_file})
      if (c.get(key).empty())
        throw config_error(describe(c.at(ssl_enabled)) + " requires " + std::string(key.name) + " to be set");
  if (c.get(deploy_recovery_mode) == "FILESYSTEM" && c.get(deploy_recovery_directory).empty())
    throw config_error(describe(c.at(deploy_recovery_mode)) + " requires "
                       + std::string(deploy_recovery_directory.name) + " to be set");
}

}  // namespace

// -- origin -----------------------------------------------------------------------------------

std::string origin::describe() const {
  switch (what) {
    case kind::built_in: return "default";
    case kind::inherited: return "inherited from " + parent + " (" + parent_origin + ")";
    case kind::file: return file + ":" + std::to_string(line);
    case kind::conf: return "--conf";
    case kind::flag: return flag;
  }
  return "?";
}

// -- config getters --------------------------------------------------------------------------

const entry& config::at(std::string_view key) const {
  auto spec = find_key(key);
  if (spec == nullptr)
    throw std::logic_error("config: key '" + std::string(key) + "' is not in the registry"
                           + [&] {
                               auto near = suggest_key(key);
                               return near ? " (did you mean '" + std::string(*near) + "'?)" : std::string{};
                             }());
  // entries_ is in registry order, so the spec's index is the entry's index.
  return entries_.at(static_cast<std::size_t>(spec - registry().data()));
}

const entry& config::typed(std::string_view key, key_type t) const {
  const auto& e = at(key);
  if (e.spec->type != t)  // keys_test keeps handles and registry in step; this is the backstop
    throw std::logic_error("config: key '" + std::string(key) + "' has type "
                           + std::string(to_string(e.spec->type)) + ", not " + std::string(to_string(t)));
  return e;
}

bool config::get(key<key_type::boolean> k) const {
  return std::get<bool>(typed(k.name, k.type).value);
}

std::int64_t config::get(key<key_type::integer> k) const {
  return std::get<std::int64_t>(typed(k.name, k.type).value);
}

double config::get(key<key_type::real> k) const {
  return std::get<double>(typed(k.name, k.type).value);
}

std::int64_t config::get(key<key_type::size> k) const {
  return std::get<std::int64_t>(typed(k.name, k.type).value);
}

std::chrono::milliseconds config::get(key<key_type::duration> k) const {
  return std::chrono::milliseconds{std::get<std::int64_t>(typed(k.name, k.type).value)};
}

const std::string& config::get(key<key_type::string> k) const {
  return std::get<std::string>(typed(k.name, k.type).value);
}

const std::string& config::get(key<key_type::enumeration> k) const {
  return std::get<std::string>(typed(k.name, k.type).value);
}

std::string config::text(std::string_view key) const {
  const auto& e = at(key);
  return format_value(*e.spec, e.value);
}

// -- lists ----------------------------------------------------------------------------------

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  while (true) {
    auto comma = text.find(',');
    auto item = trim(text.substr(0, comma));
    if (!item.empty())
      out.emplace_back(item);
    if (comma == std::string_view::npos)
      break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

// -- defaults file ----------------------------------------------------------------------------

std::vector<file_setting> parse_defaults_file(std::string_view body, std::string_view name) {
  std::vector<file_setting> out;
  int line_no = 0;
  while (!body.empty()) {
    auto nl = body.find('\n');
    auto raw = body.substr(0, nl);
    body = nl == std::string_view::npos ? std::string_view{} : body.substr(nl + 1);
    ++line_no;
    auto line = trim(raw);
    if (line.empty() || line.front() == '#')
      continue;
    auto sep = line.find_first_of("= \t");
    if (sep == std::string_view::npos)
      throw config_error(std::string(name) + ":" + std::to_string(line_no) + ": '" + std::string(line)
                         + "' has no value (expected 'key value' or 'key=value')");
    auto key = line.substr(0, sep);
    auto rest = line.substr(sep);
    rest = trim(rest);
    if (line[sep] != '=' && !rest.empty() && rest.front() == '=')  // "key = value"
      rest = trim(rest.substr(1));
    else if (line[sep] == '=')
      rest = trim(line.substr(sep + 1));
    if (key.empty())
      throw config_error(std::string(name) + ":" + std::to_string(line_no) + ": missing key before '='");
    out.push_back({std::string(key), std::string(rest), line_no});
  }
  return out;
}

// -- load ----------------------------------------------------------------------------------

config load(const load_options& options) {
  // Later writes win: file, then --conf in order, then dedicated flags.
  std::map<std::string_view, given> set;

  std::optional<std::string> file;
  if (options.properties_file) {
    file = *options.properties_file;
  } else if (options.use_environment) {
    if (const char* dir = std::getenv("EMBER_CONF_DIR"); dir != nullptr && *dir != '\0') {
      auto candidate = std::string(dir) + "/ember-defaults.conf";
      if (file_exists(candidate))
        file = candidate;
    }
  }
  if (file) {
    for (auto& s : parse_defaults_file(read_file(*file), *file)) {
      auto where = *file + ":" + std::to_string(s.line) + ": ";
      const auto& spec = require_key(s.key, where);
      origin o;
      o.what = origin::kind::file;
      o.file = *file;
      o.line = s.line;
      set[spec.name] = {std::move(s.text), std::move(o), std::move(where)};
    }
  }
  for (const auto& kv : options.conf) {
    auto eq = kv.find('=');
    if (eq == std::string::npos)
      throw config_error("--conf '" + kv + "': expected key=value");
    auto key = trim(std::string_view(kv).substr(0, eq));
    const auto& spec = require_key(key, "");
    origin o;
    o.what = origin::kind::conf;
    set[spec.name] = {kv.substr(eq + 1), std::move(o), ""};
  }
  for (const auto& f : options.flags) {
    auto where = f.flag + ": ";
    const auto& spec = require_key(f.key, where);
    origin o;
    o.what = origin::kind::flag;
    o.flag = f.flag;
    set[spec.name] = {f.text, std::move(o), std::move(where)};
  }

  config c;
  c.defaults_file_ = file;
  const auto& reg = registry();
  c.entries_.resize(reg.size());
  std::vector<bool> done(reg.size(), false);
  // Resolves entry i, resolving the key it inherits from first.
  auto resolve = [&](auto& self, std::size_t i) -> void {
    if (done[i])
      return;
    const auto& spec = reg[i];
    auto& e = c.entries_[i];
    e.spec = &spec;
    if (auto it = set.find(spec.name); it != set.end()) {
      auto p = parse_value(spec, it->second.text);
      if (!p)
        throw config_error(it->second.where + std::string(spec.name) + ": " + p.error);
      e.value = std::move(*p.value);
      e.origin = it->second.origin;
    } else if (!spec.inherits.empty()) {
      auto parent = find_key(spec.inherits);
      if (parent == nullptr || parent->type != spec.type)
        throw std::logic_error("config registry: " + std::string(spec.name)
                               + " inherits from a missing key or one of another type");
      auto pi = static_cast<std::size_t>(parent - reg.data());
      self(self, pi);
      const auto& pe = c.entries_[pi];
      auto p = parse_value(spec, format_value(spec, pe.value));
      if (!p)  // the parent's value is outside this key's own range
        throw config_error(std::string(spec.name) + ": inherited from " + std::string(parent->name) + " ("
                           + pe.origin.describe() + "): " + p.error);
      e.value = pe.value;
      e.origin.what = origin::kind::inherited;
      e.origin.parent = std::string(parent->name);
      e.origin.parent_origin = pe.origin.describe();
    } else {
      auto p = parse_value(spec, spec.default_text);
      if (!p)
        throw std::logic_error("config registry: default of " + std::string(spec.name) + " is invalid: "
                               + p.error);
      e.value = std::move(*p.value);
    }
    done[i] = true;
  };
  for (std::size_t i = 0; i < reg.size(); ++i)
    resolve(resolve, i);
  check_relations(c);
  return c;
}

config defaults() {
  load_options o;
  o.use_environment = false;
  return load(o);
}

// -- from_args ---------------------------------------------------------------------------

config from_args(int argc, const char* const* argv, std::vector<std::string>& remaining) {
  load_options options;
  remaining.clear();
  if (argc > 0)
    remaining.emplace_back(argv[0]);
  // Returns the option's value for `--opt X` or `--opt=X`, advancing i; nothing if not `opt`.
  auto take = [&](int& i, std::string_view opt) -> std::optional<std::string> {
    std::string_view arg = argv[i];
    if (arg == opt) {
      if (i + 1 >= argc)
        throw config_error(std::string(opt) + " needs a value");
      return std::string(argv[++i]);
    }
    if (arg.size() > opt.size() && arg.starts_with(opt) && arg[opt.size()] == '=')
      return std::string(arg.substr(opt.size() + 1));
    return std::nullopt;
  };
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--") {
      for (; i < argc; ++i)
        remaining.emplace_back(argv[i]);
      break;
    }
    if (auto v = take(i, "--conf"))
      options.conf.push_back(std::move(*v));
    else if (auto v = take(i, "--master"))
      options.flags.push_back({"--master", std::string(keys::master.name), std::move(*v)});
    else if (auto v = take(i, "--name"))
      options.flags.push_back({"--name", std::string(keys::app_name.name), std::move(*v)});
    else if (auto v = take(i, "--properties-file"))
      options.properties_file = std::move(*v);
    else
      remaining.emplace_back(argv[i]);
  }
  return load(options);
}

}  // namespace ember::config
