// Typed handles of the configuration keys: `conf.get(keys::network_timeout)` returns a
// std::chrono::milliseconds, and a misspelt handle or a handle of the wrong type does not compile.
// One X-macro list (as Ray's ray_config_def.h) declares the handles; registry.cpp builds each
// key's spec from its handle, so every registered key has one; a unit test
// (config_keys_test) checks the other direction. Owned by config/, used by every component.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/registry.hpp"

namespace ember::config {

// The C++ type a key's value arrives as.
template <key_type K>
struct key_value;
template <>
struct key_value<key_type::boolean> { using type = bool; };
template <>
struct key_value<key_type::integer> { using type = std::int64_t; };
template <>
struct key_value<key_type::real> { using type = double; };
template <>
struct key_value<key_type::size> { using type = std::int64_t; };  // bytes
template <>
struct key_value<key_type::duration> { using type = std::chrono::milliseconds; };
template <>
struct key_value<key_type::string> { using type = std::string; };
template <>
struct key_value<key_type::enumeration> { using type = std::string; };  // canonical spelling

// A key's name with its type; config::get(key) returns key_value<K>::type.
template <key_type K>
struct key {
  using value_type = typename key_value<K>::type;
  static constexpr key_type type = K;
  std::string_view name;
};

// A handle with its type as a value, for lists of keys of mixed types.
struct key_ref {
  std::string_view name;
  key_type type;
};

// X(handle, key_type, name), sorted by name as the registry is.
#define EMBER_CONFIG_KEYS(X) \
  X(acls_enable, boolean, "ember.acls.enable") \
  X(admin_acls, string, "ember.admin.acls") \
  X(app_name, string, "ember.app.name") \
  X(authenticate, boolean, "ember.authenticate") \
  X(authenticate_secret, string, "ember.authenticate.secret") \
  X(authenticate_secret_file, string, "ember.authenticate.secret.file") \
  X(block_manager_max_blocks_per_request, integer, "ember.blockManager.maxBlocksPerRequest") \
  X(broadcast_block_size, size, "ember.broadcast.blockSize") \
  X(broadcast_compress, boolean, "ember.broadcast.compress") \
  X(broadcast_max_size, size, "ember.broadcast.maxSize") \
  X(cores_max, integer, "ember.cores.max") \
  X(dead_worker_persistence, integer, "ember.dead.worker.persistence") \
  X(default_parallelism, integer, "ember.default.parallelism") \
  X(deploy_default_cores, integer, "ember.deploy.defaultCores") \
  X(deploy_max_executor_retries, integer, "ember.deploy.maxExecutorRetries") \
  X(deploy_recovery_directory, string, "ember.deploy.recoveryDirectory") \
  X(deploy_recovery_mode, enumeration, "ember.deploy.recoveryMode") \
  X(deploy_retained_applications, integer, "ember.deploy.retainedApplications") \
  X(deploy_retained_drivers, integer, "ember.deploy.retainedDrivers") \
  X(deploy_spread_out, boolean, "ember.deploy.spreadOut") \
  X(driver_host, string, "ember.driver.host") \
  X(driver_max_result_size, size, "ember.driver.maxResultSize") \
  X(driver_memory, size, "ember.driver.memory") \
  X(driver_port, integer, "ember.driver.port") \
  X(dynamic_allocation_cached_executor_idle_timeout, duration, "ember.dynamicAllocation.cachedExecutorIdleTimeout") \
  X(dynamic_allocation_enabled, boolean, "ember.dynamicAllocation.enabled") \
  X(dynamic_allocation_executor_idle_timeout, duration, "ember.dynamicAllocation.executorIdleTimeout") \
  X(dynamic_allocation_initial_executors, integer, "ember.dynamicAllocation.initialExecutors") \
  X(dynamic_allocation_max_executors, integer, "ember.dynamicAllocation.maxExecutors") \
  X(dynamic_allocation_min_executors, integer, "ember.dynamicAllocation.minExecutors") \
  X(dynamic_allocation_scheduler_backlog_timeout, duration, "ember.dynamicAllocation.schedulerBacklogTimeout") \
  X(dynamic_allocation_shuffle_tracking_enabled, boolean, "ember.dynamicAllocation.shuffleTracking.enabled") \
  X(dynamic_allocation_sustained_scheduler_backlog_timeout, duration, "ember.dynamicAllocation.sustainedSchedulerBacklogTimeout") \
  X(event_log_buffer, size, "ember.eventLog.buffer") \
  X(event_log_dir, string, "ember.eventLog.dir") \
  X(event_log_enabled, boolean, "ember.eventLog.enabled") \
  X(exclude_on_failure_application_max_failed_tasks_per_executor, integer, "ember.excludeOnFailure.application.maxFailedTasksPerExecutor") \
  X(exclude_on_failure_enabled, boolean, "ember.excludeOnFailure.enabled") \
  X(exclude_on_failure_stage_max_failed_executors_per_node, integer, "ember.excludeOnFailure.stage.maxFailedExecutorsPerNode") \
  X(exclude_on_failure_stage_max_failed_tasks_per_executor, integer, "ember.excludeOnFailure.stage.maxFailedTasksPerExecutor") \
  X(exclude_on_failure_task_max_task_attempts_per_executor, integer, "ember.excludeOnFailure.task.maxTaskAttemptsPerExecutor") \
  X(exclude_on_failure_task_max_task_attempts_per_node, integer, "ember.excludeOnFailure.task.maxTaskAttemptsPerNode") \
  X(exclude_on_failure_timeout, duration, "ember.excludeOnFailure.timeout") \
  X(executor_cores, integer, "ember.executor.cores") \
  X(executor_heartbeat_interval, duration, "ember.executor.heartbeatInterval") \
  X(executor_instances, integer, "ember.executor.instances") \
  X(executor_loss_reason_wait, duration, "ember.executor.lossReasonWait") \
  X(executor_memory, size, "ember.executor.memory") \
  X(executor_pin_cores, boolean, "ember.executor.pinCores") \
  X(executor_short_task_queue_depth, integer, "ember.executor.shortTaskQueueDepth") \
  X(executor_short_task_threshold, duration, "ember.executor.shortTaskThreshold") \
  X(executor_stop_grace_period, duration, "ember.executor.stopGracePeriod") \
  X(executor_task_queue_depth, integer, "ember.executor.taskQueueDepth") \
  X(files_max_partition_bytes, size, "ember.files.maxPartitionBytes") \
  X(history_fs_log_directory, string, "ember.history.fs.logDirectory") \
  X(history_fs_update_interval, duration, "ember.history.fs.update.interval") \
  X(history_ui_port, integer, "ember.history.ui.port") \
  X(io_compression_codec, enumeration, "ember.io.compression.codec") \
  X(io_compression_lz4_block_size, size, "ember.io.compression.lz4.blockSize") \
  X(local_dir, string, "ember.local.dir") \
  X(locality_wait, duration, "ember.locality.wait") \
  X(locality_wait_node, duration, "ember.locality.wait.node") \
  X(locality_wait_process, duration, "ember.locality.wait.process") \
  X(locality_wait_rack, duration, "ember.locality.wait.rack") \
  X(log_level, enumeration, "ember.log.level") \
  X(master, string, "ember.master") \
  X(master_binary_store_max_size, size, "ember.master.binaryStore.maxSize") \
  X(master_port, integer, "ember.master.port") \
  X(master_ui_port, integer, "ember.master.ui.port") \
  X(master_worker_check_interval, duration, "ember.master.workerCheckInterval") \
  X(memory_fraction, real, "ember.memory.fraction") \
  X(memory_storage_fraction, real, "ember.memory.storageFraction") \
  X(metrics_conf, string, "ember.metrics.conf") \
  X(modify_acls, string, "ember.modify.acls") \
  X(network_crypto_enabled, boolean, "ember.network.crypto.enabled") \
  X(network_max_chunk_size, size, "ember.network.maxChunkSize") \
  X(network_timeout, duration, "ember.network.timeout") \
  X(network_timeout_interval, duration, "ember.network.timeoutInterval") \
  X(port_max_retries, integer, "ember.port.maxRetries") \
  X(reducer_max_reqs_in_flight, integer, "ember.reducer.maxReqsInFlight") \
  X(reducer_max_size_in_flight, size, "ember.reducer.maxSizeInFlight") \
  X(rpc_ask_timeout, duration, "ember.rpc.askTimeout") \
  X(scheduler_allocation_file, string, "ember.scheduler.allocation.file") \
  X(scheduler_max_registered_resources_waiting_time, duration, "ember.scheduler.maxRegisteredResourcesWaitingTime") \
  X(scheduler_min_registered_resources_ratio, real, "ember.scheduler.minRegisteredResourcesRatio") \
  X(scheduler_mode, enumeration, "ember.scheduler.mode") \
  X(shuffle_checksum_enabled, boolean, "ember.shuffle.checksum.enabled") \
  X(shuffle_compress, boolean, "ember.shuffle.compress") \
  X(shuffle_file_buffer, size, "ember.shuffle.file.buffer") \
  X(shuffle_io_retry_wait, duration, "ember.shuffle.io.retryWait") \
  X(shuffle_service_enabled, boolean, "ember.shuffle.service.enabled") \
  X(speculation, boolean, "ember.speculation") \
  X(speculation_interval, duration, "ember.speculation.interval") \
  X(speculation_min_task_runtime, duration, "ember.speculation.minTaskRuntime") \
  X(speculation_multiplier, real, "ember.speculation.multiplier") \
  X(speculation_quantile, real, "ember.speculation.quantile") \
  X(ssl_ca_file, string, "ember.ssl.caFile") \
  X(ssl_certificate, string, "ember.ssl.certificate") \
  X(ssl_enabled, boolean, "ember.ssl.enabled") \
  X(ssl_key, string, "ember.ssl.key") \
  X(stage_max_consecutive_attempts, integer, "ember.stage.maxConsecutiveAttempts") \
  X(storage_replication_max_pending, integer, "ember.storage.replication.maxPending") \
  X(storage_replication_threads, integer, "ember.storage.replication.threads") \
  X(task_cpus, integer, "ember.task.cpus") \
  X(task_max_failures, integer, "ember.task.maxFailures") \
  X(test_faults_fetch_blocks_delay, duration, "ember.test.faults.FetchBlocks.delay") \
  X(test_faults_fetch_blocks_drop, real, "ember.test.faults.FetchBlocks.drop") \
  X(test_faults_fetch_blocks_duplicate, real, "ember.test.faults.FetchBlocks.duplicate") \
  X(test_faults_heartbeat_delay, duration, "ember.test.faults.Heartbeat.delay") \
  X(test_faults_heartbeat_drop, real, "ember.test.faults.Heartbeat.drop") \
  X(test_faults_heartbeat_duplicate, real, "ember.test.faults.Heartbeat.duplicate") \
  X(test_faults_status_updates_delay, duration, "ember.test.faults.StatusUpdates.delay") \
  X(test_faults_status_updates_drop, real, "ember.test.faults.StatusUpdates.drop") \
  X(test_faults_status_updates_duplicate, real, "ember.test.faults.StatusUpdates.duplicate") \
  X(test_faults_enabled, boolean, "ember.test.faults.enabled") \
  X(test_faults_executors, string, "ember.test.faults.executors") \
  X(test_faults_seed, integer, "ember.test.faults.seed") \
  X(topology_file, string, "ember.topology.file") \
  X(topology_script, string, "ember.topology.script") \
  X(topology_script_timeout, duration, "ember.topology.script.timeout") \
  X(ui_enabled, boolean, "ember.ui.enabled") \
  X(ui_host, string, "ember.ui.host") \
  X(ui_kill_enabled, boolean, "ember.ui.killEnabled") \
  X(ui_port, integer, "ember.ui.port") \
  X(ui_retained_jobs, integer, "ember.ui.retainedJobs") \
  X(ui_retained_stages, integer, "ember.ui.retainedStages") \
  X(ui_retained_tasks, integer, "ember.ui.retainedTasks") \
  X(ui_show_console_progress, boolean, "ember.ui.showConsoleProgress") \
  X(ui_threads, integer, "ember.ui.threads") \
  X(ui_timeout, duration, "ember.ui.timeout") \
  X(ui_view_acls, string, "ember.ui.view.acls") \
  X(worker_address_space_overhead, size, "ember.worker.addressSpaceOverhead") \
  X(worker_binary_cache_max_size, size, "ember.worker.binaryCache.maxSize") \
  X(worker_cgroup_enabled, boolean, "ember.worker.cgroup.enabled") \
  X(worker_data_dirs, string, "ember.worker.dataDirs") \
  X(worker_driver_restart_backoff, duration, "ember.worker.driverRestartBackoff") \
  X(worker_heartbeat_interval, duration, "ember.worker.heartbeatInterval") \
  X(worker_kill_grace_period, duration, "ember.worker.killGracePeriod") \
  X(worker_local_dir, string, "ember.worker.localDir") \
  X(worker_port, integer, "ember.worker.port") \
  X(worker_registration_retry_interval, duration, "ember.worker.registrationRetryInterval") \
  X(worker_timeout, duration, "ember.worker.timeout")

namespace keys {

#define EMBER_CONFIG_DECLARE_KEY(handle, kind, key_name) \
  inline constexpr key<key_type::kind> handle{key_name};
EMBER_CONFIG_KEYS(EMBER_CONFIG_DECLARE_KEY)
#undef EMBER_CONFIG_DECLARE_KEY

// Every handle, in registry order.
#define EMBER_CONFIG_KEY_REF(handle, kind, key_name) key_ref{key_name, key_type::kind},
inline constexpr std::array all{EMBER_CONFIG_KEYS(EMBER_CONFIG_KEY_REF)};
#undef EMBER_CONFIG_KEY_REF

}  // namespace keys

}  // namespace ember::config
