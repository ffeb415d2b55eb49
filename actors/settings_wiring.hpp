// Fills the settings structs that the CAF-free components own (scheduler::, storage::) from a
// resolved configuration: the one place that knows which keys feed which field and how a
// registry "0 = unlimited" maps. config/ sits below these components and cannot include them;
// the components never read the config themselves. Called by the driver runtime and the
// executor process when they build their actors.
#pragma once

#include <cstdint>

#include "config/config.hpp"
#include "scheduler/allocation_policy.hpp"
#include "scheduler/task_scheduler.hpp"
#include "storage/block_manager.hpp"
#include "storage/broadcast.hpp"

namespace ember::actors {

// ember.task.*, ember.locality.wait.*, ember.speculation.*, ember.excludeOnFailure.* (the
// exclusion limits only when it is enabled) and ember.scheduler.mode. Pools are not read here:
// the allocation file is loaded by the runtime, which reports its errors.
scheduler::task_scheduler_settings task_scheduler_settings_from(const config::config& c);

// ember.dynamicAllocation.* with ember.shuffle.service.enabled and the executor's task slots
// (ember.executor.cores / ember.task.cpus). Throws std::runtime_error with Spark's message when
// they cannot work (scheduler::validate).
scheduler::allocation_settings allocation_settings_from(const config::config& c);

// ember.broadcast.*.
storage::broadcast_settings broadcast_settings_from(const config::config& c);

// The unified memory region of a process with `memory_bytes` (an executor's, or the driver's in
// local mode): ember.memory.fraction of it, ember.memory.storageFraction safe from eviction.
storage::memory_settings memory_settings_from(const config::config& c, std::int64_t memory_bytes);

}  // namespace ember::actors
