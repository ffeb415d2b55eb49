// liveness_table: the heartbeat receiver's logic (who was heard of when), with time passed in.
#include <doctest/doctest.h>

#include "actors/heartbeat_receiver.hpp"

using ember::actors::liveness_table;
using namespace std::chrono_literals;

namespace {
const liveness_table::clock::time_point t0{};
}

TEST_CASE("an executor silent for longer than the timeout expires once, then is told to stop") {
  liveness_table t{2000ms};
  t.registered("1", "127.0.0.1", t0);
  t.registered("2", "127.0.0.2", t0);
  CHECK(t.heartbeat("1", t0 + 1500ms) == liveness_table::beat::alive);
  CHECK(t.expire(t0 + 2000ms).empty()); // exactly the timeout: not yet
  auto lost = t.expire(t0 + 2001ms);
  REQUIRE(lost.size() == 1);
  CHECK(lost[0].id == "2");
  CHECK(lost[0].host == "127.0.0.2");
  CHECK(lost[0].silent == 2001ms);
  CHECK(t.expire(t0 + 3000ms).empty()); // "1" was heard of at 1.5 s
  CHECK(t.expire(t0 + 3501ms).size() == 1);
  CHECK(t.size() == 0);
  // A lost executor that wakes up (SIGCONT) is told the driver no longer knows it.
  CHECK(t.heartbeat("2", t0 + 5000ms) == liveness_table::beat::reregister);
  CHECK(t.heartbeat("1", t0 + 5000ms) == liveness_table::beat::reregister);
}

TEST_CASE("a heartbeat from an executor never registered is unknown, not a reason to stop it") {
  liveness_table t{2000ms};
  CHECK(t.heartbeat("7", t0) == liveness_table::beat::unknown);
  CHECK(t.expire(t0 + 10s).empty());
  t.registered("7", "h", t0 + 10s);
  CHECK(t.heartbeat("7", t0 + 11s) == liveness_table::beat::alive);
}

TEST_CASE("forget: a connection that ended takes the executor out, with its silence so far") {
  liveness_table t{2000ms};
  t.registered("1", "h1", t0);
  CHECK(t.heartbeat("1", t0 + 300ms) == liveness_table::beat::alive);
  auto gone = t.forget("1", t0 + 2100ms);
  REQUIRE(gone);
  CHECK(gone->id == "1");
  CHECK(gone->silent == 1800ms);
  CHECK_FALSE(t.forget("1", t0 + 2200ms));
  CHECK(t.expire(t0 + 1h).empty());
  CHECK(t.heartbeat("1", t0 + 3s) == liveness_table::beat::reregister);
  // Registering again (a new process cannot reuse an id, but the table does not care) revives it.
  t.registered("1", "h1", t0 + 4s);
  CHECK(t.heartbeat("1", t0 + 5s) == liveness_table::beat::alive);
}

TEST_CASE("a late heartbeat never moves the deadline backwards") {
  liveness_table t{1000ms};
  t.registered("1", "h", t0 + 5s);
  CHECK(t.heartbeat("1", t0 + 1s) == liveness_table::beat::alive);
  CHECK(t.expire(t0 + 5500ms).empty());
  CHECK(t.silence("1", t0 + 5500ms) == 500ms);
}
