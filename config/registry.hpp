// The registry of every configuration key Ember understands: name, type, default, unit, valid
// range and a one-line doc. Nothing reads a key that is not declared here; config.hpp resolves
// values against it and `ember conf` prints it. Also the size/duration parsers and formatters.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace ember::config {

// -- types ---------------------------------------------------------------------

enum class key_type { boolean, integer, real, size, duration, string, enumeration };

std::string_view to_string(key_type t);

// A resolved value: bool for boolean; int64 for integer, size (bytes) and duration (ms);
// double for real; string for string and enumeration (enums hold the canonical spelling).
using value = std::variant<bool, std::int64_t, double, std::string>;

// Size multipliers (binary, as Spark: 1k = 1024 bytes).
inline constexpr std::int64_t bytes = 1;
inline constexpr std::int64_t kib = 1024;
inline constexpr std::int64_t mib = 1024 * kib;
inline constexpr std::int64_t gib = 1024 * mib;
// Duration multipliers in milliseconds.
inline constexpr std::int64_t millis = 1;
inline constexpr std::int64_t seconds = 1000;

// Upper bounds of every size and duration, so that no use can overflow: a duration in ms turned
// into ns (steady_clock) or added to a time point, a size multiplied by a small factor. 1 PiB and
// 365 days are far beyond any real setting; larger values are refused when parsed.
inline constexpr std::int64_t max_size_bytes = gib * 1024 * 1024;        // 1p
inline constexpr std::int64_t max_duration_ms = std::int64_t{365} * 24 * 3600 * 1000;  // 365d

// Extra validation of a string value; returns an error text ("expected ...") or nothing.
using string_check = std::optional<std::string> (*)(std::string_view);

struct key_spec {
  std::string_view name;
  key_type type = key_type::string;
  // The default, written as a user would write it (parsed by the same parser as user values).
  // Ignored when `inherits` is set.
  std::string_view default_text;
  // When set and the key is given by no source, it takes this key's resolved value.
  std::string_view inherits;
  // size: bytes per plain number; duration: ms per plain number (follows Spark per key).
  std::int64_t plain_unit = 1;
  // Inclusive range for integer, size (bytes) and duration (ms).
  std::int64_t min_int = 0;
  std::int64_t max_int = INT64_MAX;
  // Range for real: min_real < x (or <= when !min_exclusive), x <= max_real.
  double min_real = 0.0;
  double max_real = 1.0;
  bool min_exclusive = false;
  // enumeration: allowed values separated by '|', canonical spelling (matched case-insensitively).
  std::string_view choices;
  string_check check = nullptr;
  std::string_view doc;

  // "B", "KiB", "MiB", "ms", "s" or "" — the unit of a plain number.
  std::string unit() const;
  std::vector<std::string_view> allowed() const;
  // Human-readable valid range/values, e.g. "1..65535", "one of lz4, none", "0 < x <= 1".
  std::string valid() const;
};

// -- the registry ---------------------------------------------------------------

// Every key, sorted by name.
const std::vector<key_spec>& registry();

// nullptr when the key is not declared.
const key_spec* find_key(std::string_view name);

// The closest declared key to a misspelt one (edit distance with transpositions <= 3, or a
// `spark.` key whose `ember.` twin exists), or nothing.
std::optional<std::string_view> suggest_key(std::string_view name);

// The text without leading and trailing whitespace (keys and values in files and --conf).
std::string_view trim(std::string_view s);

// Optimal-string-alignment distance (Levenshtein plus adjacent transpositions).
std::size_t edit_distance(std::string_view a, std::string_view b);

// -- parsing and formatting -------------------------------------------------------

// The outcome of parsing one value: either a value or an error text that does not yet name
// the key (the caller prefixes it), e.g. "'4x' is not a size (expected e.g. 512m, 4g)".
template <class T>
struct parsed {
  std::optional<T> value;
  std::string error;
  explicit operator bool() const { return value.has_value(); }
};

// "512m", "4g", "64k", "100b", "1t", "2p" (case-insensitive, optional trailing 'b': "4gb");
// a plain number is multiplied by `plain_unit`. Result in bytes.
parsed<std::int64_t> parse_size(std::string_view text, std::int64_t plain_unit = bytes);

// "500ms", "30s", "2m"/"2min", "1h", "1d" (Spark: `m` is minutes); a plain number is
// multiplied by `plain_unit` (ms). Result in milliseconds.
parsed<std::int64_t> parse_duration(std::string_view text, std::int64_t plain_unit = millis);

// Largest exact unit: 50331648 -> "48m", 1536 -> "1536b"... zero -> "0".
std::string format_size(std::int64_t bytes);
// For people, one decimal: 8589934592 -> "8.0 GiB", 512 -> "512 B".
std::string human_bytes(std::uint64_t bytes);
// Hours if exact, else seconds if exact, else ms: 120000 -> "120s", 3600000 -> "1h", 0 -> "0".
std::string format_duration(std::int64_t ms);

// Parses and range-checks `text` for `spec`; the error names neither key nor source.
parsed<value> parse_value(const key_spec& spec, std::string_view text);

// The canonical text of a value of `spec`'s type (what `ember conf --effective` prints).
std::string format_value(const key_spec& spec, const value& v);

// The registry as a Markdown table (key, type, default, unit, valid, doc): docs/configuration.md
// embeds exactly this text between its GENERATED markers.
std::string registry_markdown();

}  // namespace ember::config
