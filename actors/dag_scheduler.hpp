// The dag_scheduler actor: takes jobs (SubmitJob), cuts them into stages with
// scheduler::dag_planner, hands ready stages to the task scheduler as task sets, collects
// results and answers the job. It also serves as the map output tracker (GetMapOutputs), since
// the planner owns the registry of map outputs, and as the block_manager_master (UpdateBlockInfo,
// GetBlockLocations, RemoveRdd), since the planner asks it where cached partitions are.
#pragma once

#include <chrono>
#include <cstdint>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

namespace ember::actors {

struct dag_scheduler_config {
  int max_consecutive_attempts = 4;  // ember.stage.maxConsecutiveAttempts
  int64_t max_result_size = 1 << 30; // ember.driver.maxResultSize (bytes; INT64_MAX = unlimited)
  std::chrono::milliseconds resubmit_delay{200};
  caf::actor listener_bus; // JobStart/JobEnd/StageSubmitted/StageCompleted go here; none if null
  std::chrono::milliseconds ask_timeout{120000}; // RemoveRdd to executors (ember.rpc.askTimeout)
};

caf::actor spawn_dag_scheduler(caf::actor_system& sys, dag_scheduler_config cfg, caf::actor task_scheduler);

} // namespace ember::actors
