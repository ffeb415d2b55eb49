// The engine on a real standalone cluster: master, workers and executor processes on loopback,
// the application's driver in the test's child process. Two workers on different loopback
// addresses (127.0.0.1, 127.0.0.2) are two hosts, so reducers fetch map outputs from the other
// host's block server instead of reading the file.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/support/cluster.hpp"
#include "tests/integration/engine_test_util.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace ember_test;

namespace {

// Runs a program to completion; its exit code. Output in `log`.
int run(const std::vector<std::string>& argv, const fs::path& log) {
  child c{argv, log};
  return c.wait();
}

std::vector<fs::path> part_files(const fs::path& dir) {
  std::vector<fs::path> out;
  for (auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().starts_with("part-"))
      out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// Executors of the application named `name` in the master's state that are launching or running.
int live_executors(const json& state, const std::string& name) {
  int n = 0;
  for (auto& app : state.value("apps", json::array()))
    if (app.value("name", "") == name)
      for (auto& e : app.value("executors", json::array()))
        if (e.value("state", "") == "running" || e.value("state", "") == "launching")
          ++n;
  return n;
}

} // namespace

TEST_CASE("terasort on two hosts: byte-identical to local mode, shuffle blocks fetched from the other host") {
  temp_dir tmp;
  local_cluster cluster{tmp.path, {{"127.0.0.1", 1, "1g"}, {"127.0.0.2", 1, "1g"}}};
  auto input = tmp.path / "records";
  REQUIRE(run({bin_dir + "/gen_records", "--count", "200000", "--seed", "7", input.string()}, tmp.path / "gen.log") == 0);

  auto local_out = tmp.path / "local", cluster_out = tmp.path / "cluster", events_dir = tmp.path / "events";
  REQUIRE(run({bin_dir + "/terasort", "--master", "local[2]", "--conf", "ember.default.parallelism=4", input.string(),
               local_out.string()},
              tmp.path / "local.log")
          == 0);
  int rc = run({bin_dir + "/terasort", "--master", cluster.url(), "--conf", "ember.driver.host=127.0.0.1", "--conf",
                "ember.default.parallelism=4", "--conf", "ember.eventLog.enabled=true", "--conf",
                "ember.eventLog.dir=" + events_dir.string(), "--conf", "ember.executor.memory=512m", input.string(),
                cluster_out.string()},
               tmp.path / "cluster.log");
  REQUIRE_MESSAGE(rc == 0, slurp(tmp.path / "cluster.log"));

  auto a = part_files(local_out), b = part_files(cluster_out);
  REQUIRE(a.size() == 4);
  REQUIRE(b.size() == a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    INFO(a[i].filename().string());
    CHECK(slurp(a[i]) == slurp(b[i]));
  }
  CHECK(fs::exists(cluster_out / "_SUCCESS"));

  // Two executor processes, one per host, each started by its worker in its own work directory.
  std::set<std::string> hosts;
  for (auto& e : events(events_dir, "executorAdded"))
    hosts.insert(e.at("host").get<std::string>());
  CHECK(hosts == std::set<std::string>{"127.0.0.1", "127.0.0.2"});
  // Each worker started one executor process of its own (not the driver's pid).
  std::set<std::string> pids;
  for (size_t w = 0; w < 2; ++w) {
    auto log = slurp(tmp.path / ("worker-" + std::to_string(w) + ".log"));
    auto at = log.find("started as pid ");
    REQUIRE_MESSAGE(at != std::string::npos, log);
    pids.insert(log.substr(at + 15, log.find(' ', at + 15) - at - 15));
  }
  CHECK(pids.size() == 2);

  // Reducers read half of the map outputs from the other host, through its block server.
  uint64_t remote = 0, local = 0;
  for (auto& e : events(events_dir, "taskEnd")) {
    auto& m = e.at("metrics");
    if (m.contains("shuffleReadRemoteBytes"))
      remote += std::stoull(m.at("shuffleReadRemoteBytes").get<std::string>());
    if (m.contains("shuffleReadLocalBytes"))
      local += std::stoull(m.at("shuffleReadLocalBytes").get<std::string>());
  }
  CHECK(remote > 0);
  CHECK(local > 0);

  // The application is over: no executor process of it is left.
  CHECK(eventually([&] { return live_executors(cluster.state(), "terasort") == 0; }));
}

TEST_CASE("dynamic allocation: a backlogged application grows, an idle one shrinks to minExecutors") {
  temp_dir tmp;
  local_cluster cluster{tmp.path, {{"127.0.0.1", 2, "2g"}, {"127.0.0.1", 2, "2g"}}};
  auto go = tmp.path / "go";
  child app{{bin_dir + "/cluster_probe", "--master", cluster.url(), "--conf", "ember.driver.host=127.0.0.1", "--conf",
             "ember.executor.cores=1", "--conf", "ember.executor.memory=256m", "--conf",
             "ember.dynamicAllocation.enabled=true", "--conf", "ember.dynamicAllocation.minExecutors=1", "--conf",
             "ember.dynamicAllocation.initialExecutors=1", "--conf", "ember.dynamicAllocation.maxExecutors=4", "--conf",
             "ember.dynamicAllocation.schedulerBacklogTimeout=100ms", "--conf",
             "ember.dynamicAllocation.sustainedSchedulerBacklogTimeout=100ms", "--conf",
             "ember.dynamicAllocation.executorIdleTimeout=1s", "alloc", "80", "100", go.string()},
            tmp.path / "app.log"};
  // Grows: 80 tasks of 100 ms on one executor are a backlog; the master's state shows more.
  int most = 0;
  bool counted = eventually([&] {
    most = std::max(most, live_executors(cluster.state(), "cluster_probe"));
    return slurp(tmp.path / "app.log").find("count 80") != std::string::npos;
  });
  REQUIRE_MESSAGE(counted, slurp(tmp.path / "app.log"));
  CHECK(most >= 3);
  // Idle: released down to minExecutors, and no further.
  CHECK_MESSAGE(eventually([&] { return live_executors(cluster.state(), "cluster_probe") == 1; }),
                cluster.state().dump());
  std::ofstream{go} << "go";
  CHECK(app.wait() == 0);
}

TEST_CASE("an executor over its memory limit is reported with that cause") {
  temp_dir tmp;
  local_cluster cluster{tmp.path, {{"127.0.0.1", 1, "2g"}}};
  int rc = run({bin_dir + "/cluster_probe", "--master", cluster.url(), "--conf", "ember.driver.host=127.0.0.1", "--conf",
                "ember.executor.memory=256m", "--conf", "ember.executor.instances=1", "oom"},
               tmp.path / "app.log");
  auto log = slurp(tmp.path / "app.log");
  CHECK(rc == 1);
  CHECK_MESSAGE(log.find("killed: exceeded ember.executor.memory (256m)") != std::string::npos, log);
  // The task killed each executor it ran on: its attempts count as failures (Spark's
  // exitCausedByApp), so the job fails after ember.task.maxFailures with the cause in one line.
  CHECK_MESSAGE(log.find("cluster_probe: Job 0 aborted due to stage failure: Task 0 in stage 0.0 failed 4 times") != std::string::npos, log);
  CHECK(log.find("killed: exceeded ember.executor.memory (256m)\n") != std::string::npos);
  CHECK(slurp(tmp.path / "master.log").find("exceeded ember.executor.memory (256m)") != std::string::npos);
}

TEST_CASE("FAIR pools: jobs of two threads in two pools both finish correctly; a bad pools file is one clear line") {
  temp_dir tmp;
  auto pools = tmp.path / "pools.conf";
  std::ofstream{pools} << "# two pools\na schedulingMode=FAIR weight=1 minShare=1\nb schedulingMode=FIFO weight=3\n";
  REQUIRE(run({bin_dir + "/cluster_probe", "--master", "local[2]", "--conf", "ember.scheduler.mode=FAIR", "--conf",
               "ember.scheduler.allocation.file=" + pools.string(), "pools"},
              tmp.path / "fair.log")
          == 0);
  auto out = slurp(tmp.path / "fair.log");
  CHECK(out.find("a 4999950000") != std::string::npos);
  CHECK(out.find("b 19999900000") != std::string::npos);

  std::ofstream{pools} << "a weight=0\n";
  CHECK(run({bin_dir + "/cluster_probe", "--master", "local[2]", "--conf", "ember.scheduler.mode=FAIR", "--conf",
             "ember.scheduler.allocation.file=" + pools.string(), "pools"},
            tmp.path / "bad.log")
        != 0);
  auto bad = slurp(tmp.path / "bad.log");
  CHECK_MESSAGE(bad.find("ember.scheduler.allocation.file: " + pools.string() + ":1:") != std::string::npos, bad);
}

TEST_CASE("two applications at once on a cluster with cores for one of them: both finish correctly") {
  temp_dir tmp;
  local_cluster cluster{tmp.path, {{"127.0.0.1", 1, "2g"}, {"127.0.0.1", 1, "2g"}}};
  auto input = tmp.path / "text";
  REQUIRE(run({bin_dir + "/gen_text", "--bytes", "4000000", "--vocab", "5000", "--seed", "3", input.string()},
              tmp.path / "gen.log")
          == 0);
  REQUIRE(run({bin_dir + "/wordcount", "--master", "local[2]", "--conf", "ember.default.parallelism=3", input.string(),
               (tmp.path / "expected").string()},
              tmp.path / "expected.log")
          == 0);
  std::vector<std::unique_ptr<child>> apps;
  for (int i = 0; i < 2; ++i)
    apps.push_back(std::make_unique<child>(
      std::vector<std::string>{bin_dir + "/wordcount", "--master", cluster.url(), "--name", "wc" + std::to_string(i),
                               "--conf", "ember.driver.host=127.0.0.1", "--conf", "ember.default.parallelism=3",
                               "--conf", "ember.executor.instances=2", input.string(),
                               (tmp.path / ("out" + std::to_string(i))).string()},
      tmp.path / ("app" + std::to_string(i) + ".log")));
  for (int i = 0; i < 2; ++i) {
    INFO("application " << i << ": " << slurp(tmp.path / ("app" + std::to_string(i) + ".log")));
    REQUIRE(apps[i]->wait() == 0);
  }
  auto expected = part_files(tmp.path / "expected");
  for (int i = 0; i < 2; ++i) {
    auto got = part_files(tmp.path / ("out" + std::to_string(i)));
    REQUIRE(got.size() == expected.size());
    for (size_t p = 0; p < got.size(); ++p)
      CHECK(slurp(got[p]) == slurp(expected[p]));
  }
  // Both were registered as applications of this master, and both finished.
  auto state = cluster.state(true);
  int finished = 0;
  for (auto& app : state.value("apps", json::array()))
    if (app.value("name", "").starts_with("wc") && app.value("state", "") == "finished")
      ++finished;
  CHECK(finished == 2);
}

TEST_CASE("ember.executor.pinCores: each executor process runs on a CPU of its own") {
  if (std::thread::hardware_concurrency() < 2) {
    MESSAGE("one CPU: two executors cannot have one each");
    return;
  }
  temp_dir tmp;
  local_cluster cluster{tmp.path, {{"127.0.0.1", 2, "2g"}}};
  auto go = tmp.path / "go";
  child app{{bin_dir + "/cluster_probe", "--master", cluster.url(), "--conf", "ember.driver.host=127.0.0.1", "--conf",
             "ember.executor.cores=1", "--conf", "ember.executor.instances=2", "--conf", "ember.executor.memory=256m",
             "--conf", "ember.executor.pinCores=true", "alloc", "4", "10", go.string()},
            tmp.path / "app.log"};
  // Two executors running; read each one's allowed CPUs from /proc while the application idles.
  std::vector<std::string> pids;
  REQUIRE_MESSAGE(eventually([&] {
                    pids.clear();
                    for (auto& a : cluster.state().value("apps", json::array()))
                      for (auto& e : a.value("executors", json::array()))
                        if (e.value("state", "") == "running" && e.value("pid", 0) > 0)
                          pids.push_back(std::to_string(e.value("pid", 0)));
                    return pids.size() == 2 && slurp(tmp.path / "app.log").find("count 4") != std::string::npos;
                  }),
                  cluster.state().dump());
  std::set<std::string> cpus;
  for (auto& pid : pids) {
    auto status = slurp("/proc/" + pid + "/status");
    auto at = status.find("Cpus_allowed_list:");
    REQUIRE(at != std::string::npos);
    auto line = status.substr(at + 18, status.find('\n', at) - at - 18);
    line.erase(0, line.find_first_not_of(" \t"));
    CHECK(line.find_first_of(",-") == std::string::npos); // exactly one CPU
    cpus.insert(line);
  }
  CHECK(cpus.size() == 2);
  std::ofstream{go} << "go";
  CHECK(app.wait() == 0);
}
