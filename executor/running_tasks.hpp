// The task attempts running on an executor's task threads, with their start and CPU clocks.
// Owned by an executor process (actors/executor_process.cpp): task threads list their attempts
// (executor/task_runner), its heartbeater reports them in every Heartbeat.
#pragma once

#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

namespace ember::executor {

// The attempts running now (not those still queued), with when each started on its thread and
// that thread's CPU clock, so the driver learns real starts (speculation) and progress (events).
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

} // namespace ember::executor
