#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "scheduler/allocation_policy.hpp"

using namespace ember::scheduler;
using namespace std::chrono_literals;

namespace {

using clock_time = allocation_policy::clock_time;
const clock_time t0{};

allocation_settings base() {
  allocation_settings s;
  s.enabled = true;
  s.min_executors = 0;
  s.max_executors = 0; // unlimited
  s.initial_executors = 0;
  s.executor_idle_timeout = 60s;
  s.scheduler_backlog_timeout = 1s;
  s.sustained_scheduler_backlog_timeout = 5s;
  s.tasks_per_executor = 1;
  return s;
}

using ids = std::vector<std::string>;

} // namespace

TEST_CASE("validate: Spark's refusals, with the keys named") {
  auto s = base();
  CHECK(!validate(s));
  s.min_executors = 5;
  s.max_executors = 3;
  CHECK(validate(s) == std::optional<std::string>{"ember.dynamicAllocation.minExecutors (5) must be less than or "
                                                  "equal to ember.dynamicAllocation.maxExecutors (3)"});
  s.max_executors = 0; // unlimited: any min is fine
  CHECK(!validate(s));

  s = base();
  s.max_executors = 2;
  s.initial_executors = 3;
  CHECK(validate(s) == std::optional<std::string>{"ember.dynamicAllocation.initialExecutors (3) must be less than "
                                                  "or equal to ember.dynamicAllocation.maxExecutors (2)"});

  s = base();
  s.shuffle_tracking = false;
  s.shuffle_service = false;
  CHECK(validate(s) == std::optional<std::string>{
                           "Dynamic allocation of executors requires the shuffle service or shuffle tracking: set "
                           "ember.shuffle.service.enabled=true or ember.dynamicAllocation.shuffleTracking.enabled=true"});
  s.shuffle_service = true;
  CHECK(!validate(s));
  s.shuffle_service = false;
  s.enabled = false; // not used: nothing to refuse
  CHECK(!validate(s));

  s = base();
  s.sustained_scheduler_backlog_timeout = 0s;
  CHECK(validate(s) == std::optional<std::string>{"ember.dynamicAllocation.sustainedSchedulerBacklogTimeout must be > 0"});
  s = base();
  s.tasks_per_executor = 0;
  CHECK(validate(s).has_value());
}

TEST_CASE("target starts at max(initial, min) and the first tick reports it") {
  auto s = base();
  s.min_executors = 2;
  s.initial_executors = 1;
  allocation_policy p(s);
  CHECK(p.target() == 2);
  auto d = p.tick(t0);
  CHECK(d.target == std::optional<uint32_t>{2});
  CHECK(p.tick(t0 + 1s).empty()); // unchanged: nothing reported

  s.initial_executors = 4;
  allocation_policy q(s);
  CHECK(q.target() == 4);
  // Before the first job the initial target stands even with nothing to do.
  CHECK(q.tick(t0).target == std::optional<uint32_t>{4});
  CHECK(q.tick(t0 + 30s).empty());
  CHECK(q.target() == 4);
}

TEST_CASE("backlog ramps the target up by 1, 2, 4 at the backlog timeouts") {
  allocation_policy p(base());
  CHECK(p.tick(t0).target == std::optional<uint32_t>{0});
  p.pending_tasks(100, t0);
  CHECK(p.next_deadline() == std::optional{t0 + 1s});
  CHECK(p.tick(t0 + 999ms).empty()); // not backlogged long enough yet
  auto d = p.tick(t0 + 1s);
  CHECK(d.target == std::optional<uint32_t>{1});
  CHECK(d.release.empty());
  CHECK(p.next_deadline() == std::optional{t0 + 6s});
  CHECK(p.tick(t0 + 5s).empty());
  CHECK(p.tick(t0 + 6s).target == std::optional<uint32_t>{3});
  CHECK(p.tick(t0 + 11s).target == std::optional<uint32_t>{7});
  CHECK(p.tick(t0 + 16s).target == std::optional<uint32_t>{15});
  CHECK(p.next_deadline() == std::optional{t0 + 21s});
}

TEST_CASE("ramp-up counts from the executors already there") {
  allocation_policy p(base());
  p.tick(t0);
  p.executor_added("e1", t0);
  p.executor_added("e2", t0);
  p.executor_added("e3", t0);
  p.pending_tasks(50, t0);
  for (auto id : {"e1", "e2", "e3"})
    p.running_tasks(id, 1, t0);
  // max(target 0, 3 executors) + 1; the step was not the full "to add", so the ramp restarts at 1.
  CHECK(p.tick(t0 + 1s).target == std::optional<uint32_t>{4});
  CHECK(p.tick(t0 + 6s).target == std::optional<uint32_t>{5});
  CHECK(p.tick(t0 + 11s).target == std::optional<uint32_t>{7});
}

TEST_CASE("caps: maxExecutors and the executors the tasks can use") {
  auto s = base();
  s.max_executors = 5;
  allocation_policy p(s);
  p.tick(t0);
  p.pending_tasks(1000, t0);
  CHECK(p.tick(t0 + 1s).target == std::optional<uint32_t>{1});
  CHECK(p.tick(t0 + 6s).target == std::optional<uint32_t>{3});
  CHECK(p.tick(t0 + 11s).target == std::optional<uint32_t>{5}); // 3 + 4 capped at 5
  CHECK(p.tick(t0 + 16s).empty());
  CHECK(p.target() == 5);
  // Already at the cap: no repeated wake-ups for the backlog timer.
  CHECK(p.next_deadline() == std::nullopt);

  // 4 tasks per executor, 10 tasks backlogged: never more than ceil(10 / 4) = 3 executors.
  s = base();
  s.tasks_per_executor = 4;
  allocation_policy q(s);
  q.tick(t0);
  q.pending_tasks(10, t0);
  CHECK(q.executors_needed() == 3);
  CHECK(q.tick(t0 + 1s).target == std::optional<uint32_t>{1});
  CHECK(q.tick(t0 + 6s).target == std::optional<uint32_t>{3});
  CHECK(q.tick(t0 + 11s).empty());
  CHECK(q.target() == 3);
  // More work arrives: the expired timer adds at once, the ramp restarted from 1.
  q.pending_tasks(30, t0 + 12s);
  CHECK(q.tick(t0 + 12s).target == std::optional<uint32_t>{4});
  CHECK(q.tick(t0 + 17s).target == std::optional<uint32_t>{6});
}

TEST_CASE("backlog clearing drops the target to what the running tasks need, never below min") {
  auto s = base();
  s.min_executors = 1;
  allocation_policy p(s);
  p.tick(t0);
  p.pending_tasks(40, t0);
  p.tick(t0 + 1s);
  p.tick(t0 + 6s);
  CHECK(p.tick(t0 + 11s).target == std::optional<uint32_t>{8}); // 1 (min) + 1 + 2 + 4
  for (auto id : {"e1", "e2", "e3"}) {
    p.executor_added(id, t0 + 12s);
    p.running_tasks(id, 1, t0 + 12s);
  }
  p.pending_tasks(0, t0 + 13s);
  CHECK(p.next_deadline() == std::nullopt); // backlog timer gone; executors busy
  CHECK(p.tick(t0 + 13s).target == std::optional<uint32_t>{3});
  for (auto id : {"e1", "e2", "e3"})
    p.running_tasks(id, 0, t0 + 14s);
  CHECK(p.tick(t0 + 14s).target == std::optional<uint32_t>{1}); // min floor
  // The next backlog ramps from 1 again.
  p.pending_tasks(9, t0 + 20s);
  CHECK(p.tick(t0 + 21s).target == std::optional<uint32_t>{4}); // max(1, 3 executors) + 1
}

TEST_CASE("idle executors are released after executorIdleTimeout, never below min") {
  auto s = base();
  s.min_executors = 1;
  s.executor_idle_timeout = 60s;
  allocation_policy p(s);
  p.tick(t0);
  p.executor_added("e1", t0);
  p.executor_added("e2", t0);
  p.executor_added("e3", t0);
  p.running_tasks("e2", 2, t0);
  p.running_tasks("e3", 1, t0);
  p.running_tasks("e3", 0, t0 + 10s); // e3 idle from 10 s
  CHECK(p.next_deadline() == std::optional{t0 + 60s});
  CHECK(p.tick(t0 + 59s).release.empty());
  auto d = p.tick(t0 + 60s);
  CHECK(d.release == ids{"e1"});
  CHECK(p.pending_removal("e1"));
  CHECK(p.next_deadline() == std::optional{t0 + 70s});
  CHECK(p.tick(t0 + 70s).release == ids{"e3"});
  p.executor_removed("e1");
  p.executor_removed("e3");
  CHECK(p.num_executors() == 1);
  // e2 goes idle too, but it is the last one: min 1 keeps it, and no timer spins for it.
  p.running_tasks("e2", 0, t0 + 80s);
  CHECK(p.tick(t0 + 140s).release.empty());
  CHECK(p.next_deadline() == std::nullopt);
  // A new executor arrives: once idle long enough, one of the two may go (the one idle longest).
  p.executor_added("e4", t0 + 150s);
  CHECK(p.next_deadline() == std::optional{t0 + 210s});
  CHECK(p.tick(t0 + 210s).release == ids{"e2"});
}

TEST_CASE("idle executors are kept while the target still wants them; refused releases count again") {
  auto s = base();
  s.initial_executors = 2;
  s.executor_idle_timeout = 10s;
  allocation_policy p(s);
  p.tick(t0);
  p.executor_added("e1", t0);
  p.executor_added("e2", t0);
  // The first timeout ends initialization: target drops to 0, both go in one tick.
  auto d = p.tick(t0 + 10s);
  CHECK(d.target == std::optional<uint32_t>{0});
  CHECK(d.release == ids{"e1", "e2"});
  p.release_refused("e2", t0 + 11s);
  CHECK(!p.pending_removal("e2"));
  CHECK(p.next_deadline() == std::optional{t0 + 21s});
  CHECK(p.tick(t0 + 21s).release == ids{"e2"});

  // With a backlog keeping the target at 2, idle executors stay.
  allocation_policy q(s);
  q.tick(t0);
  q.executor_added("e1", t0);
  q.executor_added("e2", t0);
  q.running_tasks("e1", 1, t0);
  q.pending_tasks(1, t0); // 2 tasks need 2 executors; e2 idle waiting for a placement
  CHECK(q.tick(t0 + 10s).release.empty());
  CHECK(q.target() == 2);
}

TEST_CASE("shuffle tracking keeps executors holding needed shuffle output") {
  auto s = base();
  s.executor_idle_timeout = 10s;
  allocation_policy p(s);
  p.tick(t0);
  p.executor_added("e1", t0);
  p.executor_added("e2", t0);
  p.shuffle_data("e1", true);
  CHECK(p.next_deadline() == std::optional{t0 + 10s});
  CHECK(p.tick(t0 + 10s).release == ids{"e2"});
  CHECK(p.tick(t0 + 100s).release.empty());
  CHECK(p.next_deadline() == std::nullopt);
  // The shuffle is no longer needed: idle since t0, so it goes at the next tick.
  p.shuffle_data("e1", false);
  CHECK(p.next_deadline() == std::nullopt); // its deadline passed long ago: the actor ticks after the input
  CHECK(p.tick(t0 + 101s).release == ids{"e1"});

  // With a shuffle service the output outlives the executor: no reason to keep it.
  s.shuffle_service = true;
  allocation_policy q(s);
  q.tick(t0);
  q.executor_added("e1", t0);
  q.shuffle_data("e1", true);
  CHECK(q.tick(t0 + 10s).release == ids{"e1"});
}

TEST_CASE("cachedExecutorIdleTimeout applies to executors holding cached blocks; 0 = never") {
  auto s = base();
  s.executor_idle_timeout = 10s;
  s.cached_executor_idle_timeout = 0s;
  allocation_policy p(s);
  p.tick(t0);
  p.executor_added("e1", t0);
  p.cached_blocks("e1", true);
  CHECK(p.next_deadline() == std::nullopt);
  CHECK(p.tick(t0 + 1000s).release.empty());

  s.cached_executor_idle_timeout = 30s;
  allocation_policy q(s);
  q.tick(t0);
  q.executor_added("e1", t0);
  q.executor_added("e2", t0);
  q.cached_blocks("e1", true);
  CHECK(q.tick(t0 + 10s).release == ids{"e2"});
  CHECK(q.next_deadline() == std::optional{t0 + 30s});
  CHECK(q.tick(t0 + 29s).release.empty());
  CHECK(q.tick(t0 + 30s).release == ids{"e1"});
}

TEST_CASE("a running task makes an executor busy; the idle clock starts when the last one ends") {
  auto s = base();
  s.executor_idle_timeout = 10s;
  allocation_policy p(s);
  p.tick(t0);
  p.executor_added("e1", t0);
  p.running_tasks("e1", 3, t0 + 5s);
  CHECK(p.tick(t0 + 20s).release.empty());
  p.running_tasks("e1", 1, t0 + 21s);
  CHECK(p.next_deadline() == std::nullopt);
  p.running_tasks("e1", 0, t0 + 22s);
  CHECK(p.next_deadline() == std::optional{t0 + 32s});
  CHECK(p.tick(t0 + 31s).release.empty());
  CHECK(p.tick(t0 + 32s).release == ids{"e1"});
}
