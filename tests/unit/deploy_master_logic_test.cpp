// master_logic: worker registration and liveness, executor allocation (spread out vs
// consolidated, caps, FIFO between applications), failures and replacement, kills, requests,
// cluster-mode drivers. Pure logic: time is passed in.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "deploy/master_logic.hpp"
#include "tests/unit/deploy_test_util.hpp"

using namespace ember::deploy;
using ember_test::only;
using namespace std::chrono_literals;

namespace {

constexpr std::uint64_t gib = std::uint64_t{1} << 30;
const time_point t0{};

worker_description worker(std::string id, std::uint16_t port, std::uint32_t cores, std::uint64_t memory = 8 * gib) {
  return {std::move(id), "10.0.0.1", port, cores, memory};
}

app_description app(std::uint32_t executor_cores, std::uint32_t max_cores = 0, std::uint32_t initial = 0,
                    std::uint64_t memory = gib) {
  app_description a;
  a.name = "test";
  a.executor_cores = executor_cores;
  a.max_cores = max_cores;
  a.initial_executors = initial;
  a.executor_memory = memory;
  return a;
}


// "worker:executor" of every launch, in order.
std::vector<std::string> launches(const decisions& ds) {
  std::vector<std::string> r;
  for (auto& l : only<launch_executor>(ds))
    r.push_back(l.worker_id + ":" + l.app_id + "/" + l.executor_id);
  return r;
}

master_logic two_workers(bool spread, std::uint32_t cores = 4) {
  master_settings s;
  s.spread_out = spread;
  master_logic m{s};
  REQUIRE(m.register_worker(worker("w1", 1, cores), t0).accepted);
  REQUIRE(m.register_worker(worker("w2", 2, cores), t0).accepted);
  return m;
}

} // namespace

TEST_CASE("workers: duplicate host:port is refused, same id re-registers") {
  master_logic m{master_settings{}};
  auto r1 = m.register_worker(worker("w1", 7000, 4), t0);
  CHECK(r1.accepted);
  CHECK_FALSE(r1.duplicate);
  auto r2 = m.register_worker(worker("w2", 7000, 4), t0);
  CHECK_FALSE(r2.accepted);
  CHECK(r2.reason == "worker w2: 10.0.0.1:7000 is already registered as w1");
  auto r3 = m.register_worker(worker("w1", 7000, 4), t0);
  CHECK(r3.accepted);
  CHECK(r3.duplicate);
  CHECK(m.workers().size() == 1);
}

TEST_CASE("spread out: executors round-robin across workers") {
  auto m = two_workers(true);
  auto d = m.register_application("app-1", app(1, 4), 0);
  CHECK(launches(d) == std::vector<std::string>{"w1:app-1/0", "w1:app-1/1", "w2:app-1/2", "w2:app-1/3"});
  CHECK(m.workers().at("w1").cores_used == 2);
  CHECK(m.workers().at("w2").cores_used == 2);
  auto added = only<executor_added>(d);
  REQUIRE(added.size() == 4);
  CHECK(added[2].worker_id == "w2");
  CHECK(added[2].host == "10.0.0.1");
  CHECK(added[2].memory == gib);
}

TEST_CASE("consolidate: fill one worker first") {
  auto m = two_workers(false);
  auto d = m.register_application("app-1", app(1, 4), 0);
  CHECK(launches(d) == std::vector<std::string>{"w1:app-1/0", "w1:app-1/1", "w1:app-1/2", "w1:app-1/3"});
  CHECK(m.workers().at("w2").cores_used == 0);
}

TEST_CASE("caps: executor cores, memory per worker, max cores, initial executors") {
  SUBCASE("2-core executors on 3-core workers: one per worker") {
    auto m = two_workers(true, 3);
    auto d = m.register_application("a", app(2), 0);
    CHECK(launches(d) == std::vector<std::string>{"w1:a/0", "w2:a/1"});
  }
  SUBCASE("memory limits executors per worker") {
    auto m = two_workers(false, 8);
    auto d = m.register_application("a", app(1, 0, 0, 3 * gib), 0);  // 8 GiB workers: 2 each
    CHECK(launches(d) == std::vector<std::string>{"w1:a/0", "w1:a/1", "w2:a/2", "w2:a/3"});
  }
  SUBCASE("max cores 3 with 2-core executors: one executor") {
    auto m = two_workers(true);
    auto d = m.register_application("a", app(2, 3), 0);
    CHECK(launches(d) == std::vector<std::string>{"w1:a/0"});
  }
  SUBCASE("initial executors caps the count") {
    auto m = two_workers(true);
    auto d = m.register_application("a", app(1, 0, 3), 0);
    CHECK(launches(d).size() == 3);
    CHECK(m.app("a")->executors.size() == 3);
  }
  SUBCASE("default cores applies without max cores") {
    master_settings s;
    s.default_cores = 2;
    master_logic m{s};
    m.register_worker(worker("w1", 1, 8), t0);
    auto d = m.register_application("a", app(1), 0);
    CHECK(launches(d).size() == 2);
  }
}

TEST_CASE("two applications FIFO: the first takes what it may, the second gets the rest") {
  auto m = two_workers(true);
  auto d1 = m.register_application("app-1", app(1, 6), 0);
  CHECK(launches(d1).size() == 6);
  auto d2 = m.register_application("app-2", app(1), 0);
  CHECK(launches(d2) == std::vector<std::string>{"w1:app-2/0", "w2:app-2/1"});
  // app-1 ends: its cores go to app-2, which has no cap.
  auto d3 = m.finish_application("app-1", app_state::finished, "done");
  auto kills = only<kill_executor>(d3);
  CHECK(kills.size() == 6);
  CHECK(only<application_finished>(d3).size() == 1);
  CHECK(launches(d3).size() == 6);
  CHECK(m.app("app-2")->executors.size() == 8);
  CHECK(m.app("app-1")->state == app_state::finished);
  REQUIRE(m.apps().size() == 1);
  CHECK(m.apps()[0]->id == "app-2");
}

TEST_CASE("killing an application tells its driver first, kills its executors, frees its cores") {
  auto m = two_workers(true);
  CHECK(launches(m.register_application("app-1", app(1, 8), 0)).size() == 8);
  CHECK(launches(m.register_application("app-2", app(1), 0)).empty());  // app-1 holds every core
  auto [found, ds] = m.kill_application("app-1", "killed from the UI");
  CHECK(found);
  REQUIRE_FALSE(ds.empty());
  auto* removed = std::get_if<application_removed>(&ds.front());
  REQUIRE(removed != nullptr);
  CHECK(removed->app_id == "app-1");
  CHECK(removed->reason == "killed from the UI");
  CHECK(only<kill_executor>(ds).size() == 8);
  CHECK(only<application_finished>(ds).size() == 1);
  CHECK(launches(ds).size() == 8);  // app-2 gets them
  CHECK(m.app("app-1")->state == app_state::killed);
  // Already finished, or never known: nothing to do.
  CHECK_FALSE(m.kill_application("app-1", "again").first);
  CHECK(m.kill_application("app-1", "again").second.empty());
  CHECK_FALSE(m.kill_application("app-9", "unknown").first);
}

TEST_CASE("an application waits for workers, then gets executors on registration") {
  master_logic m{master_settings{}};
  CHECK(m.register_application("a", app(2), 0).empty());
  CHECK(m.app("a")->state == app_state::waiting);
  auto r = m.register_worker(worker("w1", 1, 4), t0);
  CHECK(launches(r.out) == std::vector<std::string>{"w1:a/0", "w1:a/1"});
  CHECK(m.app("a")->state == app_state::running);
}

TEST_CASE("worker loss: executors reported lost with workerLost, replaced elsewhere") {
  auto m = two_workers(true);
  m.register_application("a", app(1, 2), 0);  // one on each
  auto d = m.worker_lost("w2", "connection closed");
  auto updates = only<executor_updated>(d);
  REQUIRE(updates.size() == 1);
  CHECK(updates[0].executor_id == "1");
  CHECK(updates[0].state == executor_state::lost);
  CHECK(updates[0].worker_lost);
  CHECK(updates[0].message == "worker w2 lost: connection closed");
  CHECK(launches(d) == std::vector<std::string>{"w1:a/2"});
  CHECK_FALSE(m.workers().at("w2").alive);
  CHECK(m.workers().at("w2").cores_used == 0);
  // A heartbeat from the dead worker asks it to register again.
  auto hb = m.worker_heartbeat("w2", t0 + 1s);
  REQUIRE(only<reconnect_worker>(hb).size() == 1);
  auto again = m.register_worker(worker("w2", 2, 4), t0 + 2s);
  CHECK(again.accepted);
  CHECK(again.duplicate);
  CHECK(m.workers().at("w2").alive);
}

TEST_CASE("liveness: a worker silent for longer than the timeout is lost") {
  master_settings s;
  s.worker_timeout = 10s;
  master_logic m{s};
  m.register_worker(worker("w1", 1, 4), t0);
  m.register_worker(worker("w2", 2, 4), t0);
  m.worker_heartbeat("w1", t0 + 8s);
  CHECK(m.check_timeouts(t0 + 10s).empty());
  m.check_timeouts(t0 + 11s);
  CHECK(m.workers().at("w1").alive);
  CHECK_FALSE(m.workers().at("w2").alive);
}

TEST_CASE("executor exits: relayed, removed, replaced; maxExecutorRetries failures in a row remove the app") {
  master_settings s;
  s.max_executor_retries = 3;
  master_logic m{s};
  m.register_worker(worker("w1", 1, 1), t0);
  auto d = m.register_application("a", app(1), 0);
  REQUIRE(launches(d) == std::vector<std::string>{"w1:a/0"});
  auto running = m.executor_state_changed("a", "0", executor_state::running, 0, 0, "", 4242);
  CHECK(m.app("a")->executors.at("0").pid == 4242);
  CHECK(only<executor_updated>(running).size() == 1);
  auto f1 = m.executor_state_changed("a", "0", executor_state::exited, 52, 0,
                                     "executor 0 on host A killed: exceeded ember.executor.memory (1g)", 0);
  REQUIRE(only<executor_updated>(f1).size() == 1);
  CHECK(only<executor_updated>(f1)[0].exit_code == 52);
  CHECK(launches(f1) == std::vector<std::string>{"w1:a/1"});
  // "running" does not reset the count (an executor dying at start-up reports it too)...
  m.executor_state_changed("a", "1", executor_state::running, 0, 0, "", 1);
  CHECK(m.app("a")->retry_count == 1);
  // ...a normal end does.
  CHECK(launches(m.executor_state_changed("a", "1", executor_state::exited, 0, 0, "", 0)).size() == 1);
  CHECK(m.app("a")->retry_count == 0);
  CHECK(launches(m.executor_state_changed("a", "2", executor_state::failed, 1, 0, "boom", 0)).size() == 1);
  CHECK(launches(m.executor_state_changed("a", "3", executor_state::exited, 1, 0, "boom", 0)).size() == 1);
  auto last = m.executor_state_changed("a", "4", executor_state::exited, 1, 0, "boom", 0);
  auto removed = only<application_removed>(last);
  REQUIRE(removed.size() == 1);
  CHECK(removed[0].reason == "application a removed: 3 executors failed in a row; the last one: boom");
  CHECK(launches(last).empty());
  CHECK(only<application_finished>(last).size() == 1);
  CHECK(m.apps().empty());
  CHECK(m.app("a")->state == app_state::failed);
  CHECK(m.workers().at("w1").cores_used == 0);
  // A late report about the removed application changes nothing.
  CHECK(m.executor_state_changed("a", "4", executor_state::exited, 1, 0, "", 0).empty());
}

TEST_CASE("a normal exit (code 0) or a kill is not a failure") {
  master_logic m{master_settings{}};
  m.register_worker(worker("w1", 1, 1), t0);
  m.register_application("a", app(1), 0);
  m.executor_state_changed("a", "0", executor_state::exited, 0, 0, "", 0);
  CHECK(m.app("a")->retry_count == 0);
  m.executor_state_changed("a", "1", executor_state::killed, 0, 15, "", 0);
  CHECK(m.app("a")->retry_count == 0);
  CHECK(m.app("a")->executors.count("2") == 1);
}

TEST_CASE("requests and kills (dynamic allocation)") {
  auto m = two_workers(true);
  auto d = m.register_application("a", app(1, 0, 1), 0);
  CHECK(launches(d) == std::vector<std::string>{"w1:a/0"});
  auto up = m.request_executors("a", 3);
  CHECK(launches(up) == std::vector<std::string>{"w2:a/1", "w1:a/2"});
  CHECK(m.request_executors("a", 3).empty());
  auto k = m.kill_executors("a", {"0", "2", "nope"});
  auto kills = only<kill_executor>(k);
  REQUIRE(kills.size() == 2);
  CHECK(kills[0].worker_id == "w1");
  CHECK(kills[0].executor_id == "0");
  CHECK(kills[1].executor_id == "2");
  CHECK(only<executor_updated>(k).size() == 2);
  // Still asks for 3: the two are replaced (the driver lowers its request before killing).
  CHECK(launches(k).size() == 2);
  m.request_executors("a", 1);
  auto k2 = m.kill_executors("a", {"3", "4"});
  CHECK(launches(k2).empty());
  CHECK(m.app("a")->executors.size() == 1);
  CHECK(m.workers().at("w1").cores_used + m.workers().at("w2").cores_used == 1);
}

TEST_CASE("kill without an executor limit keeps the rest and does not replace") {
  auto m = two_workers(true, 1);
  m.register_application("a", app(1), 0);
  auto k = m.kill_executors("a", {"0"});
  CHECK(launches(k).empty());
  CHECK(m.app("a")->executor_limit == 1u);
}

TEST_CASE("drivers: placement, kill, supervised relaunch on worker loss, error without supervise") {
  auto m = two_workers(true);
  driver_description desc;
  desc.cores = 1;
  desc.memory = gib;
  desc.supervise = true;
  auto d = m.submit_driver("driver-1", desc);
  auto l = only<launch_driver>(d);
  REQUIRE(l.size() == 1);
  CHECK(l[0].worker_id == "w1");
  CHECK(m.driver("driver-1")->state == driver_state::running);
  CHECK(m.workers().at("w1").cores_used == 1);
  desc.supervise = false;
  auto d2 = m.submit_driver("driver-2", desc);
  REQUIRE(only<launch_driver>(d2).size() == 1);
  CHECK(only<launch_driver>(d2)[0].worker_id == "w2");
  // w1 dies: driver-1 is supervised, relaunched on w2.
  auto lost = m.worker_lost("w1", "gone");
  auto relaunch = only<launch_driver>(lost);
  REQUIRE(relaunch.size() == 1);
  CHECK(relaunch[0].worker_id == "w2");
  CHECK(m.driver("driver-1")->restarts == 1);
  // w2 dies: driver-2 (not supervised) ends in error; driver-1 waits for a worker.
  m.worker_lost("w2", "gone");
  CHECK(m.driver("driver-2")->state == driver_state::error);
  CHECK(m.driver("driver-2")->message == "worker w2 lost: gone");
  CHECK(m.driver("driver-1")->worker_id.empty());
  auto r = m.register_worker(worker("w3", 3, 4), t0);
  CHECK(only<launch_driver>(r.out).size() == 1);
  auto [found, kd] = m.kill_driver("driver-1");
  CHECK(found);
  REQUIRE(only<kill_driver>(kd).size() == 1);
  CHECK(only<kill_driver>(kd)[0].worker_id == "w3");
  m.driver_state_changed("driver-1", driver_state::killed, 0, 15, "", 0);
  CHECK(m.driver("driver-1")->state == driver_state::killed);
  CHECK(m.workers().at("w3").cores_used == 0);
  CHECK(m.drivers().empty());
  CHECK_FALSE(m.kill_driver("driver-1").first);
  CHECK_FALSE(m.kill_driver("driver-9").first);
}

TEST_CASE("drivers: worker-side restarts counted, finish frees the worker") {
  master_logic m{master_settings{}};
  m.register_worker(worker("w1", 1, 2), t0);
  driver_description desc;
  desc.supervise = true;
  m.submit_driver("d", desc);
  m.driver_state_changed("d", driver_state::running, 0, 0, "", 77);
  CHECK(m.driver("d")->pid == 77);
  m.driver_state_changed("d", driver_state::relaunching, 3, 0, "exited with code 3, restarting", 0);
  CHECK(m.driver("d")->restarts == 1);
  m.driver_state_changed("d", driver_state::finished, 0, 0, "", 0);
  CHECK(m.driver("d")->state == driver_state::finished);
  CHECK(m.driver("d")->message == "exit code 0");
  CHECK(m.workers().at("w1").cores_used == 0);
}

TEST_CASE("bounded state: finished applications and drivers beyond the retained counts go, oldest first") {
  master_settings s;
  s.retained_applications = 3;
  s.retained_drivers = 2;
  master_logic m{s};
  m.register_worker(worker("w1", 1, 64), t0);
  for (int i = 0; i < 5; ++i) {
    auto id = "app-" + std::to_string(i);
    m.register_application(id, app(1), 0);
    m.finish_application(id, app_state::finished, "done");
  }
  std::vector<std::string> kept;
  for (auto& a : m.finished_apps())
    kept.push_back(a.id);
  CHECK(kept == std::vector<std::string>{"app-2", "app-3", "app-4"});
  driver_description desc;
  for (int i = 0; i < 4; ++i) {
    auto id = "driver-" + std::to_string(i);
    m.submit_driver(id, desc);
    m.driver_state_changed(id, driver_state::finished, 0, 0, "", 0);
  }
  std::vector<std::string> drivers;
  for (auto& d : m.finished_drivers())
    drivers.push_back(d.id);
  CHECK(drivers == std::vector<std::string>{"driver-2", "driver-3"});
  CHECK(m.driver("driver-1") == nullptr);
  CHECK(m.driver("driver-3")->state == driver_state::finished);
}

TEST_CASE("bounded state: a dead worker is forgotten after dead_worker_persistence timeouts") {
  master_settings s;
  s.worker_timeout = 10s;
  s.dead_worker_persistence = 3;
  master_logic m{s};
  m.register_worker(worker("w1", 1, 4), t0);
  m.register_worker(worker("w2", 2, 4), t0);
  m.worker_heartbeat("w1", t0 + 15s);
  m.check_timeouts(t0 + 11s);  // w2 lost; dead from here
  REQUIRE_FALSE(m.workers().at("w2").alive);
  m.worker_heartbeat("w1", t0 + 40s);
  m.check_timeouts(t0 + 41s);  // 30 s dead: still listed
  CHECK(m.workers().count("w2") == 1);
  m.worker_heartbeat("w1", t0 + 42s);
  m.check_timeouts(t0 + 42s);  // more than 3 x 10 s: gone
  CHECK(m.workers().count("w2") == 0);
  CHECK(m.workers().at("w1").alive);
  // Lost by a broken connection (no time given): counted from the next check.
  m.worker_lost("w1", "connection closed");
  m.check_timeouts(t0 + 50s);
  CHECK(m.workers().count("w1") == 1);
  m.check_timeouts(t0 + 81s);
  CHECK(m.workers().empty());
  // It may register again under its id.
  CHECK(m.register_worker(worker("w1", 1, 4), t0 + 90s).accepted);
}
