#include "config/settings.hpp"

#include <cctype>

namespace ember::config {

namespace {

int as_int(std::int64_t v) {
  return static_cast<int>(v);  // integer keys are declared with max INT32_MAX
}

template <class T>
T zero_is(T v, T unlimited) {
  return v == T{} ? unlimited : v;
}

}  // namespace

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  while (true) {
    auto comma = text.find(',');
    auto item = text.substr(0, comma);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front())))
      item.remove_prefix(1);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back())))
      item.remove_suffix(1);
    if (!item.empty())
      out.emplace_back(item);
    if (comma == std::string_view::npos)
      break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

scheduler_settings scheduler_settings::from(const config& c) {
  scheduler_settings s;
  s.max_task_failures = as_int(c.get(keys::task_max_failures));
  s.max_stage_attempts = as_int(c.get(keys::stage_max_consecutive_attempts));
  s.task_cpus = as_int(c.get(keys::task_cpus));
  s.locality_wait_process = c.get(keys::locality_wait_process);
  s.locality_wait_node = c.get(keys::locality_wait_node);
  s.locality_wait_rack = c.get(keys::locality_wait_rack);
  s.mode = c.get(keys::scheduler_mode) == "FAIR" ? scheduling_mode::fair : scheduling_mode::fifo;
  s.speculation = c.get(keys::speculation);
  s.speculation_interval = c.get(keys::speculation_interval);
  s.speculation_multiplier = c.get(keys::speculation_multiplier);
  s.speculation_quantile = c.get(keys::speculation_quantile);
  s.speculation_min_task_runtime = c.get(keys::speculation_min_task_runtime);
  s.exclude_on_failure = c.get(keys::exclude_on_failure_enabled);
  s.max_task_attempts_per_executor =
      as_int(c.get(keys::exclude_on_failure_task_max_task_attempts_per_executor));
  s.max_task_attempts_per_node = as_int(c.get(keys::exclude_on_failure_task_max_task_attempts_per_node));
  s.max_failed_tasks_per_executor_stage =
      as_int(c.get(keys::exclude_on_failure_stage_max_failed_tasks_per_executor));
  s.max_failed_executors_per_node_stage =
      as_int(c.get(keys::exclude_on_failure_stage_max_failed_executors_per_node));
  s.max_failed_tasks_per_executor_app =
      as_int(c.get(keys::exclude_on_failure_application_max_failed_tasks_per_executor));
  s.exclude_timeout = c.get(keys::exclude_on_failure_timeout);
  s.max_registered_resources_waiting_time =
      c.get(keys::scheduler_max_registered_resources_waiting_time);
  s.min_registered_resources_ratio = c.get(keys::scheduler_min_registered_resources_ratio);
  s.default_parallelism = as_int(c.get(keys::default_parallelism));
  return s;
}

executor_settings executor_settings::from(const config& c) {
  executor_settings s;
  s.instances = as_int(c.get(keys::executor_instances));
  s.cores = as_int(c.get(keys::executor_cores));
  s.memory_bytes = c.get(keys::executor_memory);
  s.heartbeat_interval = c.get(keys::executor_heartbeat_interval);
  s.network_timeout = c.get(keys::network_timeout);
  s.pin_cores = c.get(keys::executor_pin_cores);
  s.memory_fraction = c.get(keys::memory_fraction);
  s.storage_fraction = c.get(keys::memory_storage_fraction);
  s.local_dirs = split_list(c.get(keys::local_dir));
  return s;
}

shuffle_settings shuffle_settings::from(const config& c) {
  shuffle_settings s;
  s.compress = c.get(keys::shuffle_compress);
  s.checksum = c.get(keys::shuffle_checksum_enabled);
  s.codec = c.get(keys::io_compression_codec) == "none" ? compression_codec::none
                                                                 : compression_codec::lz4;
  s.lz4_block_size = c.get(keys::io_compression_lz4_block_size);
  s.file_buffer_bytes = c.get(keys::shuffle_file_buffer);
  s.max_size_in_flight = c.get(keys::reducer_max_size_in_flight);
  s.max_reqs_in_flight = zero_is<std::int64_t>(c.get(keys::reducer_max_reqs_in_flight), INT64_MAX);
  s.max_chunk_size = c.get(keys::network_max_chunk_size);
  s.fetch_retry_wait = c.get(keys::shuffle_io_retry_wait);
  s.service_enabled = c.get(keys::shuffle_service_enabled);
  s.local_dirs = split_list(c.get(keys::local_dir));
  return s;
}

driver_settings driver_settings::from(const config& c) {
  driver_settings s;
  s.app_name = c.get(keys::app_name);
  s.master = c.get(keys::master);
  s.host = c.get(keys::driver_host);
  s.port = as_int(c.get(keys::driver_port));
  s.memory_bytes = c.get(keys::driver_memory);
  s.max_result_size = zero_is<std::int64_t>(c.get(keys::driver_max_result_size), INT64_MAX);
  s.show_console_progress = c.get(keys::ui_show_console_progress);
  s.event_log_enabled = c.get(keys::event_log_enabled);
  s.event_log_dir = c.get(keys::event_log_dir);
  s.event_log_buffer = c.get(keys::event_log_buffer);
  s.ask_timeout = c.get(keys::rpc_ask_timeout);
  s.network_timeout = c.get(keys::network_timeout);
  return s;
}

allocation_settings allocation_settings::from(const config& c) {
  allocation_settings s;
  s.enabled = c.get(keys::dynamic_allocation_enabled);
  s.min_executors = as_int(c.get(keys::dynamic_allocation_min_executors));
  s.max_executors = zero_is(as_int(c.get(keys::dynamic_allocation_max_executors)), INT32_MAX);
  s.initial_executors = as_int(c.get(keys::dynamic_allocation_initial_executors));
  s.executor_idle_timeout = c.get(keys::dynamic_allocation_executor_idle_timeout);
  s.cached_executor_idle_timeout =
      zero_is(c.get(keys::dynamic_allocation_cached_executor_idle_timeout), milliseconds::max());
  s.scheduler_backlog_timeout = c.get(keys::dynamic_allocation_scheduler_backlog_timeout);
  s.sustained_scheduler_backlog_timeout =
      c.get(keys::dynamic_allocation_sustained_scheduler_backlog_timeout);
  s.shuffle_tracking = c.get(keys::dynamic_allocation_shuffle_tracking_enabled);
  s.shuffle_service = c.get(keys::shuffle_service_enabled);
  return s;
}

cluster_settings cluster_settings::from(const config& c) {
  cluster_settings s;
  s.master_port = as_int(c.get(keys::master_port));
  s.spread_out = c.get(keys::deploy_spread_out);
  s.recovery = c.get(keys::deploy_recovery_mode) == "FILESYSTEM" ? recovery_mode::filesystem
                                                                         : recovery_mode::none;
  s.recovery_directory = c.get(keys::deploy_recovery_directory);
  s.default_cores = zero_is(as_int(c.get(keys::deploy_default_cores)), INT32_MAX);
  s.cores_max = as_int(c.get(keys::cores_max));
  s.worker_timeout = c.get(keys::worker_timeout);
  s.topology_file = c.get(keys::topology_file);
  s.topology_script = c.get(keys::topology_script);
  s.topology_script_timeout = c.get(keys::topology_script_timeout);
  s.authenticate = c.get(keys::authenticate);
  s.secret = c.get(keys::authenticate_secret);
  return s;
}

}  // namespace ember::config
