#include "actors/settings_wiring.hpp"

#include <algorithm>
#include <stdexcept>

namespace ember::actors {

namespace keys = config::keys;

scheduler::task_scheduler_settings task_scheduler_settings_from(const config::config& c) {
  // Integer keys are declared with at most INT32_MAX, so the narrowing casts are exact.
  scheduler::task_scheduler_settings out;
  auto& t = out.task_set;
  t.max_task_failures = static_cast<int>(c.get(keys::task_max_failures));
  t.locality_wait_process = c.get(keys::locality_wait_process);
  t.locality_wait_node = c.get(keys::locality_wait_node);
  t.locality_wait_rack = c.get(keys::locality_wait_rack);
  t.speculation = c.get(keys::speculation);
  t.speculation_multiplier = c.get(keys::speculation_multiplier);
  t.speculation_quantile = c.get(keys::speculation_quantile);
  t.speculation_min_runtime = c.get(keys::speculation_min_task_runtime);
  out.speculation_interval = c.get(keys::speculation_interval);
  if (c.get(keys::exclude_on_failure_enabled)) {  // off: the logic's 0 = no exclusion
    t.max_task_attempts_per_executor =
      static_cast<int>(c.get(keys::exclude_on_failure_task_max_task_attempts_per_executor));
    t.max_task_attempts_per_node = static_cast<int>(c.get(keys::exclude_on_failure_task_max_task_attempts_per_node));
    t.max_failed_tasks_per_executor =
      static_cast<int>(c.get(keys::exclude_on_failure_stage_max_failed_tasks_per_executor));
    t.max_failed_executors_per_node =
      static_cast<int>(c.get(keys::exclude_on_failure_stage_max_failed_executors_per_node));
    out.max_failed_tasks_per_executor_app =
      static_cast<int>(c.get(keys::exclude_on_failure_application_max_failed_tasks_per_executor));
    out.exclude_timeout = c.get(keys::exclude_on_failure_timeout);
  }
  out.cpus_per_task = static_cast<uint32_t>(c.get(keys::task_cpus));
  out.mode = c.get(keys::scheduler_mode) == "FAIR" ? scheduler::scheduling_mode::fair : scheduler::scheduling_mode::fifo;
  return out;
}

scheduler::allocation_settings allocation_settings_from(const config::config& c) {
  scheduler::allocation_settings out;
  out.enabled = c.get(keys::dynamic_allocation_enabled);
  auto min = c.get(keys::dynamic_allocation_min_executors);
  out.min_executors = static_cast<uint32_t>(min);
  out.max_executors = static_cast<uint32_t>(c.get(keys::dynamic_allocation_max_executors));  // 0 = unlimited
  out.initial_executors = static_cast<uint32_t>(std::max(c.get(keys::dynamic_allocation_initial_executors), min));
  out.executor_idle_timeout = c.get(keys::dynamic_allocation_executor_idle_timeout);
  out.cached_executor_idle_timeout = c.get(keys::dynamic_allocation_cached_executor_idle_timeout);  // 0 = never
  out.scheduler_backlog_timeout = c.get(keys::dynamic_allocation_scheduler_backlog_timeout);
  out.sustained_scheduler_backlog_timeout = c.get(keys::dynamic_allocation_sustained_scheduler_backlog_timeout);
  out.shuffle_tracking = c.get(keys::dynamic_allocation_shuffle_tracking_enabled);
  out.shuffle_service = c.get(keys::shuffle_service_enabled);
  auto cpus = std::max<int64_t>(1, c.get(keys::task_cpus));
  out.tasks_per_executor = static_cast<uint32_t>(std::max<int64_t>(1, c.get(keys::executor_cores) / cpus));
  if (auto err = scheduler::validate(out))
    throw std::runtime_error(*err);
  return out;
}

storage::broadcast_settings broadcast_settings_from(const config::config& c) {
  storage::broadcast_settings s;
  s.block_size = static_cast<size_t>(c.get(keys::broadcast_block_size));
  s.compress = c.get(keys::broadcast_compress);
  s.max_size = static_cast<uint64_t>(c.get(keys::broadcast_max_size));
  return s;
}

storage::memory_settings memory_settings_from(const config::config& c, std::int64_t memory_bytes) {
  return {static_cast<size_t>(static_cast<double>(memory_bytes) * c.get(keys::memory_fraction)),
          c.get(keys::memory_storage_fraction)};
}

}  // namespace ember::actors
