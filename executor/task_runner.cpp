#include "executor/task_runner.hpp"

#include <algorithm>
#include <utility>

#include "api/broadcast.hpp"
#include "executor/running_tasks.hpp"

namespace ember::executor {

task_runner::task_runner(task_runner_settings settings, task_services& services, storage::block_manager& blocks,
                         running_tasks* running, detail::broadcast_source* broadcasts)
  : settings_(std::move(settings)), services_(services), blocks_(blocks), running_(running), broadcasts_(broadcasts) {}

task_report task_runner::run(const task_spec& spec, std::string_view binary) const {
  detail::task_env env;
  env.task_id = spec.task_id;
  env.attempt = spec.attempt;
  env.stage_id = spec.stage_id;
  env.stage_attempt = spec.stage_attempt;
  env.partition = spec.partition;
  env.executor_id = settings_.executor_id;
  env.host = settings_.host;
  env.local_dir = settings_.dir;
  env.memory_limit = settings_.task_memory;
  env.compress = settings_.compress;
  env.block_size = settings_.block_size;
  auto* services = &services_;
  env.map_outputs = [services](uint32_t shuffle) { return services->map_outputs(shuffle); };
  env.blocks = &blocks_;
  env.report_blocks = [services](const std::vector<storage::block_status>& changes) { services->report_blocks(changes); };
  if (settings_.remote) {
    env.fetch_cached = [services](const storage::block_id& id) { return services->fetch_cached(id); };
    env.block_port = settings_.block_port;
    env.fetch_remote = [services](const scheduler::map_status& s, uint32_t p) { return services->fetch_remote(s, p); };
  }

  // The attempt runs from here, on this thread (whatever time it waited in the queue before).
  auto start = std::chrono::steady_clock::now();
  auto cpu_start = running_ ? running_tasks::thread_cpu_time() : std::chrono::nanoseconds{0};
  struct running_guard {
    running_tasks* table;
    uint64_t task_id;
    uint32_t attempt;
    ~running_guard() {
      if (table)
        table->ended(task_id, attempt);
    }
  } listed{running_, spec.task_id, spec.attempt};
  if (running_)
    running_->started(spec.task_id, spec.attempt, start, cpu_start);
  detail::broadcast_scope broadcasts{broadcasts_}; // b.value() in user code finds them
  // The task's execution memory is reserved for its run: storage borrowing it gives it back.
  blocks_.acquire_execution(settings_.task_memory);
  task_report report;
  report.outcome = detail::run_task(binary, env);
  blocks_.release_execution(settings_.task_memory);
  if (report.outcome.what == detail::task_outcome::kind::map_output)
    services_.map_output_written(report.outcome.status);

  auto& m = report.metrics;
  m.run_ns = static_cast<uint64_t>(
    std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count());
  if (running_)
    m.cpu_ns = static_cast<uint64_t>(std::max(std::chrono::nanoseconds{0}, running_tasks::thread_cpu_time() - cpu_start).count());
  m.records_read = env.records_read;
  m.bytes_read = env.bytes_read;
  m.records_written = env.records_written;
  m.bytes_written = env.bytes_written;
  m.shuffle_records_read = env.shuffle_records_read;
  m.shuffle_bytes_read = env.shuffle_bytes_read;
  m.shuffle_remote_bytes_read = env.shuffle_remote_bytes_read;
  m.shuffle_remote_blocks_fetched = env.shuffle_remote_blocks_fetched;
  m.shuffle_records_written = env.shuffle_records_written;
  m.shuffle_bytes_written = env.shuffle_bytes_written;
  m.spill_bytes = env.spill_bytes;
  return report;
}

} // namespace ember::executor
