// The kill list: a task killed while queued is skipped once; a kill after the task was taken
// (it is running) does not stop it.
#include <doctest/doctest.h>

#include "executor/kill_list.hpp"

using ember::executor::kill_list;

TEST_CASE("a task killed while queued is taken exactly once") {
  kill_list k;
  k.add(7);
  CHECK(k.take(7));
  CHECK_FALSE(k.take(7)); // its skip is reported once
  CHECK_FALSE(k.take(8)); // never killed
}

TEST_CASE("a kill that comes after its task started does not reach that run") {
  kill_list k;
  CHECK_FALSE(k.take(3)); // the task thread takes the task: not killed, it runs
  k.add(3);               // KillTask arrives while it runs: nothing interrupts it
  CHECK(k.take(3));       // only a later launch of the same id would be skipped
}

TEST_CASE("kills of several tasks are independent") {
  kill_list k;
  k.add(1);
  k.add(2);
  CHECK(k.take(2));
  CHECK(k.take(1));
  CHECK_FALSE(k.take(2));
}
