// `ember conf`: prints the configuration registry (key, default, unit, valid values, doc), the
// effective configuration with where each value came from, or the registry as Markdown.
#pragma once

#include <ostream>

#include "config/config.hpp"

namespace ember::cli {

void print_registry(std::ostream& out);
void print_effective(std::ostream& out, const config::config& c);
void print_markdown(std::ostream& out);

}  // namespace ember::cli
