// Cached datasets on a real two-host loopback cluster (master, two workers, tests/apps/cache_probe
// as the driver): the second action's tasks run PROCESS_LOCAL where the first stored the blocks
// (counted from the event log) and recompute nothing; a tiny ember.executor.memory evicts and still
// gives the right answer; SIGKILL of an executor holding cached blocks loses exactly its
// partitions, which the second action recomputes from lineage; with MEMORY_ONLY_2 every block has
// a replica on the other executor and the kill recomputes nothing. Which partitions were computed
// is counted exactly through the marker files the map function creates.
#include <doctest/doctest.h>

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "tests/integration/fault_test_util.hpp"

using namespace ember_test;
namespace fs = std::filesystem;

namespace {

struct probe_run {
  int64_t records = 80000;
  int tasks = 8;
  std::string level = "memory_only";
  bool pause = false; // wait for the go file between the actions
  std::vector<std::string> conf;
};

// The driver's expected output: both sums of 3x + 1 over [0, records), then the count.
std::string expected_output(int64_t records) {
  int64_t sum = 3 * (records * (records - 1) / 2) + records;
  return std::to_string(sum) + " " + std::to_string(sum) + " " + std::to_string(records) + "\n";
}

// How many times each partition was computed (marker files part-<p>-XXXXXX).
std::map<int, int> computed(const fs::path& marks) {
  std::map<int, int> out;
  for (auto& f : fs::directory_iterator(marks)) {
    auto name = f.path().filename().string(); // part-<p>-XXXXXX
    auto p = std::stoi(name.substr(5, name.rfind('-') - 5));
    ++out[p];
  }
  return out;
}

class cache_app {
public:
  cache_app(local_cluster& cluster, const fs::path& dir, const probe_run& run) : dir_(dir) {
    fs::create_directories(marks());
    std::vector<std::string> argv{bin_dir + "/cache_probe", "--master", cluster.url()};
    std::vector<std::string> conf{"ember.driver.host=127.0.0.1",
                                  "ember.executor.instances=2",
                                  "ember.executor.cores=1",
                                  "ember.eventLog.enabled=true",
                                  "ember.eventLog.buffer=0",
                                  "ember.eventLog.dir=" + (dir / "events").string(),
                                  "ember.local.dir=" + (dir / "local").string()};
    conf.insert(conf.end(), run.conf.begin(), run.conf.end());
    for (auto& c : conf) {
      argv.push_back("--conf");
      argv.push_back(c);
    }
    for (auto a : {out().string(), marks().string(), std::to_string(run.records), std::to_string(run.tasks), run.level})
      argv.push_back(a);
    if (run.pause)
      argv.push_back((dir / "go").string());
    app_ = std::make_unique<child>(argv, dir / "app.log");
  }

  fs::path out() const { return dir_ / "out.txt"; }
  fs::path marks() const { return dir_ / "marks"; }
  std::string log() const { return slurp(dir_ / "app.log"); }
  std::vector<nlohmann::json> events() const { return read_events(dir_ / "events", true); }
  void go() { std::ofstream{dir_ / "go"} << "go\n"; }
  int finish() { return app_->wait(); }

private:
  fs::path dir_;
  std::unique_ptr<child> app_;
};

// Finished taskEnd events of `stage`: partition -> (executor, locality).
std::map<int, std::pair<std::string, std::string>> finished_tasks(const std::vector<nlohmann::json>& events, int stage) {
  std::map<int, std::pair<std::string, std::string>> out;
  for (auto& e : of_kind(events, "taskEnd"))
    if (e.value("stageId", -1) == stage && e.value("state", "") == "finished")
      out[e.value("partition", -1)] = {e.value("executorId", ""), e.value("locality", "")};
  return out;
}

} // namespace

TEST_CASE("cluster: the second action over a cached dataset runs PROCESS_LOCAL and recomputes nothing") {
  temp_dir tmp;
  local_cluster cluster{tmp.path, {{"127.0.0.1", 1, "1g"}, {"127.0.0.2", 1, "1g"}}};
  for (std::string level : {"memory_only", "memory_and_disk_ser", "disk_only"}) {
    CAPTURE(level);
    auto dir = tmp.path / level;
    probe_run run;
    run.level = level;
    // Long enough that no task of the second action falls back from PROCESS_LOCAL.
    run.conf = {"ember.locality.wait=60s"};
    cache_app app{cluster, dir, run};
    REQUIRE_MESSAGE(app.finish() == 0, app.log());
    CHECK(slurp(app.out()) == expected_output(run.records));
    auto counts = computed(app.marks());
    CHECK(counts.size() == 8u);
    for (auto& [p, n] : counts)
      CHECK_MESSAGE(n == 1, "partition " << p << " computed " << n << " times");

    auto events = app.events();
    auto first = finished_tasks(events, 0);
    REQUIRE(first.size() == 8u);
    std::set<std::string> executors;
    for (auto& [p, t] : first)
      executors.insert(t.first);
    CHECK(executors.size() == 2u); // both executors hold blocks
    for (int stage : {1, 2}) {
      CAPTURE(stage);
      auto later = finished_tasks(events, stage);
      REQUIRE(later.size() == 8u);
      int process_local = 0;
      for (auto& [p, t] : later) {
        CHECK(t.first == first.at(p).first); // where its block is
        process_local += t.second == "processLocal";
      }
      CHECK(process_local == 8);
    }
  }
}

TEST_CASE("cluster: a tiny storage budget evicts and still gives the right answer") {
  temp_dir tmp;
  local_cluster cluster{tmp.path, {{"127.0.0.1", 1, "1g"}, {"127.0.0.2", 1, "1g"}}};
  // 16 MiB per executor: storage keeps 4.8 MiB while a task runs; 8 partitions of 400000 int64
  // (3.2 MB each deserialized) cannot all stay in memory on two executors.
  probe_run run;
  run.records = 3'200'000;
  run.conf = {"ember.executor.memory=16m"};

  run.level = "memory_only";
  {
    cache_app app{cluster, tmp.path / "memory_only", run};
    REQUIRE_MESSAGE(app.finish() == 0, app.log());
    CHECK(slurp(app.out()) == expected_output(run.records));
    auto counts = computed(app.marks());
    REQUIRE(counts.size() == 8u);
    int total = 0;
    for (auto& [p, n] : counts)
      total += n;
    CHECK(total > 8);      // partitions that found no room were computed again by each action
    CHECK(total <= 3 * 8); // three actions at most compute each partition once each
  }
  run.level = "memory_and_disk";
  {
    cache_app app{cluster, tmp.path / "memory_and_disk", run};
    REQUIRE_MESSAGE(app.finish() == 0, app.log());
    CHECK(slurp(app.out()) == expected_output(run.records));
    auto counts = computed(app.marks());
    REQUIRE(counts.size() == 8u);
    for (auto& [p, n] : counts)
      CHECK_MESSAGE(n == 1, "partition " << p << " computed " << n << " times"); // spilled, not dropped
  }
}

TEST_CASE("cluster: SIGKILL of an executor holding cached blocks; its partitions are recomputed from lineage") {
  temp_dir tmp;
  local_cluster cluster{tmp.path, {{"127.0.0.1", 1, "1g"}, {"127.0.0.2", 1, "1g"}}};
  probe_run run;
  run.pause = true;
  run.conf = {"ember.locality.wait=1s"};
  cache_app app{cluster, tmp.path / "kill", run};
  REQUIRE_MESSAGE(eventually([&] { return app.log().find("first action done") != std::string::npos; }), app.log());

  auto first = finished_tasks(app.events(), 0);
  REQUIRE(first.size() == 8u);
  std::string victim = first.begin()->second.first;
  std::set<int> lost;
  for (auto& [p, t] : first)
    if (t.first == victim)
      lost.insert(p);
  int pid = 0;
  REQUIRE(eventually([&] {
    for (auto& a : cluster.state().value("apps", nlohmann::json::array()))
      for (auto& e : a.value("executors", nlohmann::json::array()))
        if (e.value("executorId", "") == victim && e.value("state", "") == "running")
          pid = e.value("pid", 0);
    return pid > 0;
  }));
  REQUIRE(::kill(pid, SIGKILL) == 0);
  REQUIRE_MESSAGE(eventually([&] {
    for (auto& e : of_kind(app.events(), "executorRemoved"))
      if (e.value("executorId", "") == victim)
        return true;
    return false;
  }), app.log());
  app.go();
  REQUIRE_MESSAGE(app.finish() == 0, app.log());
  CHECK(slurp(app.out()) == expected_output(run.records));
  auto counts = computed(app.marks());
  REQUIRE(counts.size() == 8u);
  std::set<int> recomputed;
  for (auto& [p, n] : counts) {
    CHECK(n <= 2);
    if (n == 2)
      recomputed.insert(p);
  }
  CHECK(recomputed == lost); // exactly the killed executor's partitions, once each
}

TEST_CASE("cluster: a task on an executor without the block fetches it from the holder") {
  temp_dir tmp;
  // One worker at first: the first action caches every partition on its executor. A second
  // worker then joins (the application asked for two executors); without locality waits its
  // executor takes tasks whose blocks it does not have and reads them from the holder's block
  // server (FetchBlocks with an rdd block id) instead of recomputing.
  local_cluster cluster{tmp.path, {{"127.0.0.1", 1, "1g"}}};
  probe_run run;
  run.tasks = 16;
  run.records = 160000;
  run.pause = true;
  run.conf = {"ember.locality.wait=0s"};
  cache_app app{cluster, tmp.path / "app", run};
  REQUIRE_MESSAGE(eventually([&] { return app.log().find("first action done") != std::string::npos; }), app.log());
  // The listener bus writes the event log on its own: the job's last taskEnd may reach the file
  // after the action has returned.
  REQUIRE_MESSAGE(eventually([&] { return finished_tasks(app.events(), 0).size() == 16u; }), app.log());
  auto first = finished_tasks(app.events(), 0);
  std::set<std::string> holders;
  for (auto& [p, t] : first)
    holders.insert(t.first);
  REQUIRE(holders.size() == 1u);
  child late{{bin_dir + "/ember", "worker", cluster.url(), "--host", "127.0.0.2", "--cores", "1", "--memory", "1g",
              "--work-dir", (tmp.path / "worker-late").string()},
             tmp.path / "worker-late.log"};
  REQUIRE_MESSAGE(eventually([&] { return of_kind(app.events(), "executorAdded").size() == 2u; }), app.log());
  app.go();
  REQUIRE_MESSAGE(app.finish() == 0, app.log());
  CHECK(slurp(app.out()) == expected_output(run.records));
  auto events = app.events();
  int elsewhere = 0;
  for (int stage : {1, 2})
    for (auto& [p, t] : finished_tasks(events, stage))
      elsewhere += t.first != *holders.begin();
  CHECK(elsewhere > 0); // the new executor ran some of them
  auto counts = computed(app.marks());
  REQUIRE(counts.size() == 16u);
  for (auto& [p, n] : counts)
    CHECK_MESSAGE(n == 1, "partition " << p << " computed " << n << " times"); // fetched, not recomputed
  late.stop();
}

TEST_CASE("cluster: MEMORY_ONLY_2 keeps a second copy on the other executor; SIGKILL of one recomputes nothing") {
  temp_dir tmp;
  local_cluster cluster{tmp.path, {{"127.0.0.1", 1, "1g"}, {"127.0.0.2", 1, "1g"}}};
  probe_run run;
  run.level = "memory_only_2";
  run.pause = true;
  run.conf = {"ember.locality.wait=60s"};
  cache_app app{cluster, tmp.path / "replicated", run};
  REQUIRE_MESSAGE(eventually([&] { return app.log().find("first action done") != std::string::npos; }), app.log());

  auto first = finished_tasks(app.events(), 0);
  REQUIRE(first.size() == 8u);
  std::set<std::string> executors;
  for (auto& [p, t] : first)
    executors.insert(t.first);
  REQUIRE(executors.size() == 2u);
  std::string victim = *executors.begin();
  std::string survivor = *executors.rbegin();
  int pid = 0;
  REQUIRE(eventually([&] {
    for (auto& a : cluster.state().value("apps", nlohmann::json::array()))
      for (auto& e : a.value("executors", nlohmann::json::array()))
        if (e.value("executorId", "") == victim && e.value("state", "") == "running")
          pid = e.value("pid", 0);
    return pid > 0;
  }));
  REQUIRE(::kill(pid, SIGKILL) == 0);
  // The driver's block_manager_master had both executors hold every partition: its own four
  // and a replica of each of the other's four.
  REQUIRE_MESSAGE(eventually([&] {
    return app.log().find("executor " + victim + " lost with 8 cached blocks") != std::string::npos;
  }), app.log());
  app.go();
  REQUIRE_MESSAGE(app.finish() == 0, app.log());
  CHECK(slurp(app.out()) == expected_output(run.records));
  auto counts = computed(app.marks());
  REQUIRE(counts.size() == 8u);
  for (auto& [p, n] : counts)
    CHECK_MESSAGE(n == 1, "partition " << p << " computed " << n << " times"); // the replica served it
  // Every task of both later actions ran PROCESS_LOCAL on the survivor: its copies were in the
  // location table, its own partitions and the replicas alike.
  auto events = app.events();
  for (int stage : {1, 2}) {
    CAPTURE(stage);
    auto later = finished_tasks(events, stage);
    REQUIRE(later.size() == 8u);
    for (auto& [p, t] : later) {
      CHECK(t.first == survivor);
      CHECK(t.second == "processLocal");
    }
  }
}
