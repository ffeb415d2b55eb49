// The cluster manager's fault tolerance with real processes and real signals (docs/cluster.md,
// Recovery): the master killed with SIGKILL while an application runs and restarted with
// FILESYSTEM recovery (the application finishes, `ember status --json` shows the recovered workers
// and the application); a worker killed with SIGKILL mid-job (its executors end too, the job
// finishes on the other worker); a supervised cluster-mode driver killed with SIGKILL (restarted,
// runs again, writes the right output; unsupervised: reported failed). Faults are triggered from
// observable state (the driver's event log, the master's state), never after a sleep; every
// output is compared with a reference computed here, and no process may be left behind.
#include <doctest/doctest.h>

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/temp_dir.hpp"
#include "tests/support/cluster.hpp"

using namespace ember_test;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::string ember_bin = bin_dir + "/ember";
const std::string probe_bin = bin_dir + "/recovery_probe";

// What recovery_probe writes for 0..records-1: "key sum" by x mod 7, sorted by key.
std::string reference(int64_t records) {
  std::map<int64_t, int64_t> sums;
  for (int64_t x = 0; x < records; ++x)
    sums[x % 7] += x;
  std::ostringstream out;
  for (auto& [k, v] : sums)
    out << k << ' ' << v << '\n';
  return out.str();
}

int finished_tasks(const fs::path& dir) {
  int n = 0;
  for (auto& e : events(dir, "taskEnd", true))
    n += e.value("state", "") == "finished" ? 1 : 0;
  return n;
}

// Processes (other than this one) whose working directory is under dir or whose command line
// mentions it: what a test must not leave behind.
std::vector<pid_t> processes_under(const fs::path& dir) {
  std::vector<pid_t> out;
  auto prefix = dir.string();
  for (auto& e : fs::directory_iterator("/proc")) {
    auto name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos)
      continue;
    auto pid = static_cast<pid_t>(std::stoi(name));
    if (pid == ::getpid())
      continue;
    std::error_code ec;
    auto cwd = fs::read_symlink(e.path() / "cwd", ec).string();
    auto cmdline = slurp(e.path() / "cmdline");
    if ((!ec && cwd.starts_with(prefix)) || cmdline.find(prefix) != std::string::npos)
      out.push_back(pid);
  }
  return out;
}

std::string describe(const std::vector<pid_t>& pids) {
  std::string s;
  for (auto p : pids)
    s += std::to_string(p) + " " + slurp("/proc/" + std::to_string(p) + "/cmdline") + "\n";
  return s;
}

// A master and workers as real processes with the settings these tests need; the master can be
// killed and started again on the same port.
class cluster {
public:
  cluster(const fs::path& dir, int workers, int cores, std::vector<std::string> master_conf)
    : dir_(dir), master_conf_(std::move(master_conf)) {
    port_ = free_port();
    url_ = "ember://127.0.0.1:" + std::to_string(port_);
    start_master();
    for (int i = 0; i < workers; ++i) {
      auto name = "worker-" + std::to_string(i);
      workers_.push_back(std::make_unique<child>(
        std::vector<std::string>{ember_bin, "worker", url_, "--host", "127.0.0.1", "--cores", std::to_string(cores),
                                 "--memory", "2g", "--work-dir", (dir / name).string(), "--conf",
                                 "ember.worker.registrationRetryInterval=100ms", "--conf",
                                 "ember.worker.heartbeatInterval=500ms", "--conf",
                                 "ember.worker.driverRestartBackoff=100ms", "--conf", "ember.worker.killGracePeriod=2s"},
        dir / (name + ".log")));
    }
    REQUIRE_MESSAGE(eventually([&] { return state().value("aliveWorkers", 0) == workers; }), state().dump());
  }
  ~cluster() { stop(); }

  void start_master() {
    ++master_starts_;
    auto log = dir_ / ("master-" + std::to_string(master_starts_) + ".log");
    std::vector<std::string> argv{ember_bin, "master", "--host", "127.0.0.1", "--port", std::to_string(port_)};
    for (auto& c : master_conf_) {
      argv.push_back("--conf");
      argv.push_back(c);
    }
    master_ = std::make_unique<child>(argv, log);
    REQUIRE_MESSAGE(eventually([&] { return slurp(log).find("listening on") != std::string::npos; }), slurp(log));
  }

  void kill_master() {
    ::kill(master_->pid, SIGKILL);
    CHECK(master_->wait() == 128 + SIGKILL);
  }

  std::string master_log() const { return slurp(dir_ / ("master-" + std::to_string(master_starts_) + ".log")); }

  void stop() {
    for (auto& w : workers_)
      w->stop();
    if (master_)
      master_->stop();
  }

  const std::string& url() const { return url_; }
  child& worker(size_t i) { return *workers_.at(i); }

  json state(bool all = false) const {
    auto out = dir_ / "status.json";
    auto cmd = "'" + ember_bin + "' status --master " + url_ + " --json" + (all ? " --all" : "") + " >'" + out.string()
               + "' 2>/dev/null";
    if (std::system(cmd.c_str()) != 0)
      return json::object();
    auto j = json::parse(slurp(out), nullptr, false);
    return j.is_discarded() ? json::object() : j;
  }

private:
  fs::path dir_;
  std::vector<std::string> master_conf_;
  int port_ = 0;
  int master_starts_ = 0;
  std::string url_;
  std::unique_ptr<child> master_;
  std::vector<std::unique_ptr<child>> workers_;
};

const json* find_app(const json& state, const std::string& name) {
  if (!state.contains("apps"))
    return nullptr;
  for (auto& a : state["apps"])
    if (a.value("name", "") == name)
      return &a;
  return nullptr;
}

std::vector<std::string> probe_conf(const fs::path& events_dir, int executors) {
  return {"--conf", "ember.driver.host=127.0.0.1",
          "--conf", "ember.executor.cores=1",
          "--conf", "ember.executor.memory=256m",
          "--conf", "ember.executor.instances=" + std::to_string(executors),
          "--conf", "ember.eventLog.enabled=true",
          "--conf", "ember.eventLog.dir=" + events_dir.string(),
          "--conf", "ember.eventLog.buffer=0", // every event on disk at once: the tests follow it live
          "--conf", "ember.worker.registrationRetryInterval=100ms"};
}

// recovery_probe's command line on cluster `url` with two executors: 64 records in 8 map tasks, each
// record taking `per_record_ms`, output to `out`; `go` (optional) is the file the probe waits for.
std::vector<std::string> probe_argv(const std::string& url, const fs::path& events_dir, const fs::path& out,
                                    int per_record_ms, const fs::path& go = {}) {
  std::vector<std::string> argv{probe_bin, "--master", url};
  auto conf = probe_conf(events_dir, 2);
  argv.insert(argv.end(), conf.begin(), conf.end());
  for (auto a : {out.string(), std::string{"64"}, std::string{"8"}, std::to_string(per_record_ms)})
    argv.push_back(a);
  if (!go.empty())
    argv.push_back(go.string());
  return argv;
}

} // namespace

TEST_CASE("master killed with SIGKILL and restarted with FILESYSTEM recovery: the running application finishes") {
  temp_dir tmp;
  auto recovery = tmp.path / "recovery", events_dir = tmp.path / "events", out = tmp.path / "out.txt",
       go = tmp.path / "go";
  {
    cluster c{tmp.path, 2, 2,
              {"ember.deploy.recoveryMode=FILESYSTEM", "ember.deploy.recoveryDirectory=" + recovery.string(),
               "ember.worker.timeout=30s"}};
    auto before = c.state();
    std::set<std::string> worker_ids;
    for (auto& w : before["workers"])
      worker_ids.insert(w["workerId"].get<std::string>());
    auto argv = probe_argv(c.url(), events_dir, out, 60, go);
    child app{argv, tmp.path / "app.log"};
    // Both executors run tasks and one task finished: kill the master.
    REQUIRE_MESSAGE(eventually([&] { return finished_tasks(events_dir) >= 1; }), slurp(tmp.path / "app.log"));
    auto running = c.state();
    auto* app_state = find_app(running, "recovery_probe");
    REQUIRE(app_state);
    auto app_id = (*app_state)["appId"].get<std::string>();
    CHECK((*app_state)["executors"].size() == 2);
    CHECK(fs::exists(recovery / ("app_" + app_id)));
    for (auto& id : worker_ids)
      CHECK(fs::exists(recovery / ("worker_" + id)));
    c.kill_master();
    // Without a master the job keeps going: two more tasks finish, then the master comes back.
    int done = finished_tasks(events_dir);
    REQUIRE_MESSAGE(eventually([&] { return finished_tasks(events_dir) >= done + 2; }), slurp(tmp.path / "app.log"));
    c.start_master();
    // Recovery completes when both workers and the application answered (not by the timeout).
    REQUIRE_MESSAGE(eventually([&] {
      return c.master_log().find("recovery complete (every worker and application answered)") != std::string::npos;
    }), c.master_log());
    auto recovered = c.state();
    CHECK(recovered.value("aliveWorkers", 0) == 2);
    std::set<std::string> recovered_ids;
    for (auto& w : recovered["workers"])
      recovered_ids.insert(w["workerId"].get<std::string>());
    CHECK(recovered_ids == worker_ids);
    auto* again = find_app(recovered, "recovery_probe");
    REQUIRE_MESSAGE(again, recovered.dump());
    CHECK((*again)["appId"] == app_id);
    CHECK((*again)["state"] == "running");
    CHECK((*again)["executors"].size() == 2);  // re-adopted from the workers' reports
    // The job finished correctly across the outage.
    REQUIRE_MESSAGE(eventually([&] { return fs::exists(out); }), slurp(tmp.path / "app.log"));
    CHECK(slurp(out) == reference(64));
    std::ofstream{go} << "go";
    CHECK(app.wait() == 0);
    // The application is over for the recovered master too: finished, its recovery file gone.
    CHECK(eventually([&] { return find_app(c.state(), "recovery_probe") == nullptr; }));
    CHECK(!fs::exists(recovery / ("app_" + app_id)));
    auto all = c.state(true);
    auto* finished = find_app(all, "recovery_probe");
    REQUIRE(finished);
    CHECK((*finished)["state"] == "finished");
  }
  CHECK_MESSAGE(eventually([&] { return processes_under(tmp.path).empty(); }), describe(processes_under(tmp.path)));
}

TEST_CASE("master restarted without recovery (NONE): the running job fails with the master's reason") {
  temp_dir tmp;
  auto events_dir = tmp.path / "events", out = tmp.path / "out.txt";
  {
    cluster c{tmp.path, 2, 2, {}};
    auto argv = probe_argv(c.url(), events_dir, out, 100);
    child app{argv, tmp.path / "app.log"};
    REQUIRE_MESSAGE(eventually([&] { return finished_tasks(events_dir) >= 1; }), slurp(tmp.path / "app.log"));
    c.kill_master();
    c.start_master();
    CHECK(app.wait() != 0);
    auto log = slurp(tmp.path / "app.log");
    CHECK_MESSAGE(log.find("refused application app-") != std::string::npos, log);
    CHECK_MESSAGE(log.find("is unknown to this master (it restarted without recovering it") != std::string::npos, log);
    CHECK(!fs::exists(out));
    // The workers registered again; the new master killed the executors it does not know.
    CHECK(eventually([&] { return c.state().value("aliveWorkers", 0) == 2; }));
    CHECK(eventually([&] {
      for (auto& p : processes_under(tmp.path)) {
        std::error_code ec;  // the process may be gone already
        if (fs::read_symlink("/proc/" + std::to_string(p) + "/cwd", ec).string().find("/app-") != std::string::npos)
          return false;
      }
      return true;
    }));
  }
  CHECK_MESSAGE(eventually([&] { return processes_under(tmp.path).empty(); }), describe(processes_under(tmp.path)));
}

TEST_CASE("a corrupt recovery file is one log line naming it; the master starts without that entity") {
  temp_dir tmp;
  auto recovery = tmp.path / "recovery";
  fs::create_directories(recovery);
  std::ofstream{recovery / "app_app-20260101000000-0007"} << "{\"id\":";
  {
    cluster c{tmp.path, 1, 1,
              {"ember.deploy.recoveryMode=FILESYSTEM", "ember.deploy.recoveryDirectory=" + recovery.string(),
               "ember.worker.timeout=30s"}};
    auto log = c.master_log();
    auto line = "recovery file " + (recovery / "app_app-20260101000000-0007").string()
                + " is corrupt, app not recovered: ";
    CHECK_MESSAGE(log.find(line) != std::string::npos, log);
    CHECK(c.state().value("aliveWorkers", 0) == 1);
    CHECK(c.state(true)["apps"].empty());
  }
  CHECK(eventually([&] { return processes_under(tmp.path).empty(); }));
}

TEST_CASE("worker killed with SIGKILL mid-job: its executors end, the job finishes on the other worker") {
  temp_dir tmp;
  auto events_dir = tmp.path / "events", out = tmp.path / "out.txt";
  {
    cluster c{tmp.path, 2, 2, {}};
    auto argv = probe_argv(c.url(), events_dir, out, 60);
    child app{argv, tmp.path / "app.log"};
    REQUIRE_MESSAGE(eventually([&] { return finished_tasks(events_dir) >= 1; }), slurp(tmp.path / "app.log"));
    // The executor on worker 0: the one whose working directory is in worker 0's work dir.
    auto st = c.state();
    auto* a = find_app(st, "recovery_probe");
    REQUIRE(a);
    std::vector<pid_t> victims;
    std::string victim_worker;
    for (auto& e : (*a)["executors"]) {
      auto pid = e["pid"].get<pid_t>();
      auto cwd = fs::read_symlink("/proc/" + std::to_string(pid) + "/cwd").string();
      if (cwd.starts_with((tmp.path / "worker-0").string())) {
        victims.push_back(pid);
        victim_worker = e["workerId"];
      }
    }
    REQUIRE(victims.size() == 1);
    ::kill(c.worker(0).pid, SIGKILL);
    CHECK(c.worker(0).wait() == 128 + SIGKILL);
    // Its executor process ends with it (PR_SET_PDEATHSIG), and the master marks the worker dead.
    CHECK(eventually([&] { return !alive(victims[0]); }));
    CHECK(eventually([&] {
      auto now = c.state();
      for (auto& w : now.value("workers", json::array()))
        if (w["workerId"] == victim_worker)
          return w["alive"] == false;
      return false;
    }));
    CHECK(app.wait() == 0);
    CHECK(slurp(out) == reference(64));
    // The driver heard it from the master: that executor was removed because its worker was lost.
    bool worker_lost = false;
    for (auto& e : events(events_dir, "executorRemoved", true))
      worker_lost = worker_lost || e.value("cause", "") == "workerLost";
    CHECK_MESSAGE(worker_lost, slurp(tmp.path / "app.log"));
  }
  CHECK_MESSAGE(eventually([&] { return processes_under(tmp.path).empty(); }), describe(processes_under(tmp.path)));
}

TEST_CASE("cluster-mode driver killed with SIGKILL: supervised it runs again and writes the output; else failed") {
  temp_dir tmp;
  auto events_dir = tmp.path / "events";
  {
    cluster c{tmp.path, 1, 4, {}};
    auto submit = [&](const fs::path& out, bool supervise) {
      std::string cmd = "'" + ember_bin + "' submit --master " + c.url() + " --deploy-mode cluster"
                        + (supervise ? " --supervise" : "");
      for (auto& a : probe_conf(events_dir, 1))
        cmd += " '" + a + "'";
      cmd += " '" + probe_bin + "' '" + out.string() + "' 32 4 60";
      auto r = sh(cmd, tmp.path);
      REQUIRE_MESSAGE(r.exit_code == 0, r.err);
      auto pos = r.out.find("Submitted driver ");
      REQUIRE_MESSAGE(pos != std::string::npos, r.out);
      auto id = r.out.substr(pos + 17);
      return id.substr(0, id.find(' '));
    };
    auto driver = [&](const std::string& id) {
      auto now = c.state(true);
      for (auto& d : now.value("drivers", json::array()))
        if (d["driverId"] == id)
          return d;
      return json::object();
    };

    auto out = tmp.path / "supervised.txt";
    auto id = submit(out, true);
    REQUIRE_MESSAGE(eventually([&] { return finished_tasks(events_dir) >= 1; }), c.state(true).dump());
    auto pid = driver(id).value("pid", 0);
    std::string seen = "[" + id + "] " + c.state(true).dump();
    REQUIRE_MESSAGE(pid > 0, seen);
    ::kill(pid, SIGKILL);
    REQUIRE_MESSAGE(eventually([&] { return driver(id).value("state", "") == "finished"; }), c.state(true).dump());
    CHECK(driver(id).value("restarts", 0) == 1);
    CHECK(driver(id).value("pid", 0) != pid);
    CHECK(slurp(out) == reference(32));
    CHECK(events(events_dir, "applicationStart", true).size() == 2);  // the application ran again

    fs::remove_all(events_dir);
    auto out2 = tmp.path / "unsupervised.txt";
    auto id2 = submit(out2, false);
    REQUIRE_MESSAGE(eventually([&] { return finished_tasks(events_dir) >= 1; }), c.state(true).dump());
    auto pid2 = driver(id2).value("pid", 0);
    REQUIRE(pid2 > 0);
    ::kill(pid2, SIGKILL);
    REQUIRE_MESSAGE(eventually([&] { return driver(id2).value("state", "") == "failed"; }), c.state(true).dump());
    CHECK(driver(id2).value("restarts", 0) == 0);
    CHECK(!fs::exists(out2));
    // Its application ended with it: no executor is left running for it.
    CHECK(eventually([&] { return c.state().value("apps", json::array({1})).empty(); }));
  }
  CHECK_MESSAGE(eventually([&] { return processes_under(tmp.path).empty(); }), describe(processes_under(tmp.path)));
}
