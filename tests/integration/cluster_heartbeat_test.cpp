// Heartbeats carry running tasks, end to end on a real cluster (master, worker, executor process):
// a job whose tasks each sleep 1.5 s in user code, heartbeats every 200 ms, and the driver's
// event log shows executorMetricsUpdate events whose runTimeMs grows for each task.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/cluster.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace ember_test;

namespace {

// Cap'n Proto's JSON writes 64-bit integers as strings, narrower ones as numbers.
uint64_t number(const json& o, const char* key) {
  auto& v = o.at(key);
  return v.is_string() ? std::stoull(v.get<std::string>()) : v.get<uint64_t>();
}

} // namespace

TEST_CASE("executorMetricsUpdate events show a slow task's run time growing, and the answer is exact") {
  temp_dir tmp;
  local_cluster cluster{tmp.path, {{"127.0.0.1", 2, "2g"}}};
  auto events_dir = tmp.path / "events";
  auto go = tmp.path / "go";
  std::ofstream{go} << "go"; // the probe exits as soon as its job is done
  child app{{bin_dir + "/cluster_probe", "--master", cluster.url(), "--conf", "ember.driver.host=127.0.0.1", "--conf",
             "ember.executor.cores=2", "--conf", "ember.executor.instances=1", "--conf", "ember.executor.memory=256m",
             "--conf", "ember.executor.heartbeatInterval=200ms", "--conf", "ember.eventLog.enabled=true", "--conf",
             "ember.eventLog.dir=" + events_dir.string(), "alloc", "2", "1500", go.string()},
            tmp.path / "app.log"};
  REQUIRE(app.wait() == 0);
  auto log = slurp(tmp.path / "app.log");
  CHECK_MESSAGE(log.find("count 2\n") != std::string::npos, log);

  // The two tasks as launched: task id -> (attempt, stage, executor).
  struct launched {
    uint64_t attempt, stage;
    std::string executor;
  };
  std::map<uint64_t, launched> tasks;
  for (auto& e : events(events_dir, "taskStart"))
    tasks[number(e, "taskId")] = {number(e, "attempt"), number(e, "stageId"), e.at("executorId").get<std::string>()};
  REQUIRE(tasks.size() == 2);

  // Every heartbeat listing a task names it with its attempt, stage and executor; per task the
  // run times reported strictly grow (one heartbeat after another on one executor).
  std::map<uint64_t, std::vector<uint64_t>> run_times;
  auto updates = events(events_dir, "executorMetricsUpdate");
  for (auto& u : updates) {
    auto executor = u.at("executorId").get<std::string>();
    CHECK(number(u, "time") > 0);
    for (auto& t : u.at("tasks")) {
      auto id = number(t, "taskId");
      REQUIRE_MESSAGE(tasks.count(id) == 1, u.dump());
      CHECK(executor == tasks[id].executor);
      CHECK(number(t, "attempt") == tasks[id].attempt);
      if (t.value("stageKnown", false)) // false only when its end overtook the heartbeat
        CHECK(number(t, "stageId") == tasks[id].stage);
      run_times[id].push_back(number(t, "runTimeMs"));
    }
  }
  REQUIRE_MESSAGE(run_times.size() == 2, "heartbeats with tasks: " << updates.size());
  for (auto& [id, times] : run_times) {
    INFO("task " << id);
    CHECK(times.size() >= 2); // 1.5 s of sleep, a heartbeat every 200 ms
    for (size_t i = 1; i < times.size(); ++i)
      CHECK(times[i] > times[i - 1]);
  }
}
