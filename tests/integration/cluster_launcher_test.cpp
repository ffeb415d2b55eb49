// scripts/ember-cluster as a user runs it: start a master and workers on loopback, see them in
// `ember status --json`, stop them, and check that no process of that cluster is left.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/cluster.hpp"
#include "tests/integration/engine_test_util.hpp"

namespace fs = std::filesystem;
using ember_test::alive;
using ember_test::child;
using ember_test::eventually;
using ember_test::free_port;
using ember_test::run_result;
using ember_test::sh;
using ember_test::slurp;
using ember_test::temp_dir;

namespace {

const fs::path repo_root = fs::path{__FILE__}.parent_path().parent_path().parent_path();
const std::string launcher = (repo_root / "scripts" / "ember-cluster").string();
const std::string ember_bin = std::string{EMBER_BIN_DIR} + "/ember";

// Live processes that belong to the cluster of run_dir: the launcher's environment marker, or an
// `ember master`/`ember worker` command line naming the run directory.
std::set<int> cluster_processes(const fs::path& run_dir) {
  std::set<int> found;
  std::string marker = "EMBER_CLUSTER_RUN_DIR=" + run_dir.string();
  for (auto& e : fs::directory_iterator("/proc")) {
    auto name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos)
      continue;
    int pid = std::stoi(name);
    if (pid == ::getpid() || !alive(pid))
      continue;
    auto environ = slurp(e.path() / "environ");
    auto cmdline = slurp(e.path() / "cmdline");
    bool marked = false;
    for (std::size_t pos = 0; pos < environ.size();) {
      auto end = environ.find('\0', pos);
      if (environ.compare(pos, (end == std::string::npos ? environ.size() : end) - pos, marker) == 0)
        marked = true;
      if (end == std::string::npos)
        break;
      pos = end + 1;
    }
    bool ember_daemon = cmdline.find(std::string("ember\0master", 12)) != std::string::npos
                        || cmdline.find(std::string("ember\0worker", 12)) != std::string::npos;
    if (marked || (ember_daemon && cmdline.find(run_dir.string()) != std::string::npos))
      found.insert(pid);
  }
  return found;
}

int read_pid(const fs::path& pid_file) {
  std::ifstream in{pid_file};
  int pid = 0;
  in >> pid;
  return pid;
}

}  // namespace

TEST_CASE("ember-cluster: start --workers 2, status shows both, stop leaves no process behind") {
  temp_dir dir;
  auto run_dir = fs::weakly_canonical(dir.path) / "run";
  int port = free_port();
  std::string url = "ember://127.0.0.1:" + std::to_string(port);
  std::string env = "EMBER_BIN='" + ember_bin + "' EMBER_START_TIMEOUT=60 EMBER_STOP_TIMEOUT=60 ";
  std::string run_arg = " --run-dir '" + run_dir.string() + "'";

  auto started = sh(env + launcher + " start --workers 2 --cores 2 --memory 1g --port " + std::to_string(port)
                        + run_arg,
                    dir.path);
  INFO("start stderr: " << started.err);
  REQUIRE(started.exit_code == 0);
  CHECK(std::regex_match(started.out,
                         std::regex{"cluster ready: " + url + ", 2 workers \\([0-9]+\\.[0-9]+ s\\)\n"}));
  CHECK(slurp(run_dir / "master.url") == url + "\n");

  std::vector<int> pids;
  for (auto name : {"master", "worker-1", "worker-2"}) {
    int pid = read_pid(run_dir / "pids" / (std::string(name) + ".pid"));
    CHECK_MESSAGE(alive(pid), name << " pid " << pid);
    pids.push_back(pid);
  }

  SUBCASE("status --json lists the two workers with their resources") {
    auto status = sh("'" + ember_bin + "' status --json --master " + url, dir.path);
    INFO("status stderr: " << status.err);
    REQUIRE(status.exit_code == 0);
    auto state = nlohmann::json::parse(status.out);
    CHECK(state["masterUrl"] == url);
    CHECK(state["aliveWorkers"] == 2);
    REQUIRE(state["workers"].size() == 2);
    std::set<std::string> ids;
    for (auto& w : state["workers"]) {
      CHECK(w["host"] == "127.0.0.1");
      CHECK(w["cores"] == 2);
      CHECK(w["coresUsed"] == 0);
      CHECK(w["memoryBytes"] == std::uint64_t{1} << 30);
      CHECK(w["alive"] == true);
      ids.insert(w["workerId"].get<std::string>());
    }
    CHECK(ids.size() == 2);
    CHECK(state["apps"].empty());
    CHECK(state["drivers"].empty());

    auto text = sh(env + launcher + " status" + run_arg, dir.path);
    INFO("launcher status stderr: " << text.err);
    CHECK(text.exit_code == 0);
    CHECK(text.out.find("master: pid " + std::to_string(pids[0]) + " running\n") != std::string::npos);
    CHECK(text.out.find("worker-1: pid " + std::to_string(pids[1]) + " running\n") != std::string::npos);
    CHECK(text.out.find("worker-2: pid " + std::to_string(pids[2]) + " running\n") != std::string::npos);
    CHECK(text.out.find("workers: 2\n") != std::string::npos);
  }

  SUBCASE("a second start on the same run directory is refused and changes nothing") {
    auto again = sh(env + launcher + " start --workers 1 --port " + std::to_string(free_port()) + run_arg, dir.path);
    CHECK(again.exit_code == 1);
    CHECK(again.err.find("already running in " + run_dir.string()) != std::string::npos);
    for (int pid : pids)
      CHECK(alive(pid));
  }

  auto stopped = sh(env + launcher + " stop" + run_arg, dir.path);
  INFO("stop stderr: " << stopped.err);
  CHECK(stopped.exit_code == 0);
  CHECK(stopped.out == "cluster stopped (" + run_dir.string() + ")\n");
  for (int pid : pids)
    CHECK_MESSAGE(!alive(pid), "pid " << pid << " survived stop");
  CHECK(cluster_processes(run_dir).empty());
  CHECK(!fs::exists(run_dir / "pids" / "master.pid"));
  CHECK(!fs::exists(run_dir / "pids" / "worker-1.pid"));
  auto after = sh("'" + ember_bin + "' status --master " + url, dir.path);
  CHECK(after.exit_code == 1);
}

TEST_CASE("ember-cluster: workers from a workers file; non-local hosts go through EMBER_SSH_CMD") {
  temp_dir dir;
  auto run_dir = fs::weakly_canonical(dir.path) / "run";
  auto conf_dir = dir.path / "conf";
  fs::create_directories(conf_dir);
  // 127.0.0.2 is loopback too, but not a name the launcher treats as this host: it is started
  // through the ssh template, here a plain shell that records each command it is given.
  std::ofstream{conf_dir / "workers"} << "# two hosts\nlocalhost   # the first\n\n  127.0.0.2\n";
  auto ssh_log = dir.path / "ssh.log";
  int port = free_port();
  std::string url = "ember://127.0.0.1:" + std::to_string(port);
  std::string env = "EMBER_BIN='" + ember_bin + "' EMBER_CONF_DIR='" + conf_dir.string()
                    + "' EMBER_START_TIMEOUT=60 EMBER_STOP_TIMEOUT=60 EMBER_SSH_CMD='echo {host} >>"
                    + ssh_log.string() + "; bash -c {cmd}' ";
  std::string run_arg = " --run-dir '" + run_dir.string() + "'";

  auto started = sh(env + launcher + " start --cores 1 --memory 512m --port " + std::to_string(port) + run_arg,
                    dir.path);
  INFO("start stderr: " << started.err);
  REQUIRE(started.exit_code == 0);
  CHECK(started.out.starts_with("cluster ready: " + url + ", 2 workers ("));
  CHECK(slurp(ssh_log) == "127.0.0.2\n");
  CHECK(slurp(run_dir / "pids" / "worker-2.pid").starts_with("127.0.0.2 "));

  auto status = sh("'" + ember_bin + "' status --json --master " + url, dir.path);
  REQUIRE(status.exit_code == 0);
  auto state = nlohmann::json::parse(status.out);
  std::multiset<std::string> hosts;
  for (auto& w : state["workers"])
    hosts.insert(w["host"].get<std::string>());
  CHECK(hosts == std::multiset<std::string>{"127.0.0.1", "127.0.0.2"});

  auto stopped = sh(env + launcher + " stop" + run_arg, dir.path);
  INFO("stop stderr: " << stopped.err);
  CHECK(stopped.exit_code == 0);
  CHECK(cluster_processes(run_dir).empty());
}

TEST_CASE("ember-cluster start --secure: a 0600 secret, a conf dir, and a cluster that wants both") {
  temp_dir dir;
  auto root = fs::weakly_canonical(dir.path);
  auto run_dir = root / "run";
  int port = free_port();
  std::string url = "ember://127.0.0.1:" + std::to_string(port);
  // No EMBER_CONF_DIR of the test's own: the launcher makes one.
  std::string env = "env -u EMBER_CONF_DIR EMBER_BIN='" + ember_bin + "' EMBER_START_TIMEOUT=60 EMBER_STOP_TIMEOUT=60 ";
  std::string run_arg = " --run-dir '" + run_dir.string() + "'";
  auto started = sh(env + launcher + " start --secure --workers 1 --port " + std::to_string(port) + run_arg, root);
  INFO("start stderr: " << started.err);
  REQUIRE(started.exit_code == 0);
  auto conf = run_dir / "conf";
  CHECK(started.out.find("secured: run ember submit/status with EMBER_CONF_DIR=" + conf.string() + "\n")
        != std::string::npos);
  struct stat st {};
  REQUIRE(::stat((conf / "secret").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat(conf.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  CHECK(slurp(conf / "ember-defaults.conf").find("ember.authenticate true\n") != std::string::npos);

  auto with = sh("EMBER_CONF_DIR='" + conf.string() + "' '" + ember_bin + "' status --json --master " + url, root);
  CHECK(with.exit_code == 0);
  CHECK(with.out.find("\"aliveWorkers\":1") != std::string::npos);
  auto without = sh("env -u EMBER_CONF_DIR '" + ember_bin + "' status --master " + url, root);
  CHECK(without.exit_code == 1);
  auto status = sh(env + launcher + " status" + run_arg, root);  // finds the cluster's own conf dir
  CHECK(status.exit_code == 0);
  auto stopped = sh(env + launcher + " stop" + run_arg, root);
  CHECK(stopped.exit_code == 0);
  CHECK(cluster_processes(run_dir).empty());
}

TEST_CASE("a master or worker listening beyond loopback without authentication says so, once") {
  temp_dir dir;
  int port = free_port();
  child master{{ember_bin, "master", "--host", "0.0.0.0", "--port", std::to_string(port)}, dir.path / "master.log"};
  auto warning = "ember master listens on 0.0.0.0:" + std::to_string(port)
                 + " WITHOUT AUTHENTICATION: anyone who can reach this port can run code";
  CHECK(eventually([&] { return slurp(dir.path / "master.log").find(warning) != std::string::npos; }));
  int local_port = free_port();
  child local{{ember_bin, "master", "--host", "127.0.0.1", "--port", std::to_string(local_port)},
              dir.path / "local.log"};
  REQUIRE(eventually([&] { return slurp(dir.path / "local.log").find("listening on") != std::string::npos; }));
  // Once it has answered a request it is long past where it would warn.
  auto status = sh("env -u EMBER_CONF_DIR '" + ember_bin + "' status --master ember://127.0.0.1:"
                       + std::to_string(local_port),
                   dir.path);
  CHECK(status.exit_code == 0);
  CHECK(slurp(dir.path / "local.log").find("WITHOUT AUTHENTICATION") == std::string::npos);
}
