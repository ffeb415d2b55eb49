// Helpers of the executor fault tests: a two-host loopback cluster running tests/apps/fault_shuffle
// with its driver's event log written live, triggers read from that log (never sleeps), the
// executors' pids from the master, the job's expected output computed independently, and the
// check that no process of the application is left.
#pragma once

#include <signal.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/cluster.hpp"
#include "tests/support/temp_dir.hpp"

namespace ember_test {

// taskEnds of stage `stage` in state `state` ("finished", "failed", "lost", ...).
inline int task_ends(const std::vector<nlohmann::json>& events, uint32_t stage, const std::string& state = "finished") {
  int n = 0;
  for (auto& e : of_kind(events, "taskEnd"))
    if (e.value("stageId", -1) == static_cast<int>(stage) && e.value("state", "") == state)
      ++n;
  return n;
}

// Task attempts of `stage` started and not ended (taskStart fields).
inline std::vector<nlohmann::json> unfinished_tasks(const std::vector<nlohmann::json>& events, uint32_t stage) {
  std::map<std::pair<std::string, int>, nlohmann::json> open;
  for (auto& e : events) {
    if (e.contains("taskStart") && e["taskStart"].value("stageId", -1) == static_cast<int>(stage))
      open[{e["taskStart"].value("taskId", ""), e["taskStart"].value("attempt", 0)}] = e["taskStart"];
    if (e.contains("taskEnd"))
      open.erase({e["taskEnd"].value("taskId", ""), e["taskEnd"].value("attempt", 0)});
  }
  std::vector<nlohmann::json> out;
  for (auto& [k, v] : open)
    out.push_back(v);
  return out;
}

// The partitions of `stage` launched in stage attempt `attempt` (taskStart), sorted.
inline std::vector<int> launched_partitions(const std::vector<nlohmann::json>& events, uint32_t stage, int attempt) {
  std::set<int> out;
  for (auto& e : of_kind(events, "taskStart"))
    if (e.value("stageId", -1) == static_cast<int>(stage) && e.value("stageAttempt", -1) == attempt)
      out.insert(e.value("partition", -1));
  return {out.begin(), out.end()};
}

// fault_shuffle's output for MAPS x KEYS records: "key sum\n" by key, sum(k) = KEYS*MAPS*(MAPS-1)/2 + MAPS*k.
inline std::string expected_sums(int64_t maps, int64_t keys) {
  std::string out;
  for (int64_t k = 0; k < keys; ++k)
    out += std::to_string(k) + " " + std::to_string(keys * maps * (maps - 1) / 2 + maps * k) + "\n";
  return out;
}

// A master, two one-core workers on two loopback hosts, and fault_shuffle as the driver.
struct fault_job {
  int64_t maps = 4, keys = 40, reducers = 4;
  int64_t map_ms = 10, combine_ms = 5, post_ms = 10;
  int64_t straggle_ms = 0; // > 0: the first attempt of map partition 0 stalls this long
  std::vector<std::string> conf; // extra --conf k=v
};

class fault_cluster {
public:
  explicit fault_cluster(const fault_job& job)
    : job_(job), cluster_(tmp_.path, {{"127.0.0.1", 1, "1g"}, {"127.0.0.2", 1, "1g"}}) {
    std::vector<std::string> argv{bin_dir + "/fault_shuffle", "--master", cluster_.url()};
    std::vector<std::string> conf{"ember.driver.host=127.0.0.1",
                                  "ember.executor.instances=2",
                                  "ember.executor.memory=256m",
                                  "ember.eventLog.enabled=true",
                                  "ember.eventLog.buffer=0",
                                  "ember.eventLog.dir=" + events_dir().string(),
                                  "ember.local.dir=" + local_dir().string()};
    conf.insert(conf.end(), job.conf.begin(), job.conf.end());
    for (auto& c : conf) {
      argv.push_back("--conf");
      argv.push_back(c);
    }
    argv.push_back(out_file().string());
    for (auto v : {job.maps, job.keys, job.reducers, job.map_ms, job.combine_ms, job.post_ms})
      argv.push_back(std::to_string(v));
    if (job.straggle_ms > 0) {
      argv.push_back(std::to_string(job.straggle_ms));
      argv.push_back((tmp_.path / "straggler").string());
    }
    app_ = std::make_unique<child>(argv, tmp_.path / "app.log");
  }

  std::filesystem::path dir() const { return tmp_.path; }
  std::filesystem::path events_dir() const { return tmp_.path / "events"; }
  std::filesystem::path local_dir() const { return tmp_.path / "local"; }
  std::filesystem::path out_file() const { return tmp_.path / "sums.txt"; }
  std::string app_log() const { return slurp(tmp_.path / "app.log"); }
  std::vector<nlohmann::json> events() const { return read_events(events_dir(), true); }
  local_cluster& cluster() { return cluster_; }
  child& app() { return *app_; }
  std::string expected() const { return expected_sums(job_.maps, job_.keys); }

  // Waits until `cond(events)` holds (the limit only stops a broken run).
  bool wait_events(const std::function<bool(const std::vector<nlohmann::json>&)>& cond) {
    return eventually([&] { return cond(events()); }, std::chrono::seconds{60});
  }

  // The pid of executor `id` (from the master), remembered for the leftover check.
  int executor_pid(const std::string& id) {
    int pid = 0;
    eventually([&] {
      for (auto& a : cluster_.state().value("apps", nlohmann::json::array()))
        for (auto& e : a.value("executors", nlohmann::json::array()))
          if (e.value("executorId", "") == id)
            pid = e.value("pid", 0);
      return pid > 0;
    }, std::chrono::seconds{10});
    if (pid > 0)
      pids_.insert(pid);
    return pid;
  }

  // The application's id (its applicationStart event).
  std::string app_id() const {
    for (auto& e : of_kind(events(), "applicationStart"))
      if (auto id = e.value("appId", ""); !id.empty() && !id.starts_with("pending-"))
        return id;
    return {};
  }

  // Waits for the driver to exit: its exit code.
  int finish() { return app_->wait(); }

  // After the driver exited: no executor process of the application is left (every pid the test
  // saw is gone, no process carries its app id, the master shows none running).
  bool nothing_left() {
    auto id = app_id();
    return eventually([&] {
      for (int pid : pids_)
        if (::kill(pid, 0) == 0)
          return false;
      // "[-]" keeps the shell running pgrep from matching its own command line.
      if (!id.empty() && std::system(("pgrep -f -- '[-]-ember-app-id " + id + "' >/dev/null").c_str()) == 0)
        return false;
      for (auto& a : cluster_.state().value("apps", nlohmann::json::array()))
        for (auto& e : a.value("executors", nlohmann::json::array()))
          if (e.value("state", "") == "running" || e.value("state", "") == "launching")
            return false;
      return true;
    }, std::chrono::seconds{30});
  }

private:
  fault_job job_;
  temp_dir tmp_;
  local_cluster cluster_;
  std::unique_ptr<child> app_;
  std::set<int> pids_;
};

} // namespace ember_test
