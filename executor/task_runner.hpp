// Runs one task attempt on the calling task thread: builds its task_env, lists it as running,
// reserves its execution memory, decodes and runs its binary (api/task.hpp), and measures it.
// Owned by the executor actor (actors/executor.cpp), shared by its task threads. What the task
// needs from other processes (map output locations, remote blocks) it asks through
// task_services, which the actor side implements; the local store it uses directly.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/task.hpp"
#include "scheduler/map_output_registry.hpp"
#include "storage/block_manager.hpp"

namespace ember::detail {
class broadcast_source;
}

namespace ember::executor {

class running_tasks;

// What a task thread reaches outside its executor for. Called on task threads, concurrently;
// each call may block (it waits for another process), never on a CAF scheduler thread.
class task_services {
public:
  virtual ~task_services() = default;
  // Every map output of a shuffle (the driver's map output tracker). Throws
  // detail::fetch_failed_error when one is missing or the tracker cannot be asked.
  virtual std::vector<scheduler::map_status> map_outputs(uint32_t shuffle_id) = 0;
  // Tells the driver's block_manager_master where these blocks now are; returns once it knows.
  virtual void report_blocks(const std::vector<storage::block_status>& changes) = 0;
  // A map output this executor wrote, for its block server to serve (a local index).
  virtual void map_output_written(const scheduler::map_status& status) = 0;
  // -- executor processes only (task_runner_settings::remote) --
  // Reduce partition p of a map output held on another host (throws fetch_failed_error).
  virtual std::string fetch_remote(const scheduler::map_status& s, uint32_t p) = 0;
  // A partition cached on another executor, serialized; nullopt if no holder serves it.
  virtual std::optional<std::string> fetch_cached(const storage::block_id& id) = 0;
};

struct task_runner_settings {
  std::string executor_id;
  std::string host;
  std::string dir;        // <app dir>/<executor id>: shuffle files and spills
  size_t task_memory = 0; // execution memory per task before spilling
  bool compress = true;
  size_t block_size = 64 << 10;
  // An executor process: remote shuffle blocks and cached blocks of other executors are
  // fetched (task_services), and map outputs record this block server's port. Local mode: every
  // map output is a host-local file.
  bool remote = false;
  uint16_t block_port = 0;
};

// One launch, as LaunchTask names it.
struct task_spec {
  uint64_t task_id = 0;
  uint32_t attempt = 0;
  uint32_t stage_id = 0;
  uint32_t stage_attempt = 0;
  uint32_t partition = 0;
};

// The counters a StatusUpdate's TaskMetrics carries.
struct task_metrics {
  uint64_t run_ns = 0;
  uint64_t cpu_ns = 0; // 0 unless the runner lists running tasks (an executor process)
  uint64_t records_read = 0;
  uint64_t bytes_read = 0;
  uint64_t records_written = 0;
  uint64_t bytes_written = 0;
  uint64_t shuffle_records_read = 0;
  uint64_t shuffle_bytes_read = 0;
  uint64_t shuffle_remote_bytes_read = 0;
  uint64_t shuffle_remote_blocks_fetched = 0;
  uint64_t shuffle_records_written = 0;
  uint64_t shuffle_bytes_written = 0;
  uint64_t spill_bytes = 0;
};

struct task_report {
  detail::task_outcome outcome;
  task_metrics metrics;
};

class task_runner {
public:
  // `blocks` is the executor's store (task threads read and write it directly). `running`, if
  // given, lists each attempt while it runs and its thread's CPU time is measured (a system call
  // at each end: local mode, where tiny tasks are the benchmark, passes null and skips both).
  // `broadcasts`, if given, is where b.value() in user code finds broadcast values.
  task_runner(task_runner_settings settings, task_services& services, storage::block_manager& blocks,
              running_tasks* running, detail::broadcast_source* broadcasts);

  // Runs the attempt on this thread; never throws (api/task.hpp). A map output is announced to
  // services.map_output_written before this returns.
  task_report run(const task_spec& spec, std::string_view binary) const;

  const task_runner_settings& settings() const { return settings_; }

private:
  task_runner_settings settings_;
  task_services& services_;
  storage::block_manager& blocks_;
  running_tasks* running_;
  detail::broadcast_source* broadcasts_;
};

} // namespace ember::executor
