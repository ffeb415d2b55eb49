// The executor: registers with the driver's task scheduler, runs the tasks of each LaunchTasks
// on its `cores` task threads (never on CAF's scheduler threads) with the stage binaries it caches
// until ForgetStages, and reports their ends in batches (StatusUpdates). Reducers ask the map
// output tracker where map outputs are, from their task thread.
#pragma once

#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "storage/block_manager.hpp"

namespace ember::config {
class fault_injector;
}

namespace ember::detail {
class broadcast_source;
}

namespace ember::actors {

// The task attempts running on an executor's task threads (not those still queued), with when
// each started there and its thread's CPU clock: the heartbeater (executor_process.cpp) lists
// them in every Heartbeat, so the driver learns real starts (speculation) and progress (events).
// A task thread adds its attempt as it starts running it and removes it as it ends: one short
// lock hold each, nothing per record. While the attempt waits for another host's shuffle block
// (fetch_remote_block, on its task thread) its entry counts the fetch as in flight: the thread
// reaches its entry through a thread_local pointer (one relaxed atomic add per remote block).
class running_tasks {
public:
  using clock = std::chrono::steady_clock;
  struct progress {
    uint64_t task_id = 0;
    uint32_t attempt = 0;
    std::chrono::nanoseconds run_time{0}; // since it started on its thread
    std::chrono::nanoseconds cpu_time{0}; // its thread's CPU time since then (0 if unknown)
    uint32_t remote_fetches_in_flight = 0; // remote shuffle block fetches it waits for now
  };

  // Counts a remote shuffle fetch of the calling thread's running attempt as in flight for its
  // lifetime; nothing when the thread runs no listed attempt (local mode, other threads).
  class fetch_scope {
  public:
    fetch_scope();
    ~fetch_scope();
    fetch_scope(const fetch_scope&) = delete;
    fetch_scope& operator=(const fetch_scope&) = delete;

  private:
    std::atomic<uint32_t>* counter_;
  };

  // On the task thread, as it starts the attempt at `at` with `cpu_at` of CPU time
  // (thread_cpu_time()); snapshots read the thread's CPU clock through its id. The thread's
  // fetch_scopes count in this entry until ended() (on the same thread).
  void started(uint64_t task_id, uint32_t attempt, clock::time_point at, std::chrono::nanoseconds cpu_at);
  void ended(uint64_t task_id, uint32_t attempt);
  // Every running attempt as of `now`, by task id. Safe from any thread: an entry's thread is
  // busy with it (alive) until it removes it, under the same lock.
  std::vector<progress> snapshot(clock::time_point now) const;

  // The calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID).
  static std::chrono::nanoseconds thread_cpu_time();

private:
  struct entry {
    clock::time_point start;
    clockid_t cpu_clock{};
    bool has_cpu_clock = false;
    std::chrono::nanoseconds cpu_start{0};
    std::atomic<uint32_t> fetches{0}; // written by its task thread only, read by snapshots
  };
  mutable std::mutex mtx_;
  std::map<std::pair<uint64_t, uint32_t>, entry> tasks_;
};

struct executor_config {
  std::string executor_id;
  std::string host;
  uint32_t cores = 1;
  std::string app_dir;     // <ember.local.dir>/<app id>: every executor of the host below it
  size_t task_memory = 0;  // execution memory per task before spilling
  bool compress = true;
  size_t block_size = 64 << 10;
  std::chrono::milliseconds ask_timeout{120000};
  // An executor process of a cluster (not local mode): it monitors the driver instead of being
  // linked to it, serves its shuffle blocks on `block_port` and fetches other hosts' blocks, and
  // exits with code 52 (Spark's) when a task runs out of memory.
  bool process_mode = false;
  std::string worker_id;
  uint16_t block_port = 0;
  size_t max_chunk_size = 1 << 20;            // ember.network.maxChunkSize
  std::chrono::milliseconds fetch_timeout{120000};
  std::chrono::milliseconds fetch_retry_wait{5000}; // ember.shuffle.io.retryWait
  // Injected message faults (ember.test.faults.*, docs/chaos.md); null or disabled = none. With
  // faults on, StatusUpdates are requests the scheduler acknowledges, resent every
  // `resend_interval` until acknowledged, so a dropped batch delays its tasks but loses none.
  std::shared_ptr<config::fault_injector> faults;
  std::chrono::milliseconds resend_interval{1000};
  // Cached partitions (storage/block_manager.hpp). An executor process passes the block manager
  // its block server also serves from; otherwise (local mode) the executor makes one below its
  // dir with `storage_memory` (ember.executor.memory * ember.memory.fraction, storageFraction).
  std::shared_ptr<storage::block_manager> blocks;
  storage::memory_settings storage_memory;
  // Where task threads find broadcast values (actors/broadcast_*.hpp); null = no broadcasts.
  std::shared_ptr<detail::broadcast_source> broadcasts;
  // Set when a heartbeater reports this executor's running tasks (an executor process): its
  // RegisterExecutor says so (reportsTaskStarts). Null in local mode (no heartbeats).
  std::shared_ptr<running_tasks> running;
};

// Exit code of an executor process whose task ran out of memory (Spark's OOM exit code).
inline constexpr int executor_oom_exit_code = 52;

class map_output_index;

// `driver` receives RegisterExecutor (the task scheduler in local mode, the driver endpoint in a
// cluster); StatusUpdates go to whoever answers ExecutorRegistered. `tracker` answers
// GetMapOutputs. `outputs`, if given, learns every map output this executor writes (the block
// server serves them).
caf::actor spawn_executor(caf::actor_system& sys, executor_config cfg, caf::actor driver, caf::actor tracker,
                          std::shared_ptr<map_output_index> outputs = nullptr);

} // namespace ember::actors
