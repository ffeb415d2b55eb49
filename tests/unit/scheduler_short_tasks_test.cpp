// Extra executor slots for task sets of short tasks (ember.executor.shortTaskQueueDepth).
#include <doctest/doctest.h>

#include "scheduler/task_scheduler.hpp"

using namespace ember::scheduler;
using namespace std::chrono_literals;

namespace {

const clock_time t0{};

stage_submission sub(uint32_t job, uint32_t stage, uint32_t n) {
  stage_submission s;
  s.job_id = job;
  s.stage_id = stage;
  for (uint32_t p = 0; p < n; ++p)
    s.partitions.push_back(p);
  return s;
}

task_status finished(const task_launch& l) {
  task_status s;
  s.task_id = l.task_id;
  s.attempt = l.attempt;
  s.state = task_state::finished;
  return s;
}

void finish_all(task_scheduler& ts, const offer_result& r, std::chrono::nanoseconds run_time) {
  for (auto& l : r.launches)
    REQUIRE(ts.status_update(finished(l), t0, run_time).kind == task_event_kind::finished);
}

} // namespace

TEST_CASE("a task set of short tasks uses the extra slots, one of long tasks never does") {
  task_scheduler ts; // threshold 1 ms, 4 samples
  ts.add_executor("e1", "h1", "", 2, 4);
  ts.submit(sub(0, 0, 100), t0);
  ts.submit(sub(1, 1, 100), t0);

  // Nothing known about the tasks yet: the normal slots only.
  auto r = ts.offers(t0);
  REQUIRE(r.launches.size() == 2);
  CHECK(r.launches[0].stage_id == 0);
  CHECK(!ts.short_tasks(0, 0));
  finish_all(ts, r, 10us);
  r = ts.offers(t0);
  REQUIRE(r.launches.size() == 2);
  finish_all(ts, r, 10us);
  CHECK(ts.short_tasks(0, 0)); // four samples of 10 us
  r = ts.offers(t0);
  CHECK(r.launches.size() == 6); // 2 normal + 4 extra slots
  CHECK(ts.executors().find("e1")->free_cores == 0);
  CHECK(ts.offers(t0).launches.empty());
  finish_all(ts, r, 10us);
  CHECK(ts.executors().find("e1")->free_cores == 2); // extra slots went back to the extra pool
  CHECK(ts.offers(t0).launches.size() == 6);
}

TEST_CASE("long tasks keep the normal slots; a set that turns slow stops taking extra ones") {
  task_scheduler ts;
  ts.add_executor("e1", "h1", "", 1, 8);
  ts.submit(sub(0, 0, 100), t0);
  for (int i = 0; i < 6; ++i) {
    auto r = ts.offers(t0);
    REQUIRE(r.launches.size() == 1);
    finish_all(ts, r, 5ms);
  }
  CHECK(!ts.short_tasks(0, 0));

  task_scheduler fast;
  fast.add_executor("e1", "h1", "", 1, 8);
  fast.submit(sub(0, 0, 100), t0);
  for (int i = 0; i < 4; ++i)
    finish_all(fast, fast.offers(t0), 50us);
  auto r = fast.offers(t0);
  REQUIRE(r.launches.size() == 9);
  // Two slow tasks lift the moving average above 1 ms: freed slots are not refilled beyond the
  // normal one until the average falls again.
  REQUIRE(fast.status_update(finished(r.launches[0]), t0, 5ms).kind == task_event_kind::finished);
  REQUIRE(fast.status_update(finished(r.launches[1]), t0, 5ms).kind == task_event_kind::finished);
  CHECK(!fast.short_tasks(0, 0));
  auto more = fast.offers(t0);
  REQUIRE(more.launches.size() == 1); // the normal slot freed by launches[0]
  CHECK(fast.offers(t0).launches.empty());
}

TEST_CASE("failures carry no run time and do not make a set short; executor loss frees its extra slots") {
  task_scheduler ts;
  ts.add_executor("e1", "h1", "", 1, 3);
  ts.submit(sub(0, 0, 100), t0);
  for (int i = 0; i < 4; ++i) {
    auto r = ts.offers(t0);
    REQUIRE(r.launches.size() == 1);
    task_status s;
    s.task_id = r.launches[0].task_id;
    s.attempt = r.launches[0].attempt;
    s.state = task_state::failed;
    s.reason = "boom";
    s.counts = false;
    CHECK(ts.status_update(s, t0).kind == task_event_kind::failed);
  }
  CHECK(!ts.short_tasks(0, 0));
  for (int i = 0; i < 4; ++i)
    finish_all(ts, ts.offers(t0), 1us);
  auto r = ts.offers(t0);
  CHECK(r.launches.size() == 4);
  auto removal = ts.remove_executor("e1", "gone");
  CHECK(removal.lost_tasks.size() == 4);
  ts.add_executor("e2", "h2", "", 1, 0); // no extra slots: short or not, one task at a time
  CHECK(ts.offers(t0).launches.size() == 1);
}
