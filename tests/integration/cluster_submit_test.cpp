// `ember submit` as a user runs it: flag validation through the config registry, client mode in
// local mode against a direct run, and on a real standalone cluster (scripts/ember-cluster) in
// client and cluster deploy mode, with output identical to local mode.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/cluster.hpp"
#include "tests/integration/engine_test_util.hpp"

namespace fs = std::filesystem;
using ember_test::free_port;
using ember_test::run_result;
using ember_test::sh;
using ember_test::slurp;
using ember_test::temp_dir;

namespace {

const fs::path repo_root = fs::path{__FILE__}.parent_path().parent_path().parent_path();
const std::string launcher = (repo_root / "scripts" / "ember-cluster").string();
using ember_test::bin_dir;
using ember_test::eventually;
const std::string ember_bin = bin_dir + "/ember";
const std::string wordcount = bin_dir + "/wordcount";

run_result submit(const std::string& args, const fs::path& dir) {
  return sh("'" + ember_bin + "' submit " + args, dir);
}

// Whether `ember submit --status` says the driver finished; `last` keeps what it said.
bool driver_finished(const std::string& url, const std::string& driver_id, const fs::path& dir,
                     std::string* last = nullptr) {
  auto s = submit("--master " + url + " --status " + driver_id, dir);
  if (last)
    *last = s.out;
  return s.exit_code == 0 && s.out.starts_with("Driver " + driver_id + " is FINISHED");
}

// Word-count input over a few files: word wK occurs 3K times, so every count (and the top 10) is
// unique and the expected output does not depend on how ties are broken.
void write_input(const fs::path& dir) {
  fs::create_directories(dir);
  for (int f = 0; f < 3; ++f) {
    std::ofstream out{dir / ("in-" + std::to_string(f) + ".txt")};
    int on_line = 0;
    for (int k = 1; k <= 300; ++k)
      for (int i = 0; i < k; ++i)
        out << 'w' << k << (++on_line % 12 == 0 ? '\n' : ' ');
    out << '\n';
  }
}

// The part files' lines, sorted (partitioning may differ between runs, the counts may not).
std::vector<std::string> output_lines(const fs::path& dir) {
  auto lines = ember_test::part_file_lines(dir);
  std::sort(lines.begin(), lines.end());
  return lines;
}

// The reference: wordcount run directly in local mode.
struct reference {
  std::string top;                 // stdout: the 10 most frequent words
  std::vector<std::string> lines;  // every word's count
};
reference local_reference(const fs::path& input, const fs::path& dir) {
  auto out = dir / "reference-out";
  auto r = sh("'" + wordcount + "' --master 'local[2]' '" + input.string() + "' '" + out.string() + "'", dir);
  REQUIRE(r.exit_code == 0);
  return {r.out, output_lines(out)};
}

// A standalone cluster started by scripts/ember-cluster, stopped at the end of the scope.
struct cluster {
  fs::path run_dir;
  fs::path scratch;
  std::string url;
  std::string env;
  // extra_env: more VAR=value settings for the launcher (and so the master and workers).
  cluster(const fs::path& dir, int workers, const std::string& extra_env = "")
      : run_dir(dir / "run"), scratch(dir / "launcher") {
    fs::create_directories(scratch);
    int port = free_port();
    url = "ember://127.0.0.1:" + std::to_string(port);
    env = "EMBER_BIN='" + ember_bin + "' EMBER_START_TIMEOUT=60 EMBER_STOP_TIMEOUT=60 " + extra_env + " ";
    auto r = sh(env + launcher + " start --workers " + std::to_string(workers) + " --cores 2 --memory 1g --port "
                    + std::to_string(port) + " --run-dir '" + run_dir.string() + "'",
                scratch);
    INFO("start: " << r.err);
    REQUIRE(r.exit_code == 0);
  }
  ~cluster() { sh(env + launcher + " stop --run-dir '" + run_dir.string() + "'", scratch); }
  cluster(const cluster&) = delete;
  cluster& operator=(const cluster&) = delete;

  nlohmann::json state(const fs::path& dir) const {
    auto r = sh("'" + ember_bin + "' status --all --json --master " + url, dir);
    REQUIRE(r.exit_code == 0);
    return nlohmann::json::parse(r.out);
  }
};

}  // namespace

TEST_CASE("submit: bad flags and values fail with exit 2, naming the key or flag") {
  temp_dir dir;
  struct bad {
    std::string args;
    std::string named;
  };
  std::vector<bad> cases{
      {"--executor-memory 4x " + wordcount, "ember.executor.memory"},
      {"--executor-cores 0 " + wordcount, "ember.executor.cores"},
      {"--num-executors -1 " + wordcount, "ember.executor.instances"},
      {"--total-executor-cores lots " + wordcount, "ember.cores.max"},
      {"--driver-memory 1q " + wordcount, "ember.driver.memory"},
      {"--conf ember.executor.memroy=2g " + wordcount, "ember.executor.memroy"},
      {"--conf ember.task.maxFailures=zero " + wordcount, "ember.task.maxFailures"},
      {"--master yarn " + wordcount, "ember.master"},
      {"--deploy-mode remote " + wordcount, "--deploy-mode"},
      {"--supervise --master 'local[2]' " + wordcount, "--supervise"},
      {"--deploy-mode cluster --master 'local[2]' " + wordcount, "--deploy-mode cluster"},
      {"--kill driver-1 --master 'local[2]'", "--kill"},
      {"--no-such-flag " + wordcount, "--no-such-flag"},
      {"--executor-memory", "--executor-memory needs a value"},
      {"--master 'local[2]'", "missing the application binary"},
      {"--master 'local[2]' " + (dir.path / "nope").string(), "not found"},
  };
  for (auto& c : cases) {
    auto r = submit(c.args, dir.path);
    INFO("ember submit " << c.args << "\nstderr: " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(r.err.find(c.named) != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
}

TEST_CASE("submit: an unreachable master is one clear line and exit 1") {
  temp_dir dir;
  std::string url = "ember://127.0.0.1:" + std::to_string(free_port());
  for (std::string args : {"--deploy-mode cluster --master " + url + " " + wordcount + " a b",
                           "--master " + url + " --status driver-1", "--master " + url + " --kill driver-1"}) {
    auto r = submit(args, dir.path);
    INFO("ember submit " << args << "\nstderr: " << r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.err.starts_with("ember submit: cannot reach the master at " + url));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
  auto s = sh("'" + ember_bin + "' status --json --master " + url, dir.path);
  CHECK(s.exit_code == 1);
  CHECK(s.err.starts_with("ember status: cannot reach the master at " + url));
}

TEST_CASE("submit: client mode with local[2] runs the application like a direct run") {
  temp_dir dir;
  write_input(dir.path / "input");
  auto ref = local_reference(dir.path / "input", dir.path);
  auto out = dir.path / "submitted-out";
  auto r = submit("--master 'local[2]' --name wc --executor-memory 512m --conf ember.default.parallelism=3 '"
                      + wordcount + "' '" + (dir.path / "input").string() + "' '" + out.string() + "'",
                  dir.path);
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == ref.top);
  CHECK(output_lines(out) == ref.lines);
  CHECK(!ref.lines.empty());

  // The application's exit code is submit's: wordcount without an output directory says usage (2).
  auto usage = submit("--master 'local[2]' '" + wordcount + "' only-one-arg", dir.path);
  CHECK(usage.exit_code == 2);
  CHECK(usage.err.find("usage: wordcount") != std::string::npos);
}

TEST_CASE("submit: on a standalone cluster, client and cluster deploy mode give local mode's output") {
  temp_dir dir;
  auto root = fs::weakly_canonical(dir.path);
  write_input(root / "input");
  auto ref = local_reference(root / "input", root);
  cluster c{root, 2};

  SUBCASE("client mode: the driver runs in the submitting process, executors on the workers") {
    auto out = root / "client-out";
    auto r = submit("--master " + c.url + " --name wc-client --executor-cores 1 --num-executors 2 '" + wordcount
                        + "' '" + (root / "input").string() + "' '" + out.string() + "'",
                    root);
    INFO("stderr: " << r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == ref.top);
    CHECK(output_lines(out) == ref.lines);
    auto state = c.state(root);
    REQUIRE(state["apps"].size() == 1);
    auto& app = state["apps"][0];
    CHECK(app["name"] == "wc-client");
    CHECK(app["state"] == "finished");
  }

  SUBCASE("cluster mode: a worker runs the driver; --status follows it to FINISHED") {
    auto out = root / "cluster-out";
    auto r = submit("--master " + c.url + " --deploy-mode cluster --name wc-cluster '" + wordcount + "' '"
                        + (root / "input").string() + "' '" + out.string() + "'",
                    root);
    INFO("stderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    std::smatch m;
    REQUIRE(std::regex_match(r.out, m, std::regex{"Submitted driver (\\S+) to " + c.url + "\n"}));
    std::string driver_id = m[1];

    std::string last;
    CHECK(eventually([&] { return driver_finished(c.url, driver_id, root, &last); }, std::chrono::seconds{120}));
    INFO("last status: " << last);
    CHECK(output_lines(out) == ref.lines);
    // The driver's stdout is in its directory under a worker's work dir (work/<worker>/<driver>).
    // Only the worker dirs are listed: below them the worker may be removing the application's
    // executor dirs right now, and a recursive walk failed when one vanished under it.
    std::vector<fs::path> stdouts;
    for (auto& worker : fs::directory_iterator(c.run_dir / "work"))
      if (fs::exists(worker.path() / driver_id / "stdout"))
        stdouts.push_back(worker.path() / driver_id / "stdout");
    REQUIRE(stdouts.size() == 1);
    CHECK(slurp(stdouts[0]) == ref.top);

    auto state = c.state(root);
    REQUIRE(state["drivers"].size() == 1);
    CHECK(state["drivers"][0]["driverId"] == driver_id);
    CHECK(state["drivers"][0]["state"] == "finished");

    auto unknown = submit("--master " + c.url + " --status driver-that-never-was", root);
    CHECK(unknown.exit_code == 1);
    CHECK(unknown.out == "Driver driver-that-never-was not found on " + c.url + "\n");
  }
}

// The binary a cluster-mode driver runs is the one ember submit hands over, whatever the workers'
// hosts hold at that path. The submitter's copy lives in a mount namespace of its own (a tmpfs
// only it sees), so the worker can only have it from the master.
TEST_CASE("submit: cluster mode ships the driver's binary through the master") {
  temp_dir dir;
  auto root = fs::weakly_canonical(dir.path);
  write_input(root / "input");
  auto ref = local_reference(root / "input", root);
  cluster c{root, 2};
  auto hidden = root / "hidden";
  fs::create_directories(hidden);
  auto out = root / "shipped-out";
  auto app = hidden / "wc-app";
  auto r = sh("{ unshare --mount --propagation private sh -c \"mount -t tmpfs tmpfs '" + hidden.string() + "' && cp '"
                  + wordcount + "' '" + app.string() + "' && '" + ember_bin + "' submit --master " + c.url
                  + " --deploy-mode cluster '" + app.string() + "' '" + (root / "input").string() + "' '"
                  + out.string() + "'\"; }",
              root);
  INFO("stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(!fs::exists(app));  // the workers' view: no such file
  std::smatch m;
  REQUIRE(std::regex_match(r.out, m, std::regex{"Submitted driver (\\S+) to " + c.url + "\n"}));
  std::string driver_id = m[1];
  CHECK(eventually([&] { return driver_finished(c.url, driver_id, root); }, std::chrono::seconds{120}));
  CHECK(output_lines(out) == ref.lines);
  // The worker fetched it from the master and ran its verified copy: <work>/binaries/<sha256>.
  auto digest = sh("sha256sum '" + wordcount + "' | cut -d' ' -f1", root).out;
  digest.erase(digest.find_last_not_of('\n') + 1);
  bool fetched = false;
  for (auto& w : fs::directory_iterator(c.run_dir / "work"))
    fetched = fetched || fs::exists(w.path() / "binaries" / digest);
  CHECK(fetched);
  CHECK(slurp(c.run_dir / "logs" / "master.log").find("binary store: stored " + digest) != std::string::npos);
}

TEST_CASE("submit: a binary larger than ember.master.binaryStore.maxSize is refused in one line") {
  temp_dir dir;
  auto root = fs::weakly_canonical(dir.path);
  fs::create_directories(root / "conf");
  std::ofstream(root / "conf" / "ember-defaults.conf") << "ember.master.binaryStore.maxSize 1m\n";
  cluster c{root, 1, "EMBER_CONF_DIR='" + (root / "conf").string() + "'"};
  auto r = submit("--master " + c.url + " --deploy-mode cluster '" + wordcount + "' in out", root);
  CHECK(r.exit_code == 1);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(r.err.find("refused the driver") != std::string::npos);
  CHECK(r.err.find("more than ember.master.binaryStore.maxSize (1m)") != std::string::npos);
  CHECK(c.state(root)["drivers"].empty());
}
