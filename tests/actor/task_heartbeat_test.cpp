// Heartbeats carrying running tasks, under virtual time: the heartbeat receiver passes those of
// live executors on to the task scheduler; the task scheduler posts them as one
// executorMetricsUpdate event with the tasks' stages, and counts a queued attempt as running
// (speculation) only from the start its executor reports.
#define CAF_SUITE task_heartbeat
#include <algorithm>

#include "tests/actor/actor_fixture.hpp"

#include "actors/heartbeat_receiver.hpp"
#include "actors/conversions.hpp"
#include "actors/task_scheduler_actor.hpp"

using namespace std::chrono_literals;
using namespace ember;
using namespace ember::actors;
using ember::actor_test::recorder;

namespace {

struct beat_task {
  uint64_t task_id;
  uint32_t attempt;
  std::chrono::milliseconds run_time;
};

wire<proto::Heartbeat> heartbeat(const std::string& id, const std::vector<beat_task>& tasks) {
  return make_wire<proto::Heartbeat>([&](proto::Heartbeat::Builder b) {
    b.setExecutorId(id);
    auto list = b.initTasks(static_cast<unsigned>(tasks.size()));
    for (unsigned i = 0; i < tasks.size(); ++i) {
      list[i].setTaskId(tasks[i].task_id);
      list[i].setAttempt(tasks[i].attempt);
      auto m = list[i].initMetrics();
      m.setExecutorRunTimeNs(static_cast<uint64_t>(std::chrono::nanoseconds{tasks[i].run_time}.count()));
      m.setExecutorCpuTimeNs(static_cast<uint64_t>(std::chrono::nanoseconds{tasks[i].run_time / 2}.count()));
    }
  });
}

// -- heartbeat receiver ---------------------------------------------------------------------

struct receiver_fixture : actor_test::fixture {
  recorder tasks = stand_in(); // the task scheduler
  recorder exec = stand_in();
  caf::actor hb;

  receiver_fixture() {
    heartbeat_receiver_config cfg;
    cfg.timeout = 2000ms;
    cfg.check_interval = 500ms;
    hb = started(spawn_heartbeat_receiver(sys, cfg, tasks.handle));
    caf::anon_send(hb, executor_registered_atom::value, std::string{"1"}, std::string{"h1"}, exec.handle);
    sched.run();
  }
  void beat(const wire<proto::Heartbeat>& msg) {
    caf::send_as(exec.handle, hb, msg);
    sched.run();
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(heartbeat_receiver_task_tests, receiver_fixture)

CAF_TEST(a heartbeat with running tasks reaches the task scheduler as it came) {
  beat(heartbeat("1", {}));                            // nothing running: nothing to pass on
  beat(heartbeat("9", {{5, 0, 100ms}}));              // never registered here
  CAF_CHECK_EQUAL(tasks.size(), 0u);
  beat(heartbeat("1", {{7, 1, 1500ms}, {8, 0, 20ms}}));
  auto got = tasks.all<proto::Heartbeat>();
  CAF_REQUIRE_EQUAL(got.size(), 1u);
  CAF_CHECK_EQUAL(tasks.size(), 1u);
  auto r = got[0].reader();
  CAF_CHECK_EQUAL(str(r.getExecutorId()), "1");
  CAF_REQUIRE_EQUAL(r.getTasks().size(), 2u);
  CAF_CHECK_EQUAL(r.getTasks()[0].getTaskId(), 7u);
  CAF_CHECK_EQUAL(r.getTasks()[0].getAttempt(), 1u);
  CAF_CHECK_EQUAL(r.getTasks()[0].getMetrics().getExecutorRunTimeNs(), 1'500'000'000u);
  CAF_CHECK_EQUAL(r.getTasks()[1].getTaskId(), 8u);
  CAF_CHECK_EQUAL(r.getTasks()[1].getMetrics().getExecutorRunTimeNs(), 20'000'000u);
  // Every heartbeat is still answered, with or without tasks.
  CAF_CHECK_EQUAL(exec.all<proto::HeartbeatResponse>().size(), 3u);
}

CAF_TEST(the heartbeat of a lost executor does not reach the task scheduler) {
  tick(500ms, 5); // silent 2.5 s: declared lost
  CAF_REQUIRE_EQUAL(tasks.all<proto::ExecutorLost>().size(), 1u);
  beat(heartbeat("1", {{7, 0, 3000ms}}));
  CAF_CHECK_EQUAL(tasks.all<proto::Heartbeat>().size(), 0u);
  auto answers = exec.all<proto::HeartbeatResponse>();
  CAF_REQUIRE_EQUAL(answers.size(), 1u);
  CAF_CHECK(answers[0].reader().getReregister());
}

CAF_TEST_FIXTURE_SCOPE_END()

namespace {

// -- task scheduler -------------------------------------------------------------------------

struct launched {
  uint64_t task_id;
  uint32_t attempt;
  uint32_t partition;
  bool speculative;
};

struct scheduler_fixture : actor_test::fixture {
  recorder dag = stand_in();
  recorder bus = stand_in();
  recorder receiver = stand_in(); // heartbeats come from the heartbeat receiver
  caf::actor ts;

  scheduler_fixture() {
    task_scheduler_config cfg;
    cfg.settings.task_set.speculation = true;
    cfg.settings.speculation_interval = 100ms;
    cfg.settings.task_set.speculation_quantile = 0.5;
    cfg.settings.task_set.speculation_multiplier = 1.5;
    cfg.settings.task_set.speculation_min_runtime = 50ms;
    cfg.task_queue_depth = 2; // 1 core: 1 running, 2 queued
    cfg.listener_bus = bus.handle;
    cfg.task_events = true;
    ts = started(spawn_task_scheduler(sys, cfg));
    caf::anon_send(ts, dag.handle);
    sched.run();
  }

  recorder add_executor(const std::string& id, bool reports_starts) {
    auto exec = stand_in();
    caf::send_as(exec.handle, ts, make_wire<proto::RegisterExecutor>([&](proto::RegisterExecutor::Builder b) {
      b.setExecutorId(id);
      b.setHost("h" + id);
      b.setCores(1);
      b.setReportsTaskStarts(reports_starts);
    }));
    sched.run();
    CAF_REQUIRE_EQUAL(exec.all<proto::ExecutorRegistered>().size(), 1u);
    return exec;
  }

  void submit(uint32_t stage, uint32_t n) {
    caf::anon_send(ts, make_wire<proto::SubmitTaskSet>([&](proto::SubmitTaskSet::Builder b) {
      b.setStageId(stage);
      b.setKind(proto::TaskKind::RESULT);
      b.setTaskBinary(bytes("binary"));
      auto ps = b.initPartitions(n);
      for (unsigned i = 0; i < n; ++i)
        ps.set(i, i);
      b.setName("map");
    }));
    sched.run();
  }

  static std::vector<launched> launches(const recorder& exec) {
    std::vector<launched> out;
    for (auto& m : exec.all<proto::LaunchTasks>())
      for (auto t : m.reader().getTasks())
        out.push_back({t.getTaskId(), t.getAttempt(), t.getPartition(), t.getSpeculative()});
    return out;
  }

  void finish(const recorder& exec, const std::string& id, launched l, std::chrono::milliseconds run_time) {
    caf::send_as(exec.handle, ts, make_wire<proto::StatusUpdates>([&](proto::StatusUpdates::Builder m) {
      auto u = m.initUpdates(1)[0];
      u.setExecutorId(id);
      u.setTaskId(l.task_id);
      u.setAttempt(l.attempt);
      u.setState(proto::TaskState::FINISHED);
      u.getResult().setDirect(bytes("r"));
      u.initMetrics().setExecutorRunTimeNs(static_cast<uint64_t>(std::chrono::nanoseconds{run_time}.count()));
    }));
    sched.run();
  }

  void beat(const wire<proto::Heartbeat>& msg) {
    caf::send_as(receiver.handle, ts, msg);
    sched.run();
  }

  // e2 runs its three tasks one after the other, 300 ms each (virtual time 0.3, 0.6, 0.9 s).
  void run_three(const recorder& exec, const std::string& id, const std::vector<launched>& tasks) {
    CAF_REQUIRE_EQUAL(tasks.size(), 3u);
    for (auto& l : tasks) {
      tick(100ms, 3);
      finish(exec, id, l, 300ms);
    }
  }

  std::vector<wire<proto::ListenerEvent>> metrics_events() const {
    std::vector<wire<proto::ListenerEvent>> out;
    for (auto& e : bus.all<proto::ListenerEvent>())
      if (e.reader().isExecutorMetricsUpdate())
        out.push_back(e);
    return out;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(task_scheduler_heartbeat_tests, scheduler_fixture)

CAF_TEST(a heartbeat becomes one executorMetricsUpdate event with the tasks stages) {
  auto e1 = add_executor("1", true);
  submit(4, 2);
  auto l = launches(e1);
  CAF_REQUIRE_EQUAL(l.size(), 2u);
  beat(heartbeat("1", {{l[0].task_id, l[0].attempt, 1234ms}, {999, 0, 5ms}}));
  beat(heartbeat("7", {{l[0].task_id, l[0].attempt, 1300ms}})); // not an executor here: dropped
  auto events = metrics_events();
  CAF_REQUIRE_EQUAL(events.size(), 1u);
  auto ev = events[0].reader().getExecutorMetricsUpdate();
  CAF_CHECK_EQUAL(str(ev.getExecutorId()), "1");
  CAF_CHECK(ev.getTime() > 0u);
  CAF_REQUIRE_EQUAL(ev.getTasks().size(), 2u);
  auto t = ev.getTasks()[0];
  CAF_CHECK_EQUAL(t.getTaskId(), l[0].task_id);
  CAF_CHECK_EQUAL(t.getAttempt(), l[0].attempt);
  CAF_CHECK(t.getStageKnown());
  CAF_CHECK_EQUAL(t.getStageId(), 4u);
  CAF_CHECK_EQUAL(t.getStageAttempt(), 0u);
  CAF_CHECK_EQUAL(t.getRunTimeMs(), 1234u);
  CAF_CHECK_EQUAL(t.getCpuTimeMs(), 617u);
  auto unknown = ev.getTasks()[1];
  CAF_CHECK_EQUAL(unknown.getTaskId(), 999u);
  CAF_CHECK(!unknown.getStageKnown());
  CAF_CHECK_EQUAL(unknown.getRunTimeMs(), 5u);
}

CAF_TEST(a queued attempt gets a copy only once it has run long enough since its reported start) {
  auto e1 = add_executor("1", true);
  auto e2 = add_executor("2", true);
  submit(0, 6);
  auto on1 = launches(e1), on2 = launches(e2);
  CAF_REQUIRE_EQUAL(on1.size(), 3u); // partitions 0, 2, 4: 0 runs, 2 and 4 wait in e1's queue
  CAF_REQUIRE_EQUAL(on2.size(), 3u);
  CAF_CHECK_EQUAL(on1[0].partition, 0u);
  CAF_CHECK_EQUAL(on1[1].partition, 2u);
  run_three(e2, "2", on2); // 0.9 s
  // 3 of 6 done in 300 ms each: threshold 450 ms. Partition 0 has run 1 s: one copy, on e2;
  // partitions 2 and 4, launched as long ago, wait in e1's queue.
  tick(100ms);
  auto copies = launches(e2);
  copies.erase(copies.begin(), copies.begin() + 3);
  CAF_REQUIRE_EQUAL(copies.size(), 1u);
  CAF_CHECK_EQUAL(copies[0].partition, 0u);
  CAF_CHECK(copies[0].speculative);
  // The original finishes at 1 s; partition 2 leaves e1's queue.
  finish(e1, "1", on1[0], 1000ms);
  tick(100ms, 5); // 1.5 s since its launch, still no copy
  CAF_CHECK_EQUAL(launches(e2).size(), 4u);
  beat(heartbeat("1", {{on1[1].task_id, on1[1].attempt, 100ms}})); // started at 1.4 s
  tick(100ms, 3); // 400 ms since: durations 300, 300, 300, 1000 ms -> median 300, threshold 450
  CAF_CHECK_EQUAL(launches(e2).size(), 4u);
  tick(100ms); // 500 ms
  auto all = launches(e2);
  CAF_REQUIRE_EQUAL(all.size(), 5u);
  CAF_CHECK_EQUAL(all[4].partition, 2u);
  CAF_CHECK(all[4].speculative);
}

CAF_TEST(without reported starts queued attempts count from their launch as before) {
  auto e1 = add_executor("1", false);
  auto e2 = add_executor("2", false);
  submit(0, 6);
  auto on1 = launches(e1), on2 = launches(e2);
  CAF_REQUIRE_EQUAL(on1.size(), 3u);
  run_three(e2, "2", on2);
  // Durations from launch 300, 600, 900 ms: threshold 900 ms, passed by all three on e1.
  tick(100ms);
  auto copies = launches(e2);
  copies.erase(copies.begin(), copies.begin() + 3);
  std::vector<uint32_t> parts;
  for (auto& c : copies)
    parts.push_back(c.partition);
  std::sort(parts.begin(), parts.end());
  CAF_CHECK_EQUAL(parts, (std::vector<uint32_t>{0, 2, 4}));
}

CAF_TEST_FIXTURE_SCOPE_END()
