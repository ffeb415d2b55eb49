// worker_logic: registration and its backoff, a lost and a recovered master with live children,
// executor launches (binary lookup, shared fetches), exit reports with their loss cause,
// supervised driver restarts, kills and shutdown. Pure logic: every timer is a decision with its
// delay, and the test fires it by calling the matching tick.
#include <doctest/doctest.h>

#include <algorithm>
#include <csignal>
#include <map>
#include <string>
#include <vector>

#include "deploy/master_logic.hpp"
#include "deploy/worker_logic.hpp"

using namespace ember::deploy;
using namespace std::chrono_literals;

// Failed checks print the decision lines.
template <>
struct doctest::StringMaker<std::vector<std::string>> {
  static doctest::String convert(const std::vector<std::string>& v) {
    std::string s = "{";
    for (auto& x : v)
      s += "\n  \"" + x + "\"";
    s += "}";
    return s.c_str();
  }
};

namespace {

constexpr std::uint64_t gib = std::uint64_t{1} << 30;
const std::string hash_a(64, 'a');  // SHA-256 digests: 64 lowercase hex digits
const std::string hash_b(64, 'b');
const std::string hash_c(64, 'c');

// Binaries this host already has, by content hash.
struct fake_binaries : binary_lookup {
  std::map<std::string, std::filesystem::path> known;
  std::optional<std::filesystem::path> find(const std::string& hash, const std::string&) override {
    auto i = known.find(hash);
    if (i == known.end())
      return std::nullopt;
    return i->second;
  }
};

worker_settings settings() {
  worker_settings s;
  s.host = "h1";
  s.work_dir = "/w";
  s.master_url = "ember://m:7077";
  s.heartbeat_interval = 15000ms;
  s.retry_interval = 1000ms;
  s.kill_grace = 5000ms;
  s.driver_restart_backoff = 1000ms;
  return s;
}

std::string state_name(executor_state s) {
  const char* names[] = {"launching", "running", "killed", "failed", "lost", "exited"};
  return names[static_cast<int>(s)];
}

std::string state_name(driver_state s) {
  const char* names[] = {"submitted", "running", "finished", "relaunching", "unknown", "killed", "failed", "error"};
  return names[static_cast<int>(s)];
}

std::string cause_name(executor_loss_cause c) {
  const char* names[] = {"exit_code", "signal", "memory_limit", "heartbeat_timeout",
                         "connection_lost", "killed_by_driver", "worker_lost"};
  return names[static_cast<int>(c)];
}

std::string running_text(const worker_report& r) {
  std::string s;
  for (auto& e : r.executors)
    s += " " + e.app_id + "/" + e.executor_id + ":" + state_name(e.state);
  for (auto& d : r.driver_ids)
    s += " driver:" + d;
  return s;
}

// One line per decision, so a test asserts the whole sequence at once.
struct tracer {
  std::string operator()(const connect_master&) const { return "connect"; }
  std::string operator()(const adopt_master&) const { return "adopt master"; }
  std::string operator()(const send_registration& x) const { return "register" + running_text(x.running); }
  std::string operator()(const send_scheduler_state& x) const { return "scheduler state" + running_text(x.running); }
  std::string operator()(const send_heartbeat& x) const {
    return "heartbeat " + std::to_string(x.cores_used) + " " + std::to_string(x.memory_used);
  }
  std::string operator()(const report_executor& x) const {
    return "executor " + x.app_id + "/" + x.executor_id + " " + state_name(x.state) + " " + std::to_string(x.exit_code)
           + " " + std::to_string(x.signal) + " pid " + std::to_string(x.pid) + " " + cause_name(x.cause) + ": "
           + x.message;
  }
  std::string operator()(const report_driver& x) const {
    return "driver " + x.driver_id + " " + state_name(x.state) + " " + std::to_string(x.exit_code) + " "
           + std::to_string(x.signal) + " pid " + std::to_string(x.pid) + ": " + x.message;
  }
  std::string operator()(const announce_registered& x) const { return "announce " + x.worker_id + " " + x.master_url; }
  std::string operator()(const connect_later& x) const { return "connect in " + std::to_string(x.delay.count()); }
  std::string operator()(const register_later& x) const {
    return "register #" + std::to_string(x.attempt) + " in " + std::to_string(x.delay.count());
  }
  std::string operator()(const heartbeat_later& x) const { return "heartbeat in " + std::to_string(x.delay.count()); }
  std::string operator()(const escalate_later& x) const {
    return "escalate " + std::to_string(x.pid) + " in " + std::to_string(x.delay.count());
  }
  std::string operator()(const restart_driver_later& x) const {
    return "restart " + x.driver_id + " in " + std::to_string(x.delay.count());
  }
  std::string operator()(const spawn_executor& x) const { return "spawn executor " + x.app_id + "/" + x.executor_id; }
  std::string operator()(const spawn_driver& x) const { return "spawn driver " + x.driver_id + " " + x.spec.program; }
  std::string operator()(const terminate_child& x) const { return "SIGTERM " + std::to_string(x.pid); }
  std::string operator()(const force_kill_child& x) const { return "SIGKILL " + std::to_string(x.pid); }
  std::string operator()(const fetch_binary& x) const {
    return "fetch " + x.content_hash + " from " + (x.from_master ? "the master" : x.host + ":" + std::to_string(x.port));
  }
  std::string operator()(const cancel_fetches&) const { return "cancel fetches"; }
  std::string operator()(const remove_cgroup_dir& x) const { return "remove cgroup " + x.cgroup.string(); }
  std::string operator()(const remove_executor_dirs& x) const {
    std::string s = "remove dirs";
    for (auto& d : x.dirs) {
      s += ' ';  // not " " + d.string(): GCC 12's -Wrestrict misfires on that at -O3
      s += d.string();
    }
    return s;
  }
  std::string operator()(const remove_app_dir& x) const { return "remove app dir " + x.app_id; }
  std::string operator()(const log_line& x) const {
    const char* levels[] = {"info", "warn", "error"};
    return std::string{"log "} + levels[static_cast<int>(x.level)] + ": " + x.text;
  }
  std::string operator()(const finish_shutdown&) const { return "finish shutdown"; }
  std::string operator()(const quit_refused& x) const { return "quit: " + x.reason; }
};

using lines = std::vector<std::string>;

lines trace(const worker_decisions& ds) {
  lines r;
  for (auto& d : ds)
    r.push_back(std::visit(tracer{}, d));
  return r;
}

// The decisions of type T among `ds`, in order.
template <class T>
std::vector<T> only(const worker_decisions& ds) {
  std::vector<T> r;
  for (auto& d : ds)
    if (auto* x = std::get_if<T>(&d))
      r.push_back(*x);
  return r;
}

// Without the log lines (asserted where they are the point).
lines actions(const worker_decisions& ds) {
  lines r;
  for (auto& d : ds)
    if (!std::holds_alternative<log_line>(d))
      r.push_back(std::visit(tracer{}, d));
  return r;
}

executor_launch executor(std::string app, std::string id, const std::string& hash = hash_a) {
  executor_launch l;
  l.app_id = std::move(app);
  l.executor_id = std::move(id);
  l.cores = 2;
  l.memory = gib;
  l.binary = {"/apps/wc", hash, 0};
  l.args = {"in.txt"};
  l.conf = {{"ember.app.name", "wc"}};
  l.driver_host = "d";
  l.driver_port = 4000;
  return l;
}

driver_launch driver(std::string id, bool supervise) {
  driver_launch l;
  l.driver_id = std::move(id);
  l.binary = {"/apps/wc", hash_a, 0};
  l.args = {"--master", "ember://m:7077"};
  l.supervise = supervise;
  return l;
}

exit_status exited(int code) {
  return {true, code, 0};
}

exit_status killed(int signal) {
  return {false, 0, signal};
}

// A worker registered with its master, with hash_a in its cache.
struct fixture {
  fake_binaries binaries;
  worker_logic w{settings(), cpu_pool{{0, 1, 2, 3}}, binaries};

  fixture() {
    binaries.known[hash_a] = "/w/binaries/" + hash_a;
    REQUIRE(trace(w.start("w1")) == lines{"connect"});
    REQUIRE(actions(w.master_reached()) == lines{"adopt master", "register", "register #0 in 1000"});
    REQUIRE(actions(w.registered("ember://m:7077")) == lines{"announce w1 ember://m:7077", "heartbeat in 15000"});
  }

  // Launches and starts executor app/id as `pid`.
  void run_executor(const std::string& app, const std::string& id, pid_t pid) {
    REQUIRE(actions(w.launch_executor(executor(app, id))) == lines{"spawn executor " + app + "/" + id});
    REQUIRE(actions(w.executor_started({app, id}, pid, "", {"/tmp/l/ember-" + app + "-4000/" + id}))
            == lines{"executor " + app + "/" + id + " running 0 0 pid " + std::to_string(pid) + " exit_code: "});
  }
};

} // namespace

TEST_CASE("registration: connection attempts back off 1, 2, 4, 8, 16 times the interval, then stay") {
  fake_binaries binaries;
  worker_logic w{settings(), cpu_pool{{}}, binaries};
  CHECK(w.link() == link_state::unstarted);
  CHECK(trace(w.start("w1")) == lines{"connect"});
  CHECK(w.link() == link_state::connecting);
  CHECK(trace(w.connect_tick()).empty());  // one connect in flight at a time
  CHECK(trace(w.master_unreachable("connection refused"))
        == lines{"log warn: cannot reach master ember://m:7077 (connection refused); retrying in 1000 ms",
                 "connect in 1000"});
  std::vector<long> waits;
  for (int i = 0; i < 5; ++i) {
    REQUIRE(trace(w.connect_tick()) == lines{"connect"});
    waits.push_back(only<connect_later>(w.master_unreachable("refused")).at(0).delay.count());
  }
  CHECK(waits == std::vector<long>{2000, 4000, 8000, 16000, 16000});
  // Nothing published there: counted before the wait is computed.
  REQUIRE(trace(w.connect_tick()) == lines{"connect"});
  CHECK(trace(w.master_not_published())
        == lines{"log warn: no actor published at ember://m:7077", "connect in 16000"});
  REQUIRE(trace(w.connect_tick()) == lines{"connect"});
  CHECK(actions(w.master_reached()) == lines{"adopt master", "register", "register #7 in 16000"});
  CHECK(w.link() == link_state::registering);
}

TEST_CASE("registration: an unanswered RegisterWorker is sent again; only the latest timer counts") {
  fake_binaries binaries;
  worker_logic w{settings(), cpu_pool{{}}, binaries};
  w.start("w1");
  CHECK(trace(w.master_reached()) == lines{"adopt master", "register", "register #0 in 1000"});
  CHECK(trace(w.register_tick(0)) == lines{"register", "register #1 in 2000"});
  CHECK(trace(w.register_tick(0)).empty());  // superseded by #1
  CHECK(trace(w.register_tick(1)) == lines{"register", "register #2 in 4000"});
  CHECK(trace(w.registered("ember://10.0.0.1:7077"))
        == lines{"log info: registered with ember://10.0.0.1:7077", "announce w1 ember://10.0.0.1:7077",
                 "heartbeat in 15000"});
  CHECK(w.link() == link_state::registered);
  CHECK(w.master_url() == "ember://10.0.0.1:7077");
  CHECK(trace(w.register_tick(2)).empty());  // answered
  // ReconnectWorker: register again from attempt 0; no second announcement or heartbeat timer.
  CHECK(trace(w.reconnect_requested())
        == lines{"log warn: the master asks this worker to register again", "register", "register #0 in 1000"});
  CHECK(actions(w.registered("ember://10.0.0.1:7077")).empty());
  // Heartbeats carry what the executors hold.
  CHECK(trace(w.heartbeat_tick()) == lines{"heartbeat 0 0", "heartbeat in 15000"});
}

TEST_CASE("registration refused: children are killed and the worker quits with the reason") {
  fixture f;
  f.run_executor("app-1", "0", 100);
  CHECK(trace(f.w.registration_refused("127.0.0.1:9 is already registered as w0"))
        == lines{"log error: the master refused this worker: 127.0.0.1:9 is already registered as w0", "SIGTERM 100",
                 "escalate 100 in 5000", "quit: registration refused: 127.0.0.1:9 is already registered as w0"});
}

TEST_CASE("master lost with live children: they keep running; their ends and the re-registration report them") {
  fixture f;
  f.run_executor("app-1", "0", 100);
  f.run_executor("app-1", "1", 101);
  REQUIRE(actions(f.w.launch_driver(driver("driver-1", false))) == lines{"spawn driver driver-1 /w/binaries/" + hash_a});
  REQUIRE(actions(f.w.driver_started("driver-1", 200, "")) == lines{"driver driver-1 running 0 0 pid 200: pid 200"});

  CHECK(trace(f.w.master_lost("connection reset"))
        == lines{"log warn: lost the master ember://m:7077 (connection reset); executors and drivers keep running; "
                 "reconnecting every 1000 ms",
                 "connect in 1000"});
  CHECK(f.w.link() == link_state::connecting);
  CHECK(f.w.executors().size() == 2);  // nothing killed
  // No master: heartbeats wait, an executor's end is kept for the next master.
  CHECK(trace(f.w.heartbeat_tick()) == lines{"heartbeat in 15000"});
  CHECK(actions(f.w.child_exited(101, exited(0), false)) == lines{"remove cgroup ", "remove dirs /tmp/l/ember-app-1-4000/1"});
  // Reconnecting after a loss does not back off.
  for (int i = 0; i < 3; ++i) {
    REQUIRE(trace(f.w.connect_tick()) == lines{"connect"});
    CHECK(only<connect_later>(f.w.master_unreachable("refused")).at(0).delay == 1000ms);
  }
  REQUIRE(trace(f.w.connect_tick()) == lines{"connect"});
  CHECK(trace(f.w.master_reached())
        == lines{"adopt master",
                 "executor app-1/1 exited 0 0 pid 101 exit_code: executor 1 on host h1 ended with exit code 0",
                 "register app-1/0:running driver:driver-1", "register #3 in 1000"});
  CHECK(actions(f.w.registered("ember://m:7077")).empty());  // announced and heartbeating already
  CHECK(trace(f.w.heartbeat_tick()) == lines{"heartbeat 2 1073741824", "heartbeat in 15000"});
}

TEST_CASE("master recovered: MasterChanged adopts the sender and reports what runs here") {
  fixture f;
  f.run_executor("app-1", "0", 100);
  REQUIRE(actions(f.w.launch_executor(executor("app-2", "0", hash_b))) == lines{"fetch " + hash_b + " from d:4000"});
  f.w.master_lost("connection reset");
  REQUIRE(trace(f.w.connect_tick()) == lines{"connect"});
  CHECK(trace(f.w.master_changed("ember://m2:7077"))
        == lines{"adopt master",
                 "log info: master changed to ember://m2:7077: reporting 2 executor(s) and 0 driver(s)",
                 "scheduler state app-1/0:running app-2/0:launching"});
  CHECK(f.w.link() == link_state::registered);
  // The connect that was in flight answers late: the recovered master is already in place.
  CHECK(trace(f.w.master_reached()).empty());
  CHECK(trace(f.w.connect_tick()).empty());
}

TEST_CASE("executor exit reports: exit code, signal, memory limit, killed by the worker, failed start") {
  fixture f;
  auto exit_of = [&](const std::string& id, pid_t pid, const exit_status& s, bool cgroup_oom) {
    f.run_executor("app-1", id, pid);
    auto r = only<report_executor>(f.w.child_exited(pid, s, cgroup_oom));
    REQUIRE(r.size() == 1);
    return tracer{}(r[0]);
  };
  CHECK(exit_of("0", 100, exited(3), false)
        == "executor app-1/0 exited 3 0 pid 100 exit_code: executor 0 on host h1 ended with exit code 3");
  CHECK(exit_of("1", 101, killed(SIGSEGV), false)
        == "executor app-1/1 failed 0 11 pid 101 signal: executor 1 on host h1 ended with signal 11 (SIGSEGV)");
  CHECK(exit_of("2", 102, exited(oom_exit_code), false)
        == "executor app-1/2 failed 52 0 pid 102 memory_limit: executor 2 on host h1 killed: exceeded "
           "ember.executor.memory (1g)");
  CHECK(exit_of("3", 103, killed(SIGKILL), true)  // the cgroup's OOM killer
        == "executor app-1/3 failed 0 9 pid 103 memory_limit: executor 3 on host h1 killed: exceeded "
           "ember.executor.memory (1g)");

  f.run_executor("app-1", "4", 104);
  CHECK(trace(f.w.kill_executor({"app-1", "4"}, "released by the application"))
        == lines{"log info: killing executor app-1/4 (pid 104): released by the application", "SIGTERM 104",
                 "escalate 104 in 5000"});
  CHECK(trace(f.w.kill_executor({"app-1", "4"}, "again")).empty());  // already being killed
  CHECK(trace(f.w.child_exited(104, killed(SIGTERM), false))
        == lines{"remove cgroup ", "log info: executor app-1/4 (pid 104): executor 4 killed by the worker (signal 15 (SIGTERM))",
                 "remove dirs /tmp/l/ember-app-1-4000/4",
                 "executor app-1/4 killed 0 15 pid 104 killed_by_driver: executor 4 killed by the worker (signal 15 "
                 "(SIGTERM))"});
  CHECK(trace(f.w.escalate_tick(104)).empty());  // reaped within the grace period

  REQUIRE(actions(f.w.launch_executor(executor("app-1", "5"))) == lines{"spawn executor app-1/5"});
  CHECK(trace(f.w.executor_start_failed({"app-1", "5"}, "exec /w/binaries/x: Permission denied"))
        == lines{"log error: executor app-1/5 failed to start: exec /w/binaries/x: Permission denied",
                 "executor app-1/5 failed 0 0 pid 0 exit_code: exec /w/binaries/x: Permission denied"});
  CHECK(f.w.executors().empty());
}

TEST_CASE("the loss cause travels as an enum from the worker through the master to the driver") {
  fixture f;
  master_logic m{master_settings{}};
  time_point t0{};
  REQUIRE(m.register_worker({"w1", "h1", 7001, 8, 8 * gib}, t0).accepted);
  app_description app;
  app.executor_cores = 2;
  app.executor_memory = gib;
  app.max_cores = 4;
  auto launched = m.register_application("app-1", app, 0);
  REQUIRE(std::count_if(launched.begin(), launched.end(),
                        [](auto& d) { return std::holds_alternative<launch_executor>(d); })
          == 2);
  f.run_executor("app-1", "0", 100);
  auto report = only<report_executor>(f.w.child_exited(100, exited(oom_exit_code), false)).at(0);
  auto relayed = m.executor_state_changed(report.app_id, report.executor_id, report.state, report.exit_code,
                                          report.signal, report.message, static_cast<std::uint32_t>(report.pid),
                                          report.cause);
  std::vector<executor_updated> updates;
  for (auto& d : relayed)
    if (auto* u = std::get_if<executor_updated>(&d))
      updates.push_back(*u);
  REQUIRE(updates.size() == 1);
  CHECK(updates[0].cause == executor_loss_cause::memory_limit);
  CHECK(updates[0].message == "executor 0 on host h1 killed: exceeded ember.executor.memory (1g)");
  // The master's own causes: a release the application asked for, a lost worker.
  std::vector<executor_loss_cause> causes;
  for (auto& d : m.kill_executors("app-1", {"1"}))
    if (auto* u = std::get_if<executor_updated>(&d))
      causes.push_back(u->cause);
  for (auto& d : m.worker_lost("w1", "connection reset"))
    if (auto* u = std::get_if<executor_updated>(&d))
      causes.push_back(u->cause);
  // Executor 0's failure was replaced by executor 2, released 1, lost 2 with the worker.
  CHECK(causes == std::vector<executor_loss_cause>{executor_loss_cause::killed_by_driver, executor_loss_cause::worker_lost});
}

TEST_CASE("executor launch: the command line, work dir and memory limit; repeated launches change nothing") {
  fixture f;
  auto d = f.w.launch_executor(executor("app-1", "7"));
  auto spawns = only<spawn_executor>(d);
  REQUIRE(spawns.size() == 1);
  auto& spec = spawns[0].spec;
  CHECK(spec.program == "/w/binaries/" + hash_a);
  CHECK(spec.args
        == std::vector<std::string>{"--ember-executor", "--ember-driver", "d:4000", "--ember-app-id", "app-1",
                                    "--ember-executor-id", "7", "--ember-worker-id", "w1", "--ember-host", "h1",
                                    "--ember-cores", "2", "--ember-memory", "1073741824", "--conf",
                                    "ember.app.name=wc", "in.txt"});
  CHECK(spec.cwd == "/w/app-1/7");
  CHECK(spec.memory_limit == gib);
  CHECK(spec.name == "app-1-7");
  CHECK(spec.parent_death_signal == SIGTERM);
  CHECK(spec.cpus.empty());
  CHECK(trace(f.w.launch_executor(executor("app-1", "7"))).empty());
}

TEST_CASE("executor launch: pinned cores come from the pool and go back when the executor ends") {
  fixture f;
  auto pinned = executor("app-1", "0");
  pinned.conf.push_back({"ember.executor.pinCores", "true"});
  auto spawn = only<spawn_executor>(f.w.launch_executor(pinned)).at(0);
  CHECK(spawn.spec.cpus == std::vector<int>{0, 1});
  f.w.executor_started({"app-1", "0"}, 100, "", {});
  auto second = pinned;
  second.executor_id = "1";
  CHECK(only<spawn_executor>(f.w.launch_executor(second)).at(0).spec.cpus == std::vector<int>{2, 3});
  f.w.executor_started({"app-1", "1"}, 101, "", {});
  auto third = pinned;
  third.executor_id = "2";
  auto d = f.w.launch_executor(third);
  CHECK(only<spawn_executor>(d).at(0).spec.cpus.empty());
  CHECK(only<log_line>(d).at(0).text
        == "executor app-1/2: no 2 free CPUs to pin it to (ember.executor.pinCores); it runs unpinned");
  f.w.executor_start_failed({"app-1", "2"}, "fork failed");
  f.w.child_exited(100, exited(0), false);
  auto fourth = pinned;
  fourth.executor_id = "3";
  CHECK(only<spawn_executor>(f.w.launch_executor(fourth)).at(0).spec.cpus == std::vector<int>{0, 1});
}

TEST_CASE("binary fetch: launches waiting for one binary share a fetch; a failure fails each of them") {
  fixture f;
  CHECK(actions(f.w.launch_executor(executor("app-2", "0", hash_b))) == lines{"fetch " + hash_b + " from d:4000"});
  CHECK(actions(f.w.launch_executor(executor("app-2", "1", hash_b))).empty());
  CHECK(f.w.fetches() == std::vector<std::string>{hash_b});
  // Killed while waiting: it never started.
  CHECK(trace(f.w.kill_executor({"app-2", "1"}, "released by the application"))
        == lines{"executor app-2/1 killed 0 0 pid 0 killed_by_driver: released by the application"});
  CHECK(actions(f.w.fetch_succeeded(hash_b, "/w/binaries/" + hash_b)) == lines{"spawn executor app-2/0"});
  CHECK(f.w.fetches().empty());

  CHECK(actions(f.w.launch_executor(executor("app-3", "0", hash_c))) == lines{"fetch " + hash_c + " from d:4000"});
  CHECK(actions(f.w.fetch_failed(hash_c, "cannot reach the driver at d:4000"))
        == lines{"executor app-3/0 failed 0 0 pid 0 exit_code: cannot reach the driver at d:4000"});
  CHECK(actions(f.w.launch_executor(executor("app-3", "1", "md5:abc")))
        == lines{"executor app-3/1 failed 0 0 pid 0 exit_code: bad content hash 'md5:abc' for the application binary"});
  // An XXH64-style or upper-case hash is not a digest: it would name a file, so it is refused.
  CHECK(actions(f.w.launch_executor(executor("app-3", "2", "xxh64:0123456789abcdef")))
        == lines{"executor app-3/2 failed 0 0 pid 0 exit_code: bad content hash 'xxh64:0123456789abcdef' for the "
                 "application binary"});
}

TEST_CASE("shutdown while a binary fetch is in flight: the fetch is dropped and its binary never runs") {
  fixture f;
  REQUIRE(actions(f.w.launch_executor(executor("app-2", "0", hash_b))) == lines{"fetch " + hash_b + " from d:4000"});
  CHECK(trace(f.w.shutdown())
        == lines{"log info: worker w1 stopping: killing 0 executor(s) and 0 driver(s)", "cancel fetches",
                 "log info: all child processes reaped; worker w1 stops", "finish shutdown"});
  CHECK(f.w.run() == run_state::stopped);
  CHECK(f.w.executors().empty());
  CHECK(trace(f.w.fetch_succeeded(hash_b, "/w/binaries/" + hash_b)).empty());
  CHECK(trace(f.w.launch_executor(executor("app-2", "1"))).empty());
}

TEST_CASE("shutdown with running children: SIGTERM, SIGKILL after the grace period, finish once all are reaped") {
  fixture f;
  f.run_executor("app-1", "0", 100);
  REQUIRE(actions(f.w.launch_executor(executor("app-2", "0", hash_b))) == lines{"fetch " + hash_b + " from d:4000"});
  f.w.launch_driver(driver("driver-1", true));
  f.w.driver_started("driver-1", 200, "");
  CHECK(trace(f.w.shutdown())
        == lines{"log info: worker w1 stopping: killing 1 executor(s) and 1 driver(s)", "SIGTERM 100",
                 "escalate 100 in 5000", "SIGTERM 200", "escalate 200 in 5000", "cancel fetches"});
  CHECK(f.w.run() == run_state::shutting_down);
  // Ends are not reported during a shutdown; a supervised driver is not restarted.
  CHECK(actions(f.w.child_exited(200, killed(SIGTERM), false)) == lines{"remove cgroup "});
  CHECK(trace(f.w.escalate_tick(100))
        == lines{"log warn: pid 100 still alive 5000 ms after SIGTERM: SIGKILL", "SIGKILL 100"});
  CHECK(actions(f.w.child_exited(100, killed(SIGKILL), false))
        == lines{"remove cgroup ", "remove dirs /tmp/l/ember-app-1-4000/0", "finish shutdown"});
  // The heartbeat goes on while children die (the master still hears from this worker).
  CHECK(trace(f.w.heartbeat_tick()) == lines{"heartbeat 0 0", "heartbeat in 15000"});
}

TEST_CASE("supervised driver: restarts back off, doubling up to 64 times the interval, until killed") {
  fixture f;
  CHECK(actions(f.w.launch_driver(driver("driver-1", true))) == lines{"spawn driver driver-1 /w/binaries/" + hash_a});
  CHECK(trace(f.w.driver_started("driver-1", 200, ""))
        == lines{"log info: driver driver-1 started as pid 200 in /w/driver-1",
                 "driver driver-1 running 0 0 pid 200: pid 200"});
  CHECK(actions(f.w.child_exited(200, exited(1), false))
        == lines{"remove cgroup ", "driver driver-1 relaunching 1 0 pid 0: driver driver-1 ended with exit code 1; "
                                   "restarting in 1000 ms",
                 "restart driver-1 in 1000"});
  std::vector<long> waits;
  for (pid_t pid = 201; pid < 209; ++pid) {
    REQUIRE(actions(f.w.restart_driver_tick("driver-1")) == lines{"spawn driver driver-1 /w/binaries/" + hash_a});
    f.w.driver_started("driver-1", pid, "");
    waits.push_back(only<restart_driver_later>(f.w.child_exited(pid, killed(SIGSEGV), false)).at(0).delay.count());
  }
  CHECK(waits == std::vector<long>{2000, 4000, 8000, 16000, 32000, 64000, 64000, 64000});
  CHECK(f.w.drivers().at("driver-1").restarts == 9);
  // Killed while waiting for its restart: reported, and the pending restart does nothing.
  CHECK(trace(f.w.kill_driver("driver-1")) == lines{"driver driver-1 killed 0 0 pid 0: driver driver-1 killed"});
  CHECK(trace(f.w.restart_driver_tick("driver-1")).empty());
  CHECK(f.w.drivers().empty());
}

TEST_CASE("drivers: a clean exit finishes, an unsupervised failure fails, a kill is killed, a missing binary errs") {
  fixture f;
  f.w.launch_driver(driver("d-ok", true));
  f.w.driver_started("d-ok", 300, "");
  CHECK(only<report_driver>(f.w.child_exited(300, exited(0), false)).at(0).state == driver_state::finished);
  f.w.launch_driver(driver("d-fail", false));
  f.w.driver_started("d-fail", 301, "");
  CHECK(tracer{}(only<report_driver>(f.w.child_exited(301, exited(2), false)).at(0))
        == "driver d-fail failed 2 0 pid 0: driver d-fail ended with exit code 2");
  f.w.launch_driver(driver("d-kill", true));
  f.w.driver_started("d-kill", 302, "");
  CHECK(trace(f.w.kill_driver("d-kill")) == lines{"SIGTERM 302", "escalate 302 in 5000"});
  CHECK(tracer{}(only<report_driver>(f.w.child_exited(302, killed(SIGTERM), false)).at(0))
        == "driver d-kill killed 0 15 pid 0: driver d-kill ended with signal 15 (SIGTERM)");
  // Not in the cache: fetched from the master (ember submit handed it over there); a failed fetch
  // is the driver's error.
  auto missing = driver("d-missing", false);
  missing.binary.content_hash = hash_b;
  CHECK(actions(f.w.launch_driver(missing)) == lines{"fetch " + hash_b + " from the master"});
  CHECK(f.w.drivers().at("d-missing").fetching);
  CHECK(actions(f.w.fetch_failed(hash_b, "the master holds no binary " + hash_b))
        == lines{"driver d-missing error 0 0 pid 0: driver d-missing: the master holds no binary " + hash_b});
  f.w.launch_driver(driver("d-fork", false));
  CHECK(trace(f.w.driver_start_failed("d-fork", "fork: Resource temporarily unavailable"))
        == lines{"driver d-fork error 0 0 pid 0: driver d-fork: fork: Resource temporarily unavailable"});
  CHECK(f.w.drivers().empty());
}

TEST_CASE("drivers: a binary fetched from the master starts every driver waiting for it, unless killed meanwhile") {
  fixture f;
  auto a = driver("d-1", true);
  a.binary.content_hash = hash_b;
  auto b = driver("d-2", false);
  b.binary.content_hash = hash_b;
  auto c = driver("d-3", false);
  c.binary.content_hash = hash_b;
  CHECK(actions(f.w.launch_driver(a)) == lines{"fetch " + hash_b + " from the master"});
  CHECK(actions(f.w.launch_driver(b)).empty());  // one fetch per binary
  CHECK(actions(f.w.launch_driver(c)).empty());
  CHECK(f.w.fetches() == std::vector<std::string>{hash_b});
  CHECK(actions(f.w.restart_driver_tick("d-1")).empty());  // a stray tick while fetching starts nothing
  CHECK(trace(f.w.kill_driver("d-3")) == lines{"driver d-3 killed 0 0 pid 0: driver d-3 killed"});
  CHECK(actions(f.w.fetch_succeeded(hash_b, "/w/binaries/" + hash_b))
        == lines{"spawn driver d-1 /w/binaries/" + hash_b, "spawn driver d-2 /w/binaries/" + hash_b});
  CHECK(!f.w.drivers().at("d-1").fetching);
  CHECK(f.w.drivers().count("d-3") == 0);
  // Shutting down while a driver's binary is on its way: the fetch is cancelled, nothing starts.
  auto d = driver("d-4", false);
  d.binary.content_hash = hash_c;
  CHECK(actions(f.w.launch_driver(d)) == lines{"fetch " + hash_c + " from the master"});
  auto out = actions(f.w.shutdown());
  CHECK(std::count(out.begin(), out.end(), "cancel fetches") == 1);
  CHECK(actions(f.w.fetch_succeeded(hash_c, "/w/binaries/" + hash_c)).empty());
}

TEST_CASE("application finished: its executors are killed and its work dir goes once they are reaped") {
  fixture f;
  f.run_executor("app-1", "0", 100);
  f.run_executor("app-2", "0", 101);
  CHECK(actions(f.w.application_finished("app-1")) == lines{"SIGTERM 100", "escalate 100 in 5000"});
  CHECK(actions(f.w.child_exited(100, exited(0), false))
        == lines{"remove cgroup ", "remove dirs /tmp/l/ember-app-1-4000/0",
                 "executor app-1/0 killed 0 0 pid 100 killed_by_driver: executor 0 killed by the worker (exit code 0)",
                 "remove app dir app-1"});
  CHECK(actions(f.w.application_finished("app-3")) == lines{"remove app dir app-3"});
}

TEST_CASE("ids that become directory names are validated") {
  fixture f;
  CHECK(trace(f.w.launch_executor(executor("../etc", "0")))
        == lines{"log error: dropped LaunchExecutor: app id '../etc' contains '/', so it cannot name a directory"});
  CHECK(trace(f.w.launch_executor(executor("app-1", "..")))
        == lines{"log error: dropped LaunchExecutor: executor id '..' is '..', so it cannot name a directory"});
  CHECK(trace(f.w.launch_executor(executor("binaries", "0")))
        == lines{"log error: dropped LaunchExecutor: app id 'binaries' is the binary cache's directory, so it cannot "
                 "name a directory"});
  CHECK(trace(f.w.launch_executor(executor("", "0")))
        == lines{"log error: dropped LaunchExecutor: app id '' is empty, so it cannot name a directory"});
  CHECK(trace(f.w.application_finished("."))
        == lines{"log error: dropped ApplicationFinished: app id '.' is '.', so it cannot name a directory"});
  CHECK(trace(f.w.launch_driver(driver("a/b", false)))
        == lines{"log error: dropped LaunchDriver: driver id 'a/b' contains '/', so it cannot name a directory"});
  CHECK(f.w.executors().empty());
  CHECK(f.w.drivers().empty());
  CHECK(dir_name_problem("app-20261207-0001", true).empty());
  CHECK(dir_name_problem("binaries", false).empty());  // an executor id under its app's dir
}

TEST_CASE("drivers: a plain path without a SHA-256 digest is refused; the program run is the cached copy") {
  fixture f;
  // The binary lookup is asked only with a valid digest: a plain path never reaches it.
  for (const std::string& bad : std::vector<std::string>{"", "xxh64:0123456789abcdef", std::string(64, 'A'),
                                                    std::string(63, 'a'), "../../bin/sh"}) {
    auto plain = driver("d-plain", false);
    plain.binary = {"/bin/sh", bad, 0};
    CHECK(actions(f.w.launch_driver(plain))
          == lines{"driver d-plain error 0 0 pid 0: driver d-plain: refused: binary /bin/sh has no SHA-256 digest ('" + bad
                   + "'); a cluster-mode driver must be an application binary shipped by ember submit"});
    CHECK(f.w.drivers().empty());
  }
  auto ds = f.w.launch_driver(driver("d-ok", false));
  auto spawns = only<spawn_driver>(ds);
  REQUIRE(spawns.size() == 1);
  CHECK(spawns[0].spec.program == "/w/binaries/" + hash_a);  // not /apps/wc, the path the message names
}
