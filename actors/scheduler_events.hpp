// Builders of the listener events the driver's schedulers post (docs/events.md): the
// dag_scheduler's job and stage events here, the task_scheduler's task and executor events
// below. Each returns the whole ListenerEvent; the time fields are read when it is built.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "protocol/events.capnp.h"
#include "protocol/wire.hpp"
#include "scheduler/dag_planner.hpp"

namespace ember::actors {

// -- dag_scheduler -------------------------------------------------------------------------------

// A planned stage of a job, as its JobStart lists it.
struct stage_info {
  uint32_t id = 0;
  std::string name;
  uint32_t num_tasks = 0;
};
// `stages` empty: a job rejected before it was planned (the event has no stage list).
wire<proto::ListenerEvent> job_start_event(uint32_t job_id, const std::vector<stage_info>& stages,
                                           const std::string& description);
// `error` empty: the job succeeded.
wire<proto::ListenerEvent> job_end_event(uint32_t job_id, bool succeeded, const std::string& error);

// A stage attempt handed to the task scheduler.
struct stage_run {
  uint32_t attempt = 0;
  uint32_t num_tasks = 0;
  std::string name;
  uint64_t submitted = 0; // epoch ms
  std::vector<scheduler::operator_info> operators; // for the UI's drawing of the stage
};
wire<proto::ListenerEvent> stage_submitted_event(uint32_t stage_id, const stage_run& run,
                                                 const std::vector<uint32_t>& parents);
// `failure_reason` empty: the attempt succeeded.
wire<proto::ListenerEvent> stage_completed_event(uint32_t stage_id, const stage_run& run,
                                                 const std::string& failure_reason);

// -- task_scheduler ------------------------------------------------------------------------------

// A launched attempt, for its TaskStart and TaskEnd events.
struct launched_task {
  uint32_t attempt = 0;
  uint32_t stage_id = 0;
  uint32_t stage_attempt = 0;
  uint32_t partition = 0;
  std::string executor_id;
  std::string host;
  proto::Locality locality = proto::Locality::ANY;
  uint64_t launch_time = 0; // epoch ms
};
wire<proto::ListenerEvent> task_start_event(uint64_t task_id, const launched_task& t, bool speculative);
// `error` and `metrics` from the attempt's StatusUpdate, when it sent one (not for a lost one).
wire<proto::ListenerEvent> task_end_event(uint64_t task_id, const launched_task& t, proto::TaskState state,
                                          const std::string& reason, std::optional<proto::TaskError::Reader> error,
                                          std::optional<proto::TaskMetrics::Reader> metrics);

wire<proto::ListenerEvent> executor_added_event(const std::string& executor_id, const std::string& host, uint32_t cores,
                                                uint64_t max_memory, const std::string& worker_id);
wire<proto::ListenerEvent> executor_removed_event(const std::string& executor_id, proto::ExecutorLossCause cause,
                                                  const std::string& message);

// One running attempt of an executor's heartbeat; the stage is unknown for an attempt that
// ended at the driver before its heartbeat came.
struct running_task_metrics {
  uint64_t task_id = 0;
  uint32_t attempt = 0;
  std::optional<std::pair<uint32_t, uint32_t>> stage; // (stage id, stage attempt)
  uint64_t run_time_ms = 0;
  uint64_t cpu_time_ms = 0;
  uint32_t remote_fetches_in_flight = 0;
};
wire<proto::ListenerEvent> executor_metrics_update_event(const std::string& executor_id,
                                                         const std::vector<running_task_metrics>& tasks);

} // namespace ember::actors
