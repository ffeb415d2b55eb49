// The real `ember` binary's command line as a whole: `ember --help` lists every subcommand with a
// description, `--version` prints the version of the top-level CMakeLists.txt, every subcommand's
// --help shows examples, and a wrong subcommand or option is one line on stderr with exit 2.
#include <doctest/doctest.h>

#include <filesystem>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "tests/support/files.hpp"
#include "tests/support/process.hpp"

namespace fs = std::filesystem;

namespace {

using ember_test::run_result;

// Every subcommand cli/main.cpp dispatches.
const std::set<std::string> subcommands{"master", "worker", "submit", "status", "history-server", "conf", "chaos", "version"};

run_result run_ember(const std::vector<std::string>& args) {
  std::vector<std::string> argv{ember_test::bin_dir + "/ember"};
  argv.insert(argv.end(), args.begin(), args.end());
  ember_test::spawn_options o;
  o.unset_env.push_back("EMBER_CONF_DIR");
  return ember_test::run(argv, o);
}

using ember_test::split_lines;

// The lines after `heading` up to the next empty line.
std::vector<std::string> section(const std::string& text, const std::string& heading) {
  std::vector<std::string> out;
  bool inside = false;
  for (auto& line : split_lines(text)) {
    if (inside && line.empty())
      break;
    if (inside)
      out.push_back(line);
    if (line == heading)
      inside = true;
  }
  return out;
}

// The version in the top-level CMakeLists.txt's project(ember VERSION x.y.z ...).
std::string cmake_version() {
  auto root = fs::path(__FILE__).parent_path().parent_path().parent_path();
  auto text = ember_test::slurp(root / "CMakeLists.txt");
  std::smatch m;
  REQUIRE(std::regex_search(text, m, std::regex{R"(project\(ember VERSION ([0-9.]+))"}));
  return m[1];
}

}  // namespace

TEST_CASE("ember --help lists every subcommand with a description") {
  auto r = run_ember({"--help"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());
  std::set<std::string> listed;
  for (auto& line : section(r.out, "Subcommands:")) {
    std::smatch m;
    CAPTURE(line);
    REQUIRE(std::regex_match(line, m, std::regex{R"(  ([a-z-]+) +(\S.*))"}));
    listed.insert(m[1]);
  }
  CHECK(listed == subcommands);
  CHECK(r.out.find("\nExamples:\n") != std::string::npos);
}

TEST_CASE("ember --version and ember version print the CMake project version") {
  auto version = cmake_version();
  // The commit is optional: a source tree outside git has none.
  std::regex expected{"ember " + std::regex_replace(version, std::regex{R"(\.)"}, R"(\.)")
                      + R"(( \(git [0-9a-f]{7,40}\))?\n)"};
  auto flag = run_ember({"--version"});
  CHECK(flag.exit_code == 0);
  CHECK(flag.err.empty());
  CAPTURE(flag.out);
  CHECK(std::regex_match(flag.out, expected));
  auto command = run_ember({"version"});
  CHECK(command.exit_code == 0);
  CHECK(command.out == flag.out);
}

TEST_CASE("every subcommand's --help has a description and examples") {
  for (auto& name : subcommands) {
    CAPTURE(name);
    auto r = run_ember({name, "--help"});
    CHECK(r.exit_code == 0);
    CHECK(r.err.empty());
    auto first = split_lines(r.out).at(0);  // the description comes first
    CHECK(first.size() > 10);
    CHECK_FALSE(first.starts_with("usage"));
    CHECK_FALSE(first.starts_with("Usage"));
    auto examples = section(r.out, "Examples:");
    int commands = 0;
    for (auto& line : examples)
      if (line.starts_with("  ember " + name) || line.starts_with("  ember --")
          || line.starts_with("  EMBER_CONF_DIR="))
        ++commands;
    CHECK(commands >= 2);
  }
}

TEST_CASE("a wrong subcommand or option is one line on stderr and exit 2") {
  struct bad_case {
    std::vector<std::string> args;
    std::string line;
  };
  const std::vector<bad_case> cases{
      {{"frobnicate"},
       "ember: unknown subcommand 'frobnicate': expected master, worker, submit, status, history-server, conf, chaos or version "
       "(see ember --help)"},
      {{"--frobnicate"}, "ember: unknown option '--frobnicate' (see ember --help)"},
      {{"--conf", "ember.executor.cores=2", "frobnicate"},
       "ember: unknown subcommand 'frobnicate': expected master, worker, submit, status, history-server, conf, chaos or version "
       "(see ember --help)"},
      {{}, "ember: missing the subcommand: master, worker, submit, status, history-server, conf, chaos or version (see ember --help)"},
      {{"master", "--frobnicate"}, "ember master: unknown option '--frobnicate' (see ember master --help)"},
      {{"master", "extra"}, "ember master: unexpected argument 'extra' (see ember master --help)"},
      {{"submit", "--frobnicate"}, "ember submit: unknown option '--frobnicate' (see ember submit --help)"},
      {{"status", "--frobnicate"}, "ember status: unknown argument '--frobnicate' (see ember status --help)"},
      {{"--conf", "ember.executor.cores=2", "chaos", "x.json"},
       "ember chaos: takes no --conf or --properties-file (see ember chaos --help)"},
  };
  for (auto& c : cases) {
    CAPTURE(c.line);
    auto r = run_ember(c.args);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(r.err == c.line + "\n");
  }
}

TEST_CASE("global options before submit reach it; the application's arguments stay untouched") {
  // submit --verbose prints the driver's command line; /bin/echo as the "application" prints its
  // arguments, so both show what the driver got.
  auto r = run_ember({"--conf", "ember.app.name=from-global", "submit", "--verbose", "--master", "local[1]",
                      "/bin/echo", "--master", "x", "--help"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "--master local[1] --name from-global --master x --help\n");
  auto bad = run_ember({"--conf", "ember.no.such.key=1", "submit", "/bin/true"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err == "ember submit: unknown configuration key 'ember.no.such.key'\n");
}
