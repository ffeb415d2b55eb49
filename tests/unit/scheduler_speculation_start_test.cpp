// Speculation counts a task's running time from when it really started on its executor: an
// attempt queued behind a straggler (ember.executor.taskQueueDepth) is not a straggler itself.
// Executors reporting starts (heartbeats with running tasks) vs those that do not (local mode).
#include <doctest/doctest.h>

#include <algorithm>

#include "scheduler/task_scheduler.hpp"

using namespace ember::scheduler;
using namespace std::chrono_literals;

namespace {

const clock_time t0{};

stage_submission six_tasks() {
  stage_submission s;
  s.stage_id = 0;
  for (uint32_t p = 0; p < 6; ++p)
    s.partitions.push_back(p);
  return s;
}

task_scheduler_settings speculating() {
  task_scheduler_settings s;
  s.task_set.speculation = true;
  s.task_set.speculation_quantile = 0.5;
  s.task_set.speculation_multiplier = 1.5;
  s.task_set.speculation_min_runtime = 100ms;
  return s;
}

task_status done(const task_launch& l) { return {l.task_id, l.attempt, task_state::finished, {}, true}; }

std::vector<uint32_t> copies(const offer_result& r) {
  std::vector<uint32_t> out;
  for (auto& l : r.launches) {
    CHECK(l.speculative);
    CHECK(l.executor_id == "e2");
    out.push_back(l.partition);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Two executors of one task thread and three slots each (one running, two queued). e2 runs its
// three tasks in 1 s each; on e1 partition 0 straggles with 2 and 4 queued behind it.
struct cluster {
  task_scheduler ts{speculating()};
  offer_result first;

  explicit cluster(bool report_starts) {
    ts.add_executor("e1", "h1", "", 3);
    ts.add_executor("e2", "h2", "", 3);
    if (report_starts) {
      ts.executor_reports_starts("e1", 1);
      ts.executor_reports_starts("e2", 1);
    }
    ts.submit(six_tasks(), t0);
    first = ts.offers(t0);
    REQUIRE(first.launches.size() == 6);
    for (uint32_t p = 0; p < 6; ++p) {
      REQUIRE(first.launches[p].partition == p);
      REQUIRE(first.launches[p].executor_id == (p % 2 == 0 ? "e1" : "e2"));
    }
    // e2 ran each of its tasks for 1 s (the queued ones' run time comes with their status).
    for (uint32_t p : {1u, 3u, 5u})
      REQUIRE(ts.status_update(done(at(p)), t0 + std::chrono::seconds{(p + 1) / 2}, 1s).kind
              == task_event_kind::finished);
  }
  const task_launch& at(uint32_t p) const { return first.launches[p]; }
  std::optional<clock_time> start_of(uint32_t p) const {
    return ts.task_set(0, 0)->start_time(at(p).task_id, at(p).attempt);
  }
};

} // namespace

TEST_CASE("a queued attempt is not speculated while the started straggler ahead of it is") {
  cluster c{true};
  CHECK(c.start_of(0) == t0); // a free thread: started at its launch
  CHECK(c.start_of(2) == std::nullopt);
  CHECK(c.start_of(4) == std::nullopt);
  // 3 of 6 done, median 1 s x 1.5: partition 0 has run 3.1 s; 2 and 4 have waited as long.
  CHECK(c.ts.check_speculation(t0 + 3100ms));
  CHECK(copies(c.ts.offers(t0 + 3100ms)) == std::vector<uint32_t>{0});
  CHECK_FALSE(c.ts.check_speculation(t0 + 10s)); // still queued: no report, no running time
  CHECK(c.ts.offers(t0 + 10s).launches.empty());
}

TEST_CASE("once the executor reports the start, running time counts from that start") {
  cluster c{true};
  REQUIRE(c.ts.check_speculation(t0 + 3100ms));
  auto copy0 = c.ts.offers(t0 + 3100ms);
  REQUIRE(copies(copy0) == std::vector<uint32_t>{0});
  // The original finishes first (the copy is to be killed); partition 2 leaves the queue.
  auto won = c.ts.status_update(done(c.at(0)), t0 + 3200ms, 3200ms);
  CHECK(won.kind == task_event_kind::finished);
  REQUIRE(won.kills.size() == 1);
  CHECK(won.kills[0].task_id == copy0.launches[0].task_id);
  // A heartbeat at 4 s: partition 2 has run 0.5 s on e1, so it started at 3.5 s.
  CHECK_FALSE(c.ts.task_running("e2", c.at(2).task_id, c.at(2).attempt, 500ms, t0 + 4s).has_value()); // not there
  CHECK_FALSE(c.ts.task_running("e1", c.at(2).task_id, c.at(2).attempt + 1, 500ms, t0 + 4s).has_value());
  auto running = c.ts.task_running("e1", c.at(2).task_id, c.at(2).attempt, 500ms, t0 + 4s);
  REQUIRE(running);
  CHECK(running->stage_id == 0);
  CHECK(running->stage_attempt == 0);
  CHECK(c.start_of(2) == t0 + 3500ms);
  CHECK(c.start_of(4) == std::nullopt);
  // Durations 1, 1, 1, 3.2 s: median 1 s, threshold 1.5 s from 3.5 s.
  CHECK_FALSE(c.ts.check_speculation(t0 + 5s));
  CHECK(c.ts.check_speculation(t0 + 5001ms));
  CHECK(copies(c.ts.offers(t0 + 5001ms)) == std::vector<uint32_t>{2});
}

TEST_CASE("executors that do not report starts count every attempt from its launch (local mode)") {
  cluster c{false};
  CHECK(c.start_of(2) == t0);
  CHECK(c.ts.check_speculation(t0 + 3100ms));
  CHECK(copies(c.ts.offers(t0 + 3100ms)) == std::vector<uint32_t>{0, 2, 4});
  // A heartbeat's report still moves the start of a known attempt.
  CHECK(c.ts.task_running("e1", c.at(2).task_id, c.at(2).attempt, 100ms, t0 + 4s).has_value());
  CHECK(c.start_of(2) == t0 + 3900ms);
}

TEST_CASE("a queued attempt that finished unreported counts its run time on the executor") {
  // Without the executor's run time, partition 3's duration would be its 2 s since launch.
  task_scheduler ts{speculating()};
  ts.add_executor("e1", "h1", "", 2);
  ts.executor_reports_starts("e1", 1);
  stage_submission s;
  s.partitions = {0, 1, 2};
  ts.submit(s, t0);
  auto r = ts.offers(t0);
  REQUIRE(r.launches.size() == 2);
  ts.status_update(done(r.launches[0]), t0 + 1s, 1s);
  ts.status_update(done(r.launches[1]), t0 + 2s, 1s); // queued until 1 s
  auto third = ts.offers(t0 + 2s);
  REQUIRE(third.launches.size() == 1);
  // quantile 0.5 of 3: 2 done, median 1 s -> threshold 1.5 s (2 s with the queue time counted).
  CHECK_FALSE(ts.check_speculation(t0 + 3500ms));
  CHECK(ts.check_speculation(t0 + 3501ms));
}

TEST_CASE("the earliest reported start counts: a delayed heartbeat does not move it later") {
  cluster c{true};
  REQUIRE(c.ts.task_running("e1", c.at(2).task_id, c.at(2).attempt, 1s, t0 + 2s).has_value());
  CHECK(c.start_of(2) == t0 + 1s);
  REQUIRE(c.ts.task_running("e1", c.at(2).task_id, c.at(2).attempt, 1100ms, t0 + 2500ms).has_value()); // late
  CHECK(c.start_of(2) == t0 + 1s);
  REQUIRE(c.ts.task_running("e1", c.at(2).task_id, c.at(2).attempt, 1800ms, t0 + 2700ms).has_value());
  CHECK(c.start_of(2) == t0 + 900ms);
  // Never before its launch.
  REQUIRE(c.ts.task_running("e1", c.at(2).task_id, c.at(2).attempt, 5s, t0 + 3s).has_value());
  CHECK(c.start_of(2) == t0);
}
