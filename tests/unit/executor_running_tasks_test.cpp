// The running-task table the heartbeater reports: entries while running, run time from the
// given clock, in-flight remote fetches of the calling thread's attempt only.
#include <doctest/doctest.h>

#include <thread>

#include "executor/running_tasks.hpp"

using ember::executor::running_tasks;
using namespace std::chrono_literals;

TEST_CASE("a snapshot lists the running attempts by task id with their run time") {
  running_tasks table;
  auto t0 = running_tasks::clock::time_point{} + 1h;
  std::thread other{[&] { table.started(9, 2, t0 + 2ms, 0ns); }}; // its entry stays after the thread
  other.join();
  table.started(4, 0, t0, running_tasks::thread_cpu_time());
  auto snap = table.snapshot(t0 + 10ms);
  REQUIRE(snap.size() == 2);
  CHECK(snap[0].task_id == 4);
  CHECK(snap[0].attempt == 0);
  CHECK(snap[0].run_time == 10ms);
  CHECK(snap[1].task_id == 9);
  CHECK(snap[1].attempt == 2);
  CHECK(snap[1].run_time == 8ms);
  CHECK(snap[0].cpu_time >= 0ns);
  // A clock before an entry's start counts as 0, not negative.
  CHECK(table.snapshot(t0 + 1ms)[1].run_time == 0ns);
  table.ended(4, 0);
  table.ended(9, 2);
  CHECK(table.snapshot(t0 + 20ms).empty());
}

TEST_CASE("a remote fetch counts for the attempt running on the calling thread, for its scope") {
  running_tasks table;
  auto t0 = running_tasks::clock::time_point{} + 1h;
  table.started(1, 0, t0, 0ns);
  {
    running_tasks::fetch_scope a;
    running_tasks::fetch_scope b;
    CHECK(table.snapshot(t0)[0].remote_fetches_in_flight == 2);
  }
  CHECK(table.snapshot(t0)[0].remote_fetches_in_flight == 0);
  // Another thread runs no listed attempt: its fetches count nowhere.
  std::thread other{[&] {
    running_tasks::fetch_scope c;
    CHECK(table.snapshot(t0)[0].remote_fetches_in_flight == 0);
  }};
  other.join();
  table.ended(1, 0);
  { running_tasks::fetch_scope after_end; } // the thread's entry is gone: nothing to count in
  CHECK(table.snapshot(t0).empty());
}

TEST_CASE("ending an attempt that is not listed changes nothing") {
  running_tasks table;
  auto t0 = running_tasks::clock::time_point{} + 1h;
  table.started(5, 1, t0, 0ns);
  table.ended(5, 0); // another attempt
  table.ended(6, 1);
  REQUIRE(table.snapshot(t0).size() == 1);
  CHECK(table.snapshot(t0)[0].task_id == 5);
  table.ended(5, 1);
}
