// The executor actor: registers with the driver's task scheduler, runs the tasks of each
// LaunchTasks on its `cores` task threads (executor/task_pool, never on CAF's scheduler threads)
// with the stage binaries it caches until ForgetStages, and reports their ends in batches
// (executor/status_outbox -> StatusUpdates). The logic lives in executor/ (CAF-free); this actor
// turns messages into calls. Its block manager actor (actors/block_manager_actor.hpp) handles
// everything about cached blocks that involves the driver.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "executor/fetch_limiter.hpp"
#include "executor/running_tasks.hpp"
#include "storage/block_manager.hpp"

namespace ember::config {
class fault_injector;
}

namespace ember::detail {
class broadcast_source;
}

namespace ember::actors {

struct executor_config {
  std::string executor_id;
  std::string host;
  uint32_t cores = 1;
  std::string app_dir;     // <ember.local.dir>/<app id>: every executor of the host below it
  size_t task_memory = 0;  // execution memory per task before spilling
  bool compress = true;
  size_t block_size = 64 << 10;
  std::chrono::milliseconds ask_timeout{120000};
  // ember.executor.shortTaskThreshold: a task that ran shorter may hold its StatusUpdate back
  // while more tasks are queued here (the scheduler uses the same threshold to queue more).
  std::chrono::nanoseconds short_task_threshold{std::chrono::milliseconds{1}};
  // ember.executor.stopGracePeriod: how long a stopping executor waits for its running tasks.
  std::chrono::milliseconds stop_grace{5000};
  // An executor process of a cluster (not local mode): it monitors the driver instead of being
  // linked to it, serves its shuffle blocks on `block_port` and fetches other hosts' blocks, and
  // exits with code 52 (Spark's) when a task runs out of memory.
  bool process_mode = false;
  std::string worker_id;
  uint16_t block_port = 0;
  size_t max_chunk_size = 1 << 20;            // ember.network.maxChunkSize
  std::chrono::milliseconds fetch_timeout{120000};
  std::chrono::milliseconds fetch_retry_wait{5000}; // ember.shuffle.io.retryWait
  // This process's remote shuffle fetches in flight (ember.reducer.maxReqsInFlight,
  // maxSizeInFlight); null = unbounded (local mode: nothing is fetched remotely).
  std::shared_ptr<executor::fetch_limiter> fetches;
  // Injected message faults (ember.test.faults.*, docs/chaos.md); null or disabled = none. With
  // faults on, StatusUpdates are requests the scheduler acknowledges, resent every
  // `resend_interval` until acknowledged, so a dropped batch delays its tasks but loses none.
  std::shared_ptr<config::fault_injector> faults;
  std::chrono::milliseconds resend_interval{1000};
  // Cached partitions (storage/block_manager.hpp). An executor process passes the block manager
  // its block server also serves from, and its block manager actor; otherwise (local mode) the
  // executor makes both, the store below its dir with `storage_memory` (ember.executor.memory *
  // ember.memory.fraction, storageFraction).
  std::shared_ptr<storage::block_manager> blocks;
  caf::actor block_manager;
  storage::memory_settings storage_memory;
  // Where task threads find broadcast values (actors/broadcast_*.hpp); null = no broadcasts.
  std::shared_ptr<detail::broadcast_source> broadcasts;
  // Set when a heartbeater reports this executor's running tasks (an executor process): its
  // RegisterExecutor says so (reportsTaskStarts). Null in local mode (no heartbeats).
  std::shared_ptr<executor::running_tasks> running;
};

// Exit code of an executor process whose task ran out of memory (Spark's OOM exit code).
inline constexpr int executor_oom_exit_code = 52;

class map_output_index;

// True once a stopping executor of this process gave up waiting for a task thread (it stays
// detached, stuck in user code or on a peer): the process must then end with _Exit, since
// destructors and exit handlers would run under that thread's feet.
bool executor_abandoned_tasks();

// `driver` receives RegisterExecutor (the task scheduler in local mode, the driver endpoint in a
// cluster); StatusUpdates go to whoever answers ExecutorRegistered. `tracker` answers
// GetMapOutputs, GetBlockLocations and UpdateBlockInfo. `outputs`, if given, learns every map
// output this executor writes (the block server serves them).
caf::actor spawn_executor(caf::actor_system& sys, executor_config cfg, caf::actor driver, caf::actor tracker,
                          std::shared_ptr<map_output_index> outputs = nullptr);

} // namespace ember::actors
