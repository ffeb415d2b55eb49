// Settings structs: the slice of the configuration each component needs, built once from a
// resolved config and passed to the component's constructor (no component reads a global).
// Limits documented as "0 = unlimited" in the registry arrive here as the type's max().
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace ember::config {

using std::chrono::milliseconds;

enum class scheduling_mode { fifo, fair };
enum class compression_codec { lz4, none };
enum class recovery_mode { none, filesystem };

// "a,b , c" -> {"a", "b", "c"} (empty items dropped): ember.local.dir's directory list.
std::vector<std::string> split_list(std::string_view text);

// task_scheduler / task_set_manager / dag_scheduler.
struct scheduler_settings {
  int max_task_failures = 4;
  int max_stage_attempts = 4;
  int task_cpus = 1;
  milliseconds locality_wait_process{3000};
  milliseconds locality_wait_node{3000};
  milliseconds locality_wait_rack{3000};
  scheduling_mode mode = scheduling_mode::fifo;
  bool speculation = false;
  milliseconds speculation_interval{100};
  double speculation_multiplier = 1.5;
  double speculation_quantile = 0.75;
  milliseconds speculation_min_task_runtime{100};
  bool exclude_on_failure = false;
  int max_task_attempts_per_executor = 1;
  int max_task_attempts_per_node = 2;
  int max_failed_tasks_per_executor_stage = 2;
  int max_failed_executors_per_node_stage = 2;
  int max_failed_tasks_per_executor_app = 2;
  milliseconds exclude_timeout{3600 * 1000};
  milliseconds max_registered_resources_waiting_time{30000};
  double min_registered_resources_ratio = 0.0;
  int default_parallelism = 0;  // 0 = total executor cores
  static scheduler_settings from(const config& c);
};

// executor process and its heartbeat.
struct executor_settings {
  int instances = 2;
  int cores = 1;
  std::int64_t memory_bytes = 1024LL * 1024 * 1024;
  milliseconds heartbeat_interval{10000};
  milliseconds network_timeout{120000};
  bool pin_cores = false;
  double memory_fraction = 0.6;
  double storage_fraction = 0.5;
  std::vector<std::string> local_dirs{"/tmp"};
  static executor_settings from(const config& c);
};

// shuffle writer/reader, block transfer and compression.
struct shuffle_settings {
  bool compress = true;
  bool checksum = true;
  compression_codec codec = compression_codec::lz4;
  std::int64_t lz4_block_size = 32 * 1024;
  std::int64_t file_buffer_bytes = 32 * 1024;
  std::int64_t max_size_in_flight = 48LL * 1024 * 1024;
  std::int64_t max_reqs_in_flight = INT64_MAX;  // registry 0 = unlimited
  std::int64_t max_chunk_size = 1024 * 1024;
  std::chrono::milliseconds fetch_retry_wait{5000};
  bool service_enabled = false;
  std::vector<std::string> local_dirs{"/tmp"};
  static shuffle_settings from(const config& c);
};

// driver process: results, progress bar, event log, endpoints.
struct driver_settings {
  std::string app_name;
  std::string master;
  std::string host;  // empty = this host's name
  int port = 0;      // 0 = any free port
  std::int64_t memory_bytes = 1024LL * 1024 * 1024;
  std::int64_t max_result_size = 1024LL * 1024 * 1024;  // registry 0 = unlimited -> INT64_MAX
  bool show_console_progress = true;
  bool event_log_enabled = false;
  std::string event_log_dir;
  std::int64_t event_log_buffer = 64 * 1024;  // 0 = write each event at once
  milliseconds ask_timeout{120000};
  milliseconds network_timeout{120000};
  static driver_settings from(const config& c);
};

// allocation_manager.
struct allocation_settings {
  bool enabled = false;
  int min_executors = 0;
  int max_executors = INT32_MAX;  // registry 0 = unlimited
  int initial_executors = 0;
  milliseconds executor_idle_timeout{60000};
  milliseconds cached_executor_idle_timeout = milliseconds::max();  // registry 0 = never
  milliseconds scheduler_backlog_timeout{1000};
  milliseconds sustained_scheduler_backlog_timeout{1000};
  bool shuffle_tracking = true;
  bool shuffle_service = false;
  static allocation_settings from(const config& c);
};

// standalone master and worker.
struct cluster_settings {
  int master_port = 7077;
  bool spread_out = true;
  recovery_mode recovery = recovery_mode::none;
  std::string recovery_directory;
  int default_cores = INT32_MAX;  // registry 0 = unlimited
  int cores_max = 0;              // 0 = use default_cores
  milliseconds worker_timeout{60000};
  std::string topology_file;
  std::string topology_script;
  milliseconds topology_script_timeout{10000};
  bool authenticate = false;
  std::string secret;
  static cluster_settings from(const config& c);
};

}  // namespace ember::config
