#include <doctest/doctest.h>

#include <map>

#include "scheduler/dag_planner.hpp"
#include "scheduler/task_scheduler.hpp"
#include "tests/unit/scheduler_test_lineage.hpp"

using namespace ember::scheduler;
using namespace ember::scheduler::testing;
using namespace std::chrono_literals;

namespace {

const clock_time t0{};

stage_submission sub(uint32_t job, uint32_t stage, uint32_t n, bool map_stage = false, uint32_t attempt = 0) {
  stage_submission s;
  s.job_id = job;
  s.stage_id = stage;
  s.stage_attempt = attempt;
  s.is_map_stage = map_stage;
  for (uint32_t p = 0; p < n; ++p)
    s.partitions.push_back(p);
  return s;
}

std::vector<std::string> where(const offer_result& r) {
  std::vector<std::string> v;
  for (auto& l : r.launches)
    v.push_back(l.executor_id);
  return v;
}

task_status done(const task_launch& l) {
  return {l.task_id, l.attempt, task_state::finished, {}, true};
}

} // namespace

TEST_CASE("offers spread tasks round-robin and never exceed free cores") {
  task_scheduler ts;
  ts.add_executor("e1", "h1", "", 2);
  ts.add_executor("e2", "h2", "", 2);
  ts.add_executor("e3", "h3", "", 2);
  CHECK(!ts.add_executor("e1", "h1", "", 8)); // duplicate registration changes nothing
  ts.submit(sub(0, 0, 7), t0);
  auto r = ts.offers(t0);
  CHECK(where(r) == std::vector<std::string>{"e1", "e2", "e3", "e1", "e2", "e3"});
  REQUIRE(r.launches.size() == 6);
  for (uint32_t i = 0; i < 6; ++i) {
    CHECK(r.launches[i].partition == i);
    CHECK(r.launches[i].task_id == i);
  }
  CHECK(ts.executors().find("e1")->free_cores == 0);
  CHECK(ts.offers(t0).launches.empty());

  auto out = ts.status_update(done(r.launches[1]), t0 + 1s);
  CHECK(out.kind == task_event_kind::finished);
  CHECK(out.stage_id == 0);
  CHECK(out.partition == 1);
  CHECK(ts.executors().find("e2")->free_cores == 1);
  auto dup = ts.status_update(done(r.launches[1]), t0 + 1s);
  CHECK(dup.kind == task_event_kind::ignored);
  CHECK(ts.executors().find("e2")->free_cores == 1); // a duplicate frees nothing
  auto next = ts.offers(t0 + 1s);
  CHECK(where(next) == std::vector<std::string>{"e2"});
  CHECK(next.launches[0].partition == 6);
}

TEST_CASE("task sets run FIFO by job, then stage") {
  task_scheduler ts;
  ts.add_executor("e1", "h1", "", 3);
  ts.submit(sub(1, 5, 2), t0);
  ts.submit(sub(0, 3, 1), t0);
  ts.submit(sub(0, 2, 1), t0);
  auto r = ts.offers(t0);
  REQUIRE(r.launches.size() == 3);
  CHECK(r.launches[0].stage_id == 2);
  CHECK(r.launches[1].stage_id == 3);
  CHECK(r.launches[2].stage_id == 5);
}

TEST_CASE("a removed executor's tasks are re-queued and its finished map tasks resubmitted") {
  task_scheduler ts;
  ts.add_executor("e1", "h1", "", 1);
  ts.add_executor("e2", "h2", "", 1);
  ts.submit(sub(0, 0, 3, true), t0);
  auto r = ts.offers(t0);
  REQUIRE(r.launches.size() == 2);
  ts.status_update(done(r.launches[0]), t0 + 1s); // partition 0 finished on e1
  auto r2 = ts.offers(t0 + 1s);
  REQUIRE(r2.launches.size() == 1);
  CHECK(r2.launches[0].executor_id == "e1");
  auto removal = ts.remove_executor("e1", "heartbeat timed out");
  CHECK(removal.known);
  CHECK(removal.host == "h1");
  CHECK(removal.host_lost);
  REQUIRE(removal.lost_tasks.size() == 1);
  CHECK(removal.lost_tasks[0].task_id == r2.launches[0].task_id);
  REQUIRE(removal.resubmitted.size() == 1);
  CHECK(removal.resubmitted[0].partition == 0);
  // The dead executor's late report changes nothing.
  CHECK(ts.status_update(done(r2.launches[0]), t0 + 2s).kind == task_event_kind::ignored);
  CHECK(!ts.remove_executor("e1", "again").known);
  ts.status_update(done(r.launches[1]), t0 + 2s);
  auto r3 = ts.offers(t0 + 2s);
  REQUIRE(r3.launches.size() == 1);
  CHECK(r3.launches[0].executor_id == "e2");
  CHECK(ts.task_set(0, 0)->failures(r3.launches[0].partition) == 0);
}

TEST_CASE("status outcomes carry aborts, and cancel_stage kills running attempts") {
  task_scheduler_settings settings;
  settings.task_set.max_task_failures = 1;
  task_scheduler ts(settings);
  ts.add_executor("e1", "h1", "", 2);
  ts.submit(sub(0, 4, 2), t0);
  auto r = ts.offers(t0);
  REQUIRE(r.launches.size() == 2);
  auto out = ts.status_update({r.launches[0].task_id, 0, task_state::failed, "division by zero", true}, t0);
  CHECK(out.kind == task_event_kind::aborted);
  CHECK(out.stage_id == 4);
  CHECK(out.message == "Task 0 in stage 4.0 failed 1 times, most recent failure: Lost task 0.0 in stage 4.0 "
                       "(TID 0) (h1 executor e1): division by zero");
  auto kills = ts.cancel_stage(4, "job failed");
  REQUIRE(kills.size() == 1);
  CHECK(kills[0].task_id == r.launches[1].task_id);
  CHECK(ts.num_task_sets() == 1);
  ts.status_update({r.launches[1].task_id, 0, task_state::killed, "job failed", false}, t0);
  CHECK(ts.num_task_sets() == 0);
  CHECK(ts.executors().find("e1")->free_cores == 2);
}

TEST_CASE("a new stage attempt retires the old one; next_timeout reports locality waits") {
  task_scheduler ts;
  ts.add_executor("e1", "h1", "", 1);
  ts.add_executor("e2", "h2", "", 1);
  auto s = sub(0, 1, 1);
  s.preferred_hosts = {{"h1"}};
  ts.submit(s, t0);
  ts.submit(s, t0); // same attempt again: ignored
  CHECK(ts.num_task_sets() == 1);
  CHECK(ts.next_timeout(t0) == t0 + 3s);
  s.stage_attempt = 1;
  ts.submit(s, t0 + 1s);
  CHECK(ts.task_set(1, 0) == nullptr); // zombie with nothing running: dropped
  CHECK(ts.next_timeout(t0 + 1s) == t0 + 4s);
}

TEST_CASE("planner and task scheduler together survive a lost executor") {
  // A driver loop in miniature: what the dag_scheduler and task_scheduler actors do.
  auto src = source(0, 4, "parallelize");
  auto result = shuffled(1, {shuffle(0, src, 2)}, "reduce_by_key");
  dag_planner dag;
  task_scheduler ts;
  ts.add_executor("e1", "h1", "", 2);
  ts.add_executor("e2", "h2", "", 2);
  dag.submit_job(result, {0, 1}, 0);
  auto now = t0;
  std::map<uint32_t, uint32_t> results;
  std::vector<task_launch> running;
  auto pump = [&] {
    for (auto& s : dag.take_ready_stages())
      ts.submit(s, now);
    auto r = ts.offers(now);
    running.insert(running.end(), r.launches.begin(), r.launches.end());
  };
  auto finish = [&](const task_launch& l) {
    auto out = ts.status_update(done(l), now);
    if (out.kind != task_event_kind::finished)
      return;
    if (out.is_map_stage) {
      map_status st;
      st.executor_id = l.executor_id;
      st.host = l.host;
      st.sizes = {1, 1};
      dag.map_task_completed(out.stage_id, out.stage_attempt, out.partition, st);
    } else if (dag.result_task_completed(out.stage_id, out.stage_attempt, out.partition)) {
      ++results[out.partition];
    }
  };
  pump();
  REQUIRE(running.size() == 4);
  finish(running[0]); // map 0 on e1
  finish(running[1]); // map 1 on e2
  // e1 dies with map 2 running and map 0's output on it.
  dag.executor_lost("e1", "h1", false);
  auto removal = ts.remove_executor("e1", "killed");
  REQUIRE(removal.lost_tasks.size() == 1);
  REQUIRE(removal.resubmitted.size() == 1);
  for (auto& rs : removal.resubmitted)
    dag.map_task_resubmitted(rs.stage_id, rs.stage_attempt, rs.partition);
  finish(running[3]); // map 3 on e2
  running.clear();
  pump();
  REQUIRE(running.size() == 2);
  CHECK(running[0].executor_id == "e2");
  CHECK(running[1].executor_id == "e2");
  for (auto l : running)
    finish(l);
  running.clear();
  pump();
  REQUIRE(running.size() == 2);
  CHECK(running[0].stage_id == 1);
  for (auto l : running)
    finish(l);
  CHECK(results == std::map<uint32_t, uint32_t>{{0, 1}, {1, 1}});
  auto events = dag.take_job_events();
  REQUIRE(events.size() == 1);
  CHECK(events[0].result == job_event::outcome::succeeded);
  CHECK(ts.num_task_sets() == 0);
}

TEST_CASE("an executor that died of its own tasks: they fail and count, so the job aborts instead of looping") {
  task_scheduler_settings s;
  s.task_set.max_task_failures = 2;
  task_scheduler ts{s};
  ts.submit(sub(0, 0, 1), t0);
  // Every executor the task runs on exceeds its memory limit.
  for (int round = 0; round < 2; ++round) {
    std::string id = round == 0 ? "e0" : "e1";
    ts.add_executor(id, "h", "", 2);
    ts.add_executor("idle", "h", "", 1);
    ts.drain_executor("idle"); // disconnected: offered nothing
    auto r = ts.offers(t0);
    REQUIRE(r.launches.size() == 1);
    CHECK(r.launches[0].attempt == static_cast<uint32_t>(round));
    auto outcomes = ts.fail_running_tasks(id, "killed: exceeded ember.executor.memory (256m)", t0);
    REQUIRE(outcomes.size() == 1);
    CHECK(outcomes[0].task_id == r.launches[0].task_id);
    CHECK(outcomes[0].outcome.kind == (round == 0 ? task_event_kind::failed : task_event_kind::aborted));
    auto removal = ts.remove_executor(id, "memory");
    CHECK(removal.lost_tasks.empty()); // already failed, not re-queued uncounted
    ts.remove_executor("idle", "gone");
  }
  CHECK(ts.fail_running_tasks("e9", "unknown executor", t0).empty());
}

TEST_CASE("application exclusion: failures in a stage that succeeded keep the executor idle until the timeout") {
  task_scheduler_settings settings;
  settings.max_failed_tasks_per_executor_app = 2;
  settings.exclude_timeout = 10s;
  task_scheduler ts(settings);
  ts.add_executor("e1", "h1", "", 1);
  ts.add_executor("e2", "h2", "", 1);
  ts.submit(sub(0, 0, 4), t0);
  // Two tasks fail on e1 (each once), everything else succeeds: the stage succeeds.
  int failed_on_e1 = 0;
  for (int round = 0; round < 20 && ts.num_task_sets() > 0; ++round)
    for (auto& l : ts.offers(t0).launches) {
      if (l.executor_id == "e1" && failed_on_e1 < 2) {
        ++failed_on_e1;
        ts.status_update({l.task_id, l.attempt, task_state::failed, "bad disk", true}, t0);
      } else {
        ts.status_update(done(l), t0);
      }
    }
  REQUIRE(ts.num_task_sets() == 0);
  CHECK(failed_on_e1 == 2);
  CHECK(ts.excluded_executors(t0) == std::vector<std::string>{"e1"});
  // The next stage runs on e2 only, until the exclusion times out.
  ts.submit(sub(1, 1, 2), t0 + 1s);
  CHECK(where(ts.offers(t0 + 1s)) == std::vector<std::string>{"e2"});
  CHECK(ts.excluded_executors(t0 + 11s).empty());
  CHECK(where(ts.offers(t0 + 11s)) == std::vector<std::string>{"e1"});
}

TEST_CASE("application exclusion never excludes the last executor, and a failed stage does not count") {
  task_scheduler_settings settings;
  settings.max_failed_tasks_per_executor_app = 1;
  settings.task_set.max_task_failures = 1;
  task_scheduler ts(settings);
  ts.add_executor("e1", "h1", "", 1);
  ts.submit(sub(0, 0, 1), t0);
  auto r = ts.offers(t0);
  REQUIRE(r.launches.size() == 1);
  auto out = ts.status_update({r.launches[0].task_id, 0, task_state::failed, "boom", true}, t0);
  CHECK(out.kind == task_event_kind::aborted);
  CHECK(ts.excluded_executors(t0).empty()); // the stage failed: says nothing about e1
  ts.submit(sub(1, 1, 1), t0);
  CHECK(where(ts.offers(t0)) == std::vector<std::string>{"e1"});
}
