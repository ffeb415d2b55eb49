// docs/configuration.md embeds the registry's Markdown table verbatim (runs without the binary;
// tests/integration/cli_conf_test.cpp checks `ember conf --markdown` prints the same text).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/registry.hpp"

TEST_CASE("docs/configuration.md holds the current registry table") {
  auto path = std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "docs"
              / "configuration.md";
  std::ifstream in(path);
  REQUIRE_MESSAGE(in, path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  const std::string begin = "<!-- BEGIN GENERATED: ember conf --markdown -->\n";
  const std::string end = "<!-- END GENERATED -->";
  auto b = doc.find(begin);
  auto e = doc.find(end);
  REQUIRE(b != std::string::npos);
  REQUIRE(e != std::string::npos);
  CHECK_MESSAGE(doc.substr(b + begin.size(), e - b - begin.size()) == ember::config::registry_markdown(),
                "docs/configuration.md is stale: paste the output of `ember conf --markdown` between the markers");
}
