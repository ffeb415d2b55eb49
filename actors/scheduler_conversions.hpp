// Conversions between the scheduler/ structs and the messages the driver's schedulers exchange
// (driver.capnp, executor.capnp): a stage submission as a SubmitTaskSet and back, an executor's
// StatusUpdate as the task set manager's task_status, locality levels.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/driver.capnp.h"
#include "protocol/wire.hpp"
#include "scheduler/dag_planner.hpp"
#include "scheduler/task_scheduler.hpp"

namespace ember::actors {

// dag_scheduler -> task_scheduler: `sub` with its stage binary, in the job's FAIR pool (`pool`
// empty: the default pool). `shuffle_id` is the map stage's shuffle (ignored for a result stage).
wire<proto::SubmitTaskSet> to_submit_task_set(const scheduler::stage_submission& sub, const std::string& pool,
                                              uint32_t shuffle_id, std::string_view binary);
// The task scheduler's side: everything but the binary, kind and shuffle id (kept per task set);
// the preference lists always have one entry per partition.
scheduler::stage_submission to_stage_submission(proto::SubmitTaskSet::Reader r);

// An attempt's terminal state; nullopt while it is launching or running (progress only).
std::optional<scheduler::task_status> to_task_status(proto::StatusUpdate::Reader u);

proto::Locality to_proto(scheduler::locality_level l);

} // namespace ember::actors
