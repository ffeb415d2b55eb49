// Ember as an application developer gets it from `cmake --install build --prefix P`: the template
// project examples/standalone configured and built OUT of the tree with find_package(Ember) and
// only P on CMAKE_PREFIX_PATH, run in local mode, then on a cluster started by the installed
// ember-cluster and submitted with the installed ember (client and cluster mode); the same
// main.cpp built with `g++ $(pkg-config --cflags --libs ember)`; the installed ember-chaos. Every
// answer is compared with coreutils' word counts.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/integration/install_test_util.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/files.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;
using ember_test::eventually;
using ember_test::free_port;
using ember_test::slurp;
using ember_test::temp_dir;
using namespace install_test;

namespace {

// `cmake --install` of this build into `prefix`.
void install_into(const fs::path& prefix) {
  must_run({"cmake", "--install", build_dir.string(), "--prefix", prefix.string()});
}

// Every regular file under `dir` (recursively) whose bytes contain `needle`.
std::vector<std::string> files_mentioning(const fs::path& dir, const std::string& needle) {
  std::vector<std::string> found;
  for (auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && slurp(e.path()).find(needle) != std::string::npos)
      found.push_back(e.path().string());
  return found;
}

// Stops the installed launcher's cluster at the end of the scope, whatever happened.
struct cluster_guard {
  fs::path launcher, run_dir;
  ~cluster_guard() {
    ember_test::run({launcher.string(), "stop", "--run-dir", run_dir.string()},
                    clean_env({{"EMBER_STOP_TIMEOUT", "60"}}));
  }
};

} // namespace

TEST_CASE("installed: the layout, and no installed file names the source or build tree") {
  temp_dir dir{"ember-install"};
  auto prefix = dir.path / "prefix";
  install_into(prefix);
  for (auto rel : {"bin/ember", "bin/ember-cluster", "bin/ember-chaos", "include/ember/ember.hpp",
                   "include/ember/api/dataset.hpp", "lib/libember_api.a", "lib/cmake/Ember/EmberConfig.cmake",
                   "lib/cmake/Ember/EmberConfigVersion.cmake", "lib/cmake/Ember/EmberTargets.cmake",
                   "lib/cmake/Ember/FindCAF.cmake", "lib/pkgconfig/ember.pc", "libexec/ember/gen_text",
                   "libexec/ember/ember", "share/ember/conf/workers.template", "share/ember/fault/worker_kill.json",
                   "share/doc/ember/README.md", "share/doc/ember/docs/getting-started.md",
                   "share/doc/ember/examples/standalone/CMakeLists.txt"})
    CHECK_MESSAGE(fs::exists(prefix / rel), std::string{rel});
  // Private folders stay private; generated Cap'n Proto headers are not needed.
  for (auto rel : {"include/ember/actors", "include/ember/protocol", "include/ember/config", "include/ember/deploy",
                   "include/ember/api/ember.hpp"})
    CHECK_MESSAGE(!fs::exists(prefix / rel), std::string{rel});
  CHECK(fs::read_symlink(prefix / "libexec/ember/ember") == fs::path{"../../bin/ember"});
  // Relocatable: what an application's build reads must not point back at this checkout.
  for (auto sub : {"include", "lib/cmake", "lib/pkgconfig", "bin/ember-cluster", "bin/ember-chaos"}) {
    auto p = prefix / sub;
    auto hits = fs::is_directory(p) ? files_mentioning(p, source_dir.string()) : std::vector<std::string>{};
    if (!fs::is_directory(p) && slurp(p).find(source_dir.string()) != std::string::npos)
      hits.push_back(p.string());
    CHECK_MESSAGE(hits.empty(), std::string{sub} << " names " << source_dir.string() << ": "
                                                 << (hits.empty() ? "" : hits.front()));
  }
  // The one public entry: <ember/ember.hpp> includes only <ember/...> headers.
  auto top = slurp(prefix / "include/ember/ember.hpp");
  CHECK(top.find("#include <ember/api/context.hpp>") != std::string::npos);
  CHECK(top.find("#include \"") == std::string::npos);

  // Exactly what <ember/ember.hpp> needs is installed: the preprocessor's list of the headers it
  // reads under include/ (-MM: not the system's) is every installed header, no more.
  auto probe = dir.path / "probe.cpp";
  ember_test::write_file(probe, "#include <ember/ember.hpp>\n");
  auto deps = must_run({"g++", "-std=c++20", "-MM", "-I", (prefix / "include").string(), probe.string()}).out;
  std::set<std::string> read, installed;
  std::regex header{"\\S+/include/(ember/\\S+\\.hpp)"};
  for (std::sregex_iterator i{deps.begin(), deps.end(), header}, end; i != end; ++i)
    read.insert((*i)[1]);
  for (auto& e : fs::recursive_directory_iterator(prefix / "include"))
    if (e.is_regular_file())
      installed.insert(fs::relative(e.path(), prefix / "include").string());
  INFO("installed but not read by <ember/ember.hpp> (or the reverse): see ember_public_headers in cmake/install.cmake");
  CHECK(read == installed);
}

TEST_CASE("installed: examples/standalone builds out of the tree and counts words locally and on a cluster") {
  temp_dir dir{"ember-install"};
  auto prefix = dir.path / "prefix";
  install_into(prefix);
  auto app = build_standalone(prefix, dir.path / "app");

  auto input = dir.path / "input.txt";
  write_input(prefix / "libexec/ember/gen_text", input);
  auto reference = reference_counts(input);
  REQUIRE(reference.size() > 1000);
  auto distinct = std::to_string(reference.size()) + " distinct words\n";
  std::string small_splits = "ember.files.maxPartitionBytes=256k";

  // Local mode (one build serves both parts: no SUBCASE, which would build it twice).
  auto local_out = dir.path / "out-local";
  auto local = must_run({app.string(), "--master", "local[2]", "--conf", small_splits, input.string(),
                         local_out.string()});
  CHECK(local.out == distinct);
  CHECK(sorted_output(local_out) == reference);

  // On a cluster of the installed ember-cluster, submitted with the installed ember.
  {
    auto run_dir = dir.path / "run";
    auto launcher = prefix / "bin/ember-cluster";
    auto ember = prefix / "bin/ember";
    int port = free_port();
    std::string url = "ember://127.0.0.1:" + std::to_string(port);
    cluster_guard guard{launcher, run_dir};
    auto started = must_run({launcher.string(), "start", "--workers", "2", "--cores", "2", "--memory", "1g",
                             "--port", std::to_string(port), "--run-dir", run_dir.string()},
                            clean_env({{"EMBER_START_TIMEOUT", "60"}}));
    CHECK(started.out.starts_with("cluster ready: " + url + ", 2 workers"));
    // The launcher started the installed ember, not one of a build tree.
    auto pid_text = slurp(run_dir / "pids/master.pid");
    auto cmdline = slurp(fs::path{"/proc"} / pid_text.substr(0, pid_text.find_first_of(" \n")) / "cmdline");
    CHECK(cmdline.starts_with(ember.string() + std::string(1, '\0') + "master"));

    auto client_out = dir.path / "out-client";
    auto client = must_run({ember.string(), "submit", "--master", url, "--conf", "ember.driver.host=127.0.0.1",
                            "--conf", small_splits, "--num-executors", "2", app.string(), input.string(),
                            client_out.string()});
    CHECK(client.out == distinct);
    CHECK(sorted_output(client_out) == reference);

    auto cluster_out = dir.path / "out-cluster";
    auto submitted = must_run({ember.string(), "submit", "--master", url, "--deploy-mode", "cluster", "--conf",
                               small_splits, app.string(), input.string(), cluster_out.string()});
    std::smatch m;
    REQUIRE(std::regex_match(submitted.out, m, std::regex{"Submitted driver (\\S+) to " + url + "\n"}));
    std::string driver = m[1], last;
    INFO("last status: " << last);
    CHECK(eventually([&] {
      auto s = ember_test::run({ember.string(), "submit", "--master", url, "--status", driver}, clean_env());
      last = s.out;
      return s.out.starts_with("Driver " + driver + " is FINISHED");
    }, std::chrono::seconds{120}, std::chrono::milliseconds{200}));
    CHECK(sorted_output(cluster_out) == reference);

    // Both ran on the cluster's executors: the master lists two finished word_count applications.
    std::string status;
    INFO("ember status: " << status);
    CHECK(eventually([&] {
      auto r = ember_test::run({ember.string(), "status", "--master", url, "--json", "--all"}, clean_env());
      status = r.out;
      auto state = nlohmann::json::parse(r.out, nullptr, false);
      int finished = 0;
      if (state.is_object())
        for (auto& a : state["apps"])
          finished += a["name"] == "word_count" && a["state"] == "finished";
      return finished == 2;
    }, std::chrono::seconds{30}, std::chrono::milliseconds{200}));
  }
}

TEST_CASE("installed: pkg-config --cflags --libs ember builds the template's main.cpp") {
  temp_dir dir{"ember-install"};
  auto prefix = dir.path / "prefix";
  install_into(prefix);
  auto app = dir.path / "word_count";
  auto start = std::chrono::steady_clock::now();
  must_run({"/bin/sh", "-c",
            "flags=$(pkg-config --cflags --libs ember) && g++ -o " + ember_test::quoted(app.string()) + " "
                + ember_test::quoted((source_dir / "examples/standalone/main.cpp").string()) + " $flags"},
           clean_env({{"PKG_CONFIG_PATH", (prefix / "lib/pkgconfig").string()}}));
  MESSAGE("g++ $(pkg-config ...) built main.cpp in "
          << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() << " s");
  auto input = dir.path / "input.txt";
  write_input(prefix / "libexec/ember/gen_text", input);
  auto reference = reference_counts(input);
  auto out = dir.path / "out";
  auto r = must_run({app.string(), "--master", "local[2]", input.string(), out.string()});
  CHECK(r.out == std::to_string(reference.size()) + " distinct words\n");
  CHECK(sorted_output(out) == reference);
}

TEST_CASE("installed: ember-chaos runs a scenario with the installed programs and scenarios") {
  temp_dir dir{"ember-install"};
  auto prefix = dir.path / "prefix";
  install_into(prefix);
  auto report = dir.path / "report.json";
  auto r = must_run({(prefix / "bin/ember-chaos").string(), "--report", report.string(), "--temp-dir",
                     dir.path.string(), (prefix / "share/ember/fault/task_fail_once.json").string()});
  CHECK(r.out.find("1 of 1 scenario(s) passed") != std::string::npos);
  auto json = nlohmann::json::parse(slurp(report));
  REQUIRE(json["scenarios"].size() == 1);
  CHECK(json["scenarios"][0]["pass"] == true);
  CHECK(json["scenarios"][0]["outputMatches"] == true);
  CHECK(json["scenarios"][0]["tasksFailed"] == 1);
}
