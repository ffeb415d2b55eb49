// The real `ember` binary: `ember conf` lists the registry, `--effective` shows sources, config
// errors exit 2 with one line on stderr, EMBER_CONF_DIR is honoured, and docs/configuration.md
// holds exactly what `ember conf --markdown` prints.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "config/registry.hpp"
#include "tests/support/files.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;

namespace {

using ember_test::run_result;
using ember_test::slurp;
using ember_test::temp_dir;

// Runs EMBER_BIN_DIR/ember with `args`; EMBER_CONF_DIR is set to `conf_dir` or removed.
run_result run_ember(const std::vector<std::string>& args, std::optional<std::string> conf_dir = {}) {
  std::vector<std::string> argv{ember_test::bin_dir + "/ember"};
  argv.insert(argv.end(), args.begin(), args.end());
  ember_test::spawn_options o;
  if (conf_dir)
    o.env.emplace_back("EMBER_CONF_DIR", *conf_dir);
  else
    o.unset_env.push_back("EMBER_CONF_DIR");
  return ember_test::run(argv, o);
}

using ember_test::split_lines;

// The line of `table` whose first column is `key`.
std::string row(const std::string& table, const std::string& key) {
  for (auto& line : split_lines(table))
    if (line.starts_with(key + " "))
      return line;
  return {};
}

}  // namespace

TEST_CASE("ember conf lists every registry key with its default") {
  auto r = run_ember({"conf"});
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  auto all = split_lines(r.out);
  REQUIRE(all.size() == ember::config::registry().size() + 1);
  CHECK(all[0].starts_with("KEY "));
  for (std::size_t i = 0; i < ember::config::registry().size(); ++i) {
    const auto& spec = ember::config::registry()[i];
    CAPTURE(spec.name);
    CHECK(all[i + 1].starts_with(std::string(spec.name) + " "));
    CHECK(all[i + 1].find(std::string(spec.doc)) != std::string::npos);
  }
  auto memory = row(r.out, "ember.executor.memory");
  CHECK(memory.find(" 1g ") != std::string::npos);
  CHECK(memory.find(" MiB ") != std::string::npos);
  CHECK(row(r.out, "ember.locality.wait.node").find(" = ember.locality.wait ") != std::string::npos);
}

TEST_CASE("ember conf --effective shows values and where they came from") {
  temp_dir conf;
  std::ofstream(conf.path / "ember-defaults.conf") << "# site defaults\nember.executor.memory 2g\n"
                                                     "ember.task.maxFailures=6\n";
  auto r = run_ember({"--conf", "ember.task.maxFailures=8", "conf", "--effective", "--conf=ember.locality.wait=1s"},
                     conf.path.string());
  CHECK(r.err.empty());
  REQUIRE(r.exit_code == 0);
  auto file = (conf.path / "ember-defaults.conf").string();
  auto memory = row(r.out, "ember.executor.memory");
  CHECK(memory.find(" 2g ") != std::string::npos);
  CHECK(memory.ends_with(" " + file + ":2"));
  auto failures = row(r.out, "ember.task.maxFailures");
  CHECK(failures.find(" 8 ") != std::string::npos);
  CHECK(failures.ends_with(" --conf"));
  CHECK(row(r.out, "ember.locality.wait").ends_with(" --conf"));
  CHECK(row(r.out, "ember.locality.wait.rack").find(" 1s ") != std::string::npos);
  CHECK(row(r.out, "ember.locality.wait.rack").ends_with(" inherited from ember.locality.wait (--conf)"));
  CHECK(row(r.out, "ember.network.timeout").ends_with(" default"));
}

TEST_CASE("a misspelt key exits 2 with a did-you-mean on stderr") {
  auto r = run_ember({"--conf", "ember.executor.memroy=4g", "conf", "--effective"});
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(r.err
        == "ember: unknown configuration key 'ember.executor.memroy' (did you mean "
           "'ember.executor.memory'?)\n");
}

TEST_CASE("bad values in the defaults file exit 2 naming file and line") {
  temp_dir conf;
  std::ofstream(conf.path / "ember-defaults.conf") << "\nember.executor.memory 4x\n";
  auto r = run_ember({"conf", "--effective"}, conf.path.string());
  CHECK(r.exit_code == 2);
  CHECK(r.err == "ember: " + (conf.path / "ember-defaults.conf").string()
                     + ":2: ember.executor.memory: '4x' is not a size (expected e.g. 512m, 4g)\n");
}

TEST_CASE("--properties-file replaces the EMBER_CONF_DIR file") {
  temp_dir conf;
  std::ofstream(conf.path / "ember-defaults.conf") << "ember.executor.cores 3\n";
  std::ofstream(conf.path / "other.conf") << "ember.executor.cores 5\n";
  auto r = run_ember({"--properties-file", (conf.path / "other.conf").string(), "conf", "--effective"},
                     conf.path.string());
  REQUIRE(r.exit_code == 0);
  CHECK(row(r.out, "ember.executor.cores").find(" 5 ") != std::string::npos);
  auto missing = run_ember({"--properties-file", (conf.path / "nope.conf").string(), "conf"});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err == "ember: cannot read configuration file '" + (conf.path / "nope.conf").string() + "'\n");
}

TEST_CASE("usage errors exit 2; --help exits 0") {
  auto none = run_ember({});
  CHECK(none.exit_code == 2);
  CHECK(split_lines(none.err).size() == 1);
  auto bad = run_ember({"conf", "--bogus"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("--bogus") != std::string::npos);
  auto help = run_ember({"--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("conf") != std::string::npos);
}

TEST_CASE("docs/configuration.md embeds exactly `ember conf --markdown`") {
  auto r = run_ember({"conf", "--markdown"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == ember::config::registry_markdown());
  auto doc_path = fs::path(__FILE__).parent_path().parent_path().parent_path() / "docs" / "configuration.md";
  auto doc = slurp(doc_path);
  const std::string begin = "<!-- BEGIN GENERATED: ember conf --markdown -->\n";
  const std::string end = "<!-- END GENERATED -->";
  auto b = doc.find(begin);
  auto e = doc.find(end);
  REQUIRE(b != std::string::npos);
  REQUIRE(e != std::string::npos);
  CHECK_MESSAGE(doc.substr(b + begin.size(), e - b - begin.size()) == r.out,
                "docs/configuration.md is stale: regenerate the table with `ember conf --markdown`");
}
