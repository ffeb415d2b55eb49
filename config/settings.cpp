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
  s.max_task_failures = as_int(c.get_int("ember.task.maxFailures"));
  s.max_stage_attempts = as_int(c.get_int("ember.stage.maxConsecutiveAttempts"));
  s.task_cpus = as_int(c.get_int("ember.task.cpus"));
  s.locality_wait_process = c.get_duration("ember.locality.wait.process");
  s.locality_wait_node = c.get_duration("ember.locality.wait.node");
  s.locality_wait_rack = c.get_duration("ember.locality.wait.rack");
  s.mode = c.get_string("ember.scheduler.mode") == "FAIR" ? scheduling_mode::fair : scheduling_mode::fifo;
  s.speculation = c.get_bool("ember.speculation");
  s.speculation_interval = c.get_duration("ember.speculation.interval");
  s.speculation_multiplier = c.get_double("ember.speculation.multiplier");
  s.speculation_quantile = c.get_double("ember.speculation.quantile");
  s.speculation_min_task_runtime = c.get_duration("ember.speculation.minTaskRuntime");
  s.exclude_on_failure = c.get_bool("ember.excludeOnFailure.enabled");
  s.max_task_attempts_per_executor =
      as_int(c.get_int("ember.excludeOnFailure.task.maxTaskAttemptsPerExecutor"));
  s.max_task_attempts_per_node = as_int(c.get_int("ember.excludeOnFailure.task.maxTaskAttemptsPerNode"));
  s.max_failed_tasks_per_executor_stage =
      as_int(c.get_int("ember.excludeOnFailure.stage.maxFailedTasksPerExecutor"));
  s.max_failed_executors_per_node_stage =
      as_int(c.get_int("ember.excludeOnFailure.stage.maxFailedExecutorsPerNode"));
  s.max_failed_tasks_per_executor_app =
      as_int(c.get_int("ember.excludeOnFailure.application.maxFailedTasksPerExecutor"));
  s.exclude_timeout = c.get_duration("ember.excludeOnFailure.timeout");
  s.max_registered_resources_waiting_time =
      c.get_duration("ember.scheduler.maxRegisteredResourcesWaitingTime");
  s.min_registered_resources_ratio = c.get_double("ember.scheduler.minRegisteredResourcesRatio");
  s.default_parallelism = as_int(c.get_int("ember.default.parallelism"));
  return s;
}

executor_settings executor_settings::from(const config& c) {
  executor_settings s;
  s.instances = as_int(c.get_int("ember.executor.instances"));
  s.cores = as_int(c.get_int("ember.executor.cores"));
  s.memory_bytes = c.get_size("ember.executor.memory");
  s.heartbeat_interval = c.get_duration("ember.executor.heartbeatInterval");
  s.network_timeout = c.get_duration("ember.network.timeout");
  s.pin_cores = c.get_bool("ember.executor.pinCores");
  s.memory_fraction = c.get_double("ember.memory.fraction");
  s.storage_fraction = c.get_double("ember.memory.storageFraction");
  s.local_dirs = split_list(c.get_string("ember.local.dir"));
  return s;
}

shuffle_settings shuffle_settings::from(const config& c) {
  shuffle_settings s;
  s.compress = c.get_bool("ember.shuffle.compress");
  s.checksum = c.get_bool("ember.shuffle.checksum.enabled");
  s.codec = c.get_string("ember.io.compression.codec") == "none" ? compression_codec::none
                                                                 : compression_codec::lz4;
  s.lz4_block_size = c.get_size("ember.io.compression.lz4.blockSize");
  s.file_buffer_bytes = c.get_size("ember.shuffle.file.buffer");
  s.max_size_in_flight = c.get_size("ember.reducer.maxSizeInFlight");
  s.max_reqs_in_flight = zero_is<std::int64_t>(c.get_int("ember.reducer.maxReqsInFlight"), INT64_MAX);
  s.max_chunk_size = c.get_size("ember.network.maxChunkSize");
  s.fetch_retry_wait = c.get_duration("ember.shuffle.io.retryWait");
  s.service_enabled = c.get_bool("ember.shuffle.service.enabled");
  s.local_dirs = split_list(c.get_string("ember.local.dir"));
  return s;
}

driver_settings driver_settings::from(const config& c) {
  driver_settings s;
  s.app_name = c.get_string("ember.app.name");
  s.master = c.get_string("ember.master");
  s.host = c.get_string("ember.driver.host");
  s.port = as_int(c.get_int("ember.driver.port"));
  s.memory_bytes = c.get_size("ember.driver.memory");
  s.max_result_size = zero_is<std::int64_t>(c.get_size("ember.driver.maxResultSize"), INT64_MAX);
  s.show_console_progress = c.get_bool("ember.ui.showConsoleProgress");
  s.event_log_enabled = c.get_bool("ember.eventLog.enabled");
  s.event_log_dir = c.get_string("ember.eventLog.dir");
  s.event_log_buffer = c.get_size("ember.eventLog.buffer");
  s.ask_timeout = c.get_duration("ember.rpc.askTimeout");
  s.network_timeout = c.get_duration("ember.network.timeout");
  return s;
}

allocation_settings allocation_settings::from(const config& c) {
  allocation_settings s;
  s.enabled = c.get_bool("ember.dynamicAllocation.enabled");
  s.min_executors = as_int(c.get_int("ember.dynamicAllocation.minExecutors"));
  s.max_executors = zero_is(as_int(c.get_int("ember.dynamicAllocation.maxExecutors")), INT32_MAX);
  s.initial_executors = as_int(c.get_int("ember.dynamicAllocation.initialExecutors"));
  s.executor_idle_timeout = c.get_duration("ember.dynamicAllocation.executorIdleTimeout");
  s.cached_executor_idle_timeout =
      zero_is(c.get_duration("ember.dynamicAllocation.cachedExecutorIdleTimeout"), milliseconds::max());
  s.scheduler_backlog_timeout = c.get_duration("ember.dynamicAllocation.schedulerBacklogTimeout");
  s.sustained_scheduler_backlog_timeout =
      c.get_duration("ember.dynamicAllocation.sustainedSchedulerBacklogTimeout");
  s.shuffle_tracking = c.get_bool("ember.dynamicAllocation.shuffleTracking.enabled");
  s.shuffle_service = c.get_bool("ember.shuffle.service.enabled");
  return s;
}

cluster_settings cluster_settings::from(const config& c) {
  cluster_settings s;
  s.master_port = as_int(c.get_int("ember.master.port"));
  s.spread_out = c.get_bool("ember.deploy.spreadOut");
  s.recovery = c.get_string("ember.deploy.recoveryMode") == "FILESYSTEM" ? recovery_mode::filesystem
                                                                         : recovery_mode::none;
  s.recovery_directory = c.get_string("ember.deploy.recoveryDirectory");
  s.default_cores = zero_is(as_int(c.get_int("ember.deploy.defaultCores")), INT32_MAX);
  s.cores_max = as_int(c.get_int("ember.cores.max"));
  s.worker_timeout = c.get_duration("ember.worker.timeout");
  s.topology_file = c.get_string("ember.topology.file");
  s.topology_script = c.get_string("ember.topology.script");
  s.topology_script_timeout = c.get_duration("ember.topology.script.timeout");
  s.authenticate = c.get_bool("ember.authenticate");
  s.secret = c.get_string("ember.authenticate.secret");
  return s;
}

}  // namespace ember::config
