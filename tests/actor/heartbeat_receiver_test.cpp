// heartbeat_receiver under virtual time: silence for ember.network.timeout declares an executor
// lost (ExecutorLost{heartbeatTimeout} to the task scheduler, KillExecutors to the app client);
// a heartbeat moves the deadline; a heartbeat from a lost executor is told to re-register.
#define CAF_SUITE heartbeat_receiver
#include "tests/actor/actor_fixture.hpp"

#include "actors/heartbeat_receiver.hpp"
#include "actors/conversions.hpp"

using namespace std::chrono_literals;
using namespace ember;
using namespace ember::actors;
using ember::actor_test::recorder;

namespace {

struct heartbeat_fixture : actor_test::fixture {
  recorder tasks = stand_in(); // the task scheduler
  recorder app = stand_in();   // the app client (KillExecutors go through the master)
  recorder exec = stand_in();  // the executor's actor (heartbeats come from it)
  caf::actor hb;

  heartbeat_fixture() {
    heartbeat_receiver_config cfg;
    cfg.timeout = 2000ms;
    cfg.check_interval = 500ms;
    hb = started(spawn_heartbeat_receiver(sys, cfg, tasks.handle));
    caf::anon_send(hb, kill_target_atom::value, app.handle);
    caf::anon_send(hb, executor_registered_atom::value, std::string{"1"}, std::string{"h1"}, exec.handle);
    sched.run();
  }

  void beat(const std::string& id) {
    caf::send_as(exec.handle, hb, make_wire<proto::Heartbeat>([&](proto::Heartbeat::Builder b) { b.setExecutorId(id); }));
    sched.run();
  }

  // The reregister flags of every HeartbeatResponse the executor got, in order.
  std::vector<bool> responses() const {
    std::vector<bool> out;
    for (auto& r : exec.all<proto::HeartbeatResponse>())
      out.push_back(r.reader().getReregister());
    return out;
  }

  void check_lost(const std::string& silence) {
    auto lost = tasks.all<proto::ExecutorLost>();
    CAF_REQUIRE_EQUAL(lost.size(), 1u);
    auto r = lost[0].reader();
    CAF_CHECK_EQUAL(str(r.getExecutorId()), "1");
    CAF_CHECK_EQUAL(str(r.getHost()), "h1");
    CAF_CHECK(r.getCause() == proto::ExecutorLossCause::HEARTBEAT_TIMEOUT);
    CAF_CHECK_EQUAL(r.getWorkerView(), false);
    CAF_CHECK_EQUAL(str(r.getMessage()),
                    "executor 1 on h1: no heartbeat for " + silence + " (ember.network.timeout 2.0 s)");
    auto kills = app.all<proto::KillExecutors>();
    CAF_REQUIRE_EQUAL(kills.size(), 1u);
    auto ids = kills[0].reader().getExecutorIds();
    CAF_REQUIRE_EQUAL(ids.size(), 1u);
    CAF_CHECK_EQUAL(str(ids[0]), "1");
    CAF_CHECK_EQUAL(tasks.size(), 1u); // nothing else went to the task scheduler
    CAF_CHECK_EQUAL(app.size(), 1u);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(heartbeat_receiver_tests, heartbeat_fixture)

CAF_TEST(a silent executor is declared lost after the timeout and its process killed) {
  tick(500ms, 4); // checks at 0.5, 1, 1.5, 2 s: silent for exactly the timeout is not lost yet
  CAF_CHECK_EQUAL(tasks.size(), 0u);
  CAF_CHECK_EQUAL(app.size(), 0u);
  tick(500ms); // 2.5 s
  check_lost("2.5 s");
  tick(500ms, 10); // declared once, not at every check
  CAF_CHECK_EQUAL(tasks.size(), 1u);
  CAF_CHECK_EQUAL(app.size(), 1u);
}

CAF_TEST(a heartbeat before the timeout keeps the executor alive) {
  tick(500ms, 3); // 1.5 s
  beat("1");
  CAF_CHECK_EQUAL(responses(), std::vector<bool>{false});
  tick(500ms, 4); // 3.5 s: silent for 2 s exactly
  CAF_CHECK_EQUAL(tasks.size(), 0u);
  CAF_CHECK_EQUAL(app.size(), 0u);
  tick(500ms); // 4 s: silent for 2.5 s since its heartbeat
  check_lost("2.5 s");
}

CAF_TEST(a heartbeat from a lost executor gets reregister and from a never registered one not) {
  beat("9"); // never registered here: a heartbeat may overtake its registration
  tick(500ms, 5);
  check_lost("2.5 s");
  beat("1"); // woke up (SIGCONT) after being declared lost: the driver no longer knows it
  CAF_CHECK_EQUAL(responses(), (std::vector<bool>{false, true}));
  // Re-registered, it is alive again.
  caf::anon_send(hb, executor_registered_atom::value, std::string{"1"}, std::string{"h1"}, exec.handle);
  sched.run();
  beat("1");
  CAF_CHECK_EQUAL(responses(), (std::vector<bool>{false, true, false}));
}

CAF_TEST(an executor whose connection ends after a long silence is declared lost at once) {
  tick(500ms, 2); // 1 s silent: half the timeout
  caf::anon_send_exit(exec.handle, caf::exit_reason::kill);
  sched.run();
  check_lost("1.0 s");
}

CAF_TEST(an executor whose connection ends early is forgotten without a kill) {
  tick(500ms); // 0.5 s: a crash, which its worker reports with the cause
  caf::anon_send_exit(exec.handle, caf::exit_reason::kill);
  sched.run();
  tick(500ms, 10);
  CAF_CHECK_EQUAL(tasks.size(), 0u);
  CAF_CHECK_EQUAL(app.size(), 0u);
}

CAF_TEST_FIXTURE_SCOPE_END()
