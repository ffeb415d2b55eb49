#include "cli/conf_command.hpp"
#include "security/secret.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <vector>

namespace ember::cli {

namespace {

// Prints rows as left-aligned columns separated by two spaces; the last column is not padded.
template <std::size_t N>
void print_table(std::ostream& out, const std::vector<std::array<std::string, N>>& rows) {
  std::array<std::size_t, N> width{};
  for (const auto& row : rows)
    for (std::size_t i = 0; i < N; ++i)
      width[i] = std::max(width[i], row[i].size());
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < N; ++i) {
      line += row[i];
      if (i + 1 < N)
        line.append(width[i] - row[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ')
      line.pop_back();
    out << line << '\n';
  }
}

std::string default_column(const config::key_spec& spec) {
  if (!spec.inherits.empty())
    return "= " + std::string(spec.inherits);
  if (spec.default_text.empty())
    return "(empty)";
  return std::string(spec.default_text);
}

}  // namespace

void print_registry(std::ostream& out) {
  std::vector<std::array<std::string, 5>> rows;
  rows.push_back({"KEY", "DEFAULT", "UNIT", "VALID", "DESCRIPTION"});
  for (const auto& spec : config::registry())
    rows.push_back({std::string(spec.name), default_column(spec), spec.unit(), spec.valid(),
                    std::string(spec.doc)});
  print_table(out, rows);
}

void print_effective(std::ostream& out, const config::config& c) {
  std::vector<std::array<std::string, 3>> rows;
  rows.push_back({"KEY", "VALUE", "SOURCE"});
  for (const auto& e : c.entries()) {
    std::string value = config::format_value(*e.spec, e.value);
    if (security::is_secret_key(e.spec->name) && !value.empty())
      value = security::redacted;  // never echo the secret
    else if (value.empty())
      value = "(empty)";
    rows.push_back({std::string(e.spec->name), std::move(value), e.origin.describe()});
  }
  print_table(out, rows);
}

void print_markdown(std::ostream& out) {
  out << config::registry_markdown();
}

}  // namespace ember::cli
