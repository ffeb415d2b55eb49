// The parts of an executor's StatusUpdate that need no CAF: the task metrics and the update of
// a launch that did not run (killed while queued, or a stage without a binary). The executor
// actor (actors/executor.cpp) builds the rest around a task_report.
#pragma once

#include <string>

#include "executor/task_runner.hpp"
#include "protocol/common.capnp.h"
#include "protocol/executor.capnp.h"

namespace ember::executor {

void fill_metrics(proto::TaskMetrics::Builder m, const task_metrics& metrics);

// A launch skipped: KILLED if `killed` (KillTask came while it was queued), else FAILED with an
// ember::protocol_error (the scheduler sent no binary for its stage: a bug, but not a hang).
void fill_not_run(proto::StatusUpdate::Builder b, const std::string& executor_id, const task_spec& spec, bool killed);

} // namespace ember::executor
