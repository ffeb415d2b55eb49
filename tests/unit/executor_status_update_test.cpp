// The CAF-free parts of a StatusUpdate: every metric lands in its own field; a launch that did
// not run is KILLED, or FAILED with a protocol error when its stage had no binary.
#include <doctest/doctest.h>

#include <capnp/message.h>

#include "executor/status_update.hpp"

using namespace ember;
using namespace ember::executor;

TEST_CASE("every task metric lands in its field") {
  task_metrics m{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13};
  capnp::MallocMessageBuilder message;
  auto b = message.initRoot<proto::TaskMetrics>();
  fill_metrics(b, m);
  auto r = b.asReader();
  CHECK(r.getExecutorRunTimeNs() == 1);
  CHECK(r.getExecutorCpuTimeNs() == 2);
  CHECK(r.getInputRecords() == 3);
  CHECK(r.getInputBytes() == 4);
  CHECK(r.getOutputRecords() == 5);
  CHECK(r.getOutputBytes() == 6);
  CHECK(r.getShuffleReadRecords() == 7);
  CHECK(r.getShuffleReadLocalBytes() == 8);
  CHECK(r.getShuffleReadRemoteBytes() == 9);
  CHECK(r.getShuffleRemoteBlocksFetched() == 10);
  CHECK(r.getShuffleWriteRecords() == 11);
  CHECK(r.getShuffleWriteBytes() == 12);
  CHECK(r.getDiskBytesSpilled() == 13);
}

TEST_CASE("a launch killed while queued is reported KILLED with no result") {
  capnp::MallocMessageBuilder message;
  auto b = message.initRoot<proto::StatusUpdate>();
  fill_not_run(b, "e1", {7, 2, 3, 1, 0}, true);
  auto r = b.asReader();
  CHECK(std::string{r.getExecutorId().cStr()} == "e1");
  CHECK(r.getTaskId() == 7);
  CHECK(r.getAttempt() == 2);
  CHECK(r.getState() == proto::TaskState::KILLED);
  CHECK(r.getResult().isNone());
  CHECK(r.getMetrics().getExecutorRunTimeNs() == 0); // counts as a short task
}

TEST_CASE("a launch without its stage's binary fails with a protocol error naming the stage") {
  capnp::MallocMessageBuilder message;
  auto b = message.initRoot<proto::StatusUpdate>();
  fill_not_run(b, "e1", {7, 0, 3, 1, 0}, false);
  auto r = b.asReader();
  CHECK(r.getState() == proto::TaskState::FAILED);
  REQUIRE(r.getResult().isError());
  CHECK(std::string{r.getResult().getError().getKind().cStr()} == "ember::protocol_error");
  CHECK(std::string{r.getResult().getError().getMessage().cStr()} == "executor e1 has no binary for stage 3.1");
}
