// The task_scheduler actor: turns task sets (SubmitTaskSet) and free executor cores into
// LaunchTasks (one per executor per offer round, each stage binary shipped once per executor)
// with scheduler::task_scheduler, routes the executors' StatusUpdates batches, and reports
// accepted task ends, aborted task sets and lost executors to the dag_scheduler. It learns the
// dag_scheduler's handle from its first message (the two know each other).
#pragma once

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/atom.hpp>

#include "scheduler/allocation_policy.hpp"
#include "scheduler/pools.hpp"
#include "scheduler/task_scheduler.hpp"

namespace ember::actors {

struct task_scheduler_config {
  scheduler::task_scheduler_settings settings; // actors/settings_wiring.hpp; pools come from `pools`
  caf::actor listener_bus; // TaskStart/TaskEnd/ExecutorAdded/ExecutorRemoved go here; none if null
  caf::actor block_manager_master; // each RegisterExecutor goes on there, as the executor; none if null
  // Post TaskStart/TaskEnd from the start (event log or progress bar on); otherwise from the
  // first (caf::subscribe_atom), which the listener bus sends when it gets a subscriber.
  bool task_events = true;
  // ember.executor.taskQueueDepth: an executor gets cores * (1 + depth) task slots.
  uint32_t task_queue_depth = 2;
  // ember.executor.shortTaskQueueDepth / shortTaskThreshold: while a task set's recent tasks are
  // shorter than the threshold, an executor may queue up to cores * (1 + this) of them.
  uint32_t short_task_queue_depth = 64;
  std::chrono::milliseconds short_task_threshold{1};
  // ember.scheduler.allocation.file, parsed (FAIR mode).
  std::vector<scheduler::pool_spec> pools;
  // Dynamic allocation (a cluster with ember.dynamicAllocation.enabled): the policy runs here,
  // where backlog and busy executors are known; its requests go to `allocation_target` (the app
  // client, which forwards them to the master; it arrives as (allocation_target_atom, actor)).
  std::optional<scheduler::allocation_settings> allocation;
  // ember.executor.lossReasonWait (a cluster; 0 in local mode): an executor whose connection
  // drops gets no new tasks, and its running ones wait this long for the worker's account of
  // its end. Ended by its own tasks (memory limit, crash), they fail and count against
  // ember.task.maxFailures; otherwise, or without word in time, they are resubmitted.
  std::chrono::milliseconds loss_reason_wait{0};
  // A cluster: no task starts until executors with this many cores have registered (requested
  // cores x ember.scheduler.minRegisteredResourcesRatio) or
  // ember.scheduler.maxRegisteredResourcesWaitingTime has passed, so the first executor to
  // register does not queue the whole first stage while the others arrive. 0 = start at once.
  uint32_t min_registered_cores = 0;
  std::chrono::milliseconds max_registered_wait{30000};
};

using allocation_target_atom = caf::atom_constant<caf::atom("alloctgt")>;
// (granted_atom, cores): the master granted an executor with this many cores (app client ->
// task scheduler). Once every granted executor has registered, the first tasks need not wait
// for the rest of the requested cores (the cluster may have no room for them).
using granted_atom = caf::atom_constant<caf::atom("granted")>;

caf::actor spawn_task_scheduler(caf::actor_system& sys, task_scheduler_config cfg);

} // namespace ember::actors
