// The dag_scheduler actor: takes jobs (SubmitJob), cuts them into stages with
// scheduler::dag_planner, hands ready stages to the task scheduler as task sets, collects
// results and answers the job. Its planner owns the map outputs it plans with; every change to
// them goes on to the map_output_tracker actor, which serves the reducers. The RDD blocks'
// locations (cached partitions -> PROCESS_LOCAL preferences) come from the
// block_manager_master actor, which sends each change here.
//
//   task_scheduler ──TaskEndedBatch / TaskSetFailed / ExecutorLost──► dag_scheduler
//   dag_scheduler ──SubmitTaskSet / CancelStage──► task_scheduler
//   dag_scheduler ──RegisterShuffle / MapStatus / UnregisterMapOutput / ExecutorLost──► map_output_tracker
//   dag_scheduler ──ExecutorLost──► block_manager_master ──UpdateBlockInfo / RemoveRdd──► dag_scheduler
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
  caf::actor map_output_tracker;   // required
  caf::actor block_manager_master; // required
};

// Linked to the task scheduler, the map output tracker and the block manager master: the
// driver's schedulers fail together.
caf::actor spawn_dag_scheduler(caf::actor_system& sys, dag_scheduler_config cfg, caf::actor task_scheduler);

} // namespace ember::actors
