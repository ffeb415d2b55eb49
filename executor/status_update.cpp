#include "executor/status_update.hpp"

namespace ember::executor {

void fill_metrics(proto::TaskMetrics::Builder m, const task_metrics& x) {
  m.setExecutorRunTimeNs(x.run_ns);
  m.setExecutorCpuTimeNs(x.cpu_ns);
  m.setInputBytes(x.bytes_read);
  m.setInputRecords(x.records_read);
  m.setOutputRecords(x.records_written);
  m.setOutputBytes(x.bytes_written);
  m.setShuffleReadRecords(x.shuffle_records_read);
  m.setShuffleReadLocalBytes(x.shuffle_bytes_read);
  m.setShuffleReadRemoteBytes(x.shuffle_remote_bytes_read);
  m.setShuffleRemoteBlocksFetched(x.shuffle_remote_blocks_fetched);
  m.setShuffleWriteRecords(x.shuffle_records_written);
  m.setShuffleWriteBytes(x.shuffle_bytes_written);
  m.setDiskBytesSpilled(x.spill_bytes);
}

void fill_not_run(proto::StatusUpdate::Builder b, const std::string& executor_id, const task_spec& spec, bool killed) {
  b.setExecutorId(executor_id);
  b.setTaskId(spec.task_id);
  b.setAttempt(spec.attempt);
  if (killed) {
    b.setState(proto::TaskState::KILLED);
    return;
  }
  b.setState(proto::TaskState::FAILED);
  auto e = b.initResult().initError();
  e.setKind("ember::protocol_error");
  e.setMessage("executor " + executor_id + " has no binary for stage " + std::to_string(spec.stage_id) + "."
               + std::to_string(spec.stage_attempt));
}

} // namespace ember::executor
