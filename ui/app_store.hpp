// What the UI knows of one application: the state its listener events build (Spark's
// AppStatusStore). The driver's UI feeds it live from the listener bus; the history server
// replays an event log into it, so both serve the same pages and REST answers for one job.
//
// Bounded, as Spark's: at most `retained_jobs` finished jobs, `retained_stages` finished stage
// attempts and `retained_tasks` task attempts per stage attempt are kept (the oldest go first);
// the counters of a job, stage or executor cover every task, retained or not.
//
// Not thread-safe: its owner serialises apply() and the queries (ui/app_source.hpp).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "protocol/events.capnp.h"

namespace ember::ui {

struct retention {
  std::size_t jobs = 1000;     // ember.ui.retainedJobs
  std::size_t stages = 1000;   // ember.ui.retainedStages
  std::size_t tasks = 100000;  // ember.ui.retainedTasks (per stage attempt)
};

// Sums of task metrics, in the units of Spark's REST API (times ms, CPU time ns).
struct metric_totals {
  uint64_t run_time_ms = 0, cpu_time_ns = 0, deserialize_ms = 0, result_size = 0;
  uint64_t input_bytes = 0, input_records = 0, output_bytes = 0, output_records = 0;
  uint64_t shuffle_read_bytes = 0, shuffle_read_records = 0, shuffle_remote_bytes = 0, shuffle_local_bytes = 0;
  uint64_t shuffle_remote_blocks = 0, shuffle_local_blocks = 0, shuffle_fetch_wait_ms = 0;
  uint64_t shuffle_write_bytes = 0, shuffle_write_records = 0, shuffle_write_time_ns = 0;
  uint64_t memory_spilled = 0, disk_spilled = 0;

  void add(proto::TaskMetrics::Reader m);
  metric_totals& operator+=(const metric_totals& o);
};

// Which task list order a REST client asked for (Spark's taskList sortBy).
enum class task_order { id, index, runtime, status, executor, launch_time };

class app_store {
public:
  explicit app_store(retention limits = {}) : limits_(limits) {}

  void apply(proto::ListenerEvent::Reader event);
  // The time of the newest event applied (epoch ms): the history server's "lastUpdated".
  uint64_t last_updated() const { return last_updated_; }
  bool started() const { return !app_.id.empty(); }
  const std::string& app_id() const { return app_.id; }
  bool completed() const { return app_.end != 0; }
  uint64_t start_time() const { return app_.start; }

  // -- REST views: Spark's /api/v1 shapes (docs/monitoring.md) -------------------------------
  nlohmann::json application() const;
  // `status` empty: every job; else RUNNING, SUCCEEDED or FAILED (case-insensitive).
  nlohmann::json jobs(const std::string& status) const;
  std::optional<nlohmann::json> job(uint32_t id) const;
  // `status` empty or ACTIVE, COMPLETE, FAILED, PENDING, SKIPPED.
  nlohmann::json stages(const std::string& status) const;
  std::optional<nlohmann::json> stage(uint32_t id) const;  // every attempt
  std::optional<nlohmann::json> stage_attempt(uint32_t id, uint32_t attempt) const;
  // One page of a stage attempt's retained tasks; `descending` reverses the order.
  // nullopt: no such attempt. `total` receives the number of retained attempts.
  std::optional<nlohmann::json> task_list(uint32_t id, uint32_t attempt, std::size_t offset, std::size_t length,
                                          task_order order, bool descending, std::size_t* total) const;
  // Quantiles of the successful retained tasks' metrics; each q in [0, 1].
  std::optional<nlohmann::json> task_summary(uint32_t id, uint32_t attempt, const std::vector<double>& quantiles) const;
  nlohmann::json executors(bool include_dead) const;
  nlohmann::json storage() const;                          // /storage/rdd
  std::optional<nlohmann::json> storage_rdd(uint32_t id) const;  // /storage/rdd/{id}
  nlohmann::json environment() const;

  // -- counters for /metrics/prometheus ------------------------------------------------------
  struct counters {
    uint64_t jobs_active = 0, jobs_succeeded = 0, jobs_failed = 0;
    uint64_t stages_active = 0, stages_completed = 0, stages_failed = 0;
    uint64_t tasks_active = 0, tasks_succeeded = 0, tasks_failed = 0, tasks_killed = 0, tasks_lost = 0;
    uint64_t executors_active = 0, executors_removed = 0;
    uint64_t task_run_time_ms = 0, task_cpu_time_ns = 0;
    uint64_t shuffle_read_bytes = 0, shuffle_write_bytes = 0, input_bytes = 0, output_bytes = 0;
    uint64_t memory_spilled = 0, disk_spilled = 0;
  };
  counters totals() const;
  struct executor_gauges {
    std::string id, host;
    bool active = false;
    uint64_t active_tasks = 0, completed_tasks = 0, failed_tasks = 0, total_duration_ms = 0;
    uint64_t shuffle_read = 0, shuffle_write = 0, max_memory = 0, cores = 0;
    uint64_t last_heartbeat = 0;
  };
  std::vector<executor_gauges> executor_list() const;

  // Sizes of what is retained, for tests and the memory bound.
  std::size_t retained_jobs() const { return jobs_.size(); }
  std::size_t retained_stages() const { return stages_.size(); }
  std::size_t retained_tasks() const;

private:
  struct app_info {
    std::string id, name, user;
    uint64_t start = 0, end = 0;
  };
  struct job_rec {
    uint32_t id = 0;
    std::string description;
    uint64_t submitted = 0, completed = 0;
    std::vector<uint32_t> stage_ids;
    enum class state { running, succeeded, failed } status = state::running;
    std::string error;
    uint64_t tasks = 0, active = 0, done = 0, failed = 0, killed = 0, skipped_tasks = 0;
    bool planned = false;  // its JobStart listed its stages' task counts (older logs do not)
    uint64_t stages_active = 0, stages_done = 0, stages_failed = 0, stages_skipped = 0;
  };
  struct task_rec {
    uint64_t task_id = 0;
    uint32_t attempt = 0, partition = 0;
    uint32_t executor = 0;  // index into names_
    uint32_t host = 0;      // index into names_
    proto::Locality locality = proto::Locality::ANY;
    proto::TaskState state = proto::TaskState::RUNNING;
    bool speculative = false;
    uint64_t launch = 0, finish = 0;
    std::string error;
    metric_totals metrics;  // this attempt's own
  };
  struct executor_summary {
    uint64_t task_time = 0, failed = 0, succeeded = 0, killed = 0;
    metric_totals metrics;
  };
  struct operator_rec {
    uint32_t id = 0, partitions = 0;
    std::string name;
    std::vector<uint32_t> parents;
  };
  struct stage_rec {
    uint32_t id = 0, attempt = 0, num_tasks = 0;
    enum class state { pending, active, complete, failed, skipped } status = state::pending;
    std::string name, failure;
    std::vector<uint32_t> parents;
    std::vector<operator_rec> operators;
    uint64_t submitted = 0, first_launch = 0, completed = 0;
    uint64_t active = 0, done = 0, failed = 0, killed = 0;
    metric_totals metrics;
    std::map<std::string, executor_summary, std::less<>> by_executor;
    std::deque<task_rec> tasks;  // launch order; the oldest are dropped past retention.tasks
    uint64_t dropped = 0;        // tasks dropped from the front
    std::unordered_map<uint64_t, uint64_t> index;  // (task id, attempt) key -> position + dropped
  };
  struct executor_rec {
    std::string id, host, worker;
    uint32_t cores = 0;
    uint64_t max_memory = 0, added = 0, removed = 0, last_heartbeat = 0;
    std::string remove_reason;
    uint64_t active = 0, completed = 0, failed = 0, duration_ms = 0;
    metric_totals metrics;
  };

  using stage_key = std::pair<uint32_t, uint32_t>;  // id, attempt

  // Cached partitions, as the block manager master reported them.
  struct block_rec {
    uint64_t mem = 0, disk = 0;
  };
  struct rdd_rec {
    uint32_t id = 0;
    std::string level;
    std::map<std::pair<uint32_t, std::string>, block_rec> blocks;  // (partition, executor)
  };
  struct rdd_name {
    std::string name;
    uint32_t partitions = 0;
  };
  nlohmann::json rdd_json(const rdd_rec& r, bool details) const;

  void on_job_start(proto::JobStartEvent::Reader e);
  void on_job_end(proto::JobEndEvent::Reader e);
  void on_stage_submitted(proto::StageSubmittedEvent::Reader e);
  void on_stage_completed(proto::StageCompletedEvent::Reader e);
  void on_task_start(proto::TaskStartEvent::Reader e);
  void on_task_end(proto::TaskEndEvent::Reader e);
  void on_executor_added(proto::ExecutorAddedEvent::Reader e);
  void on_executor_removed(proto::ExecutorRemovedEvent::Reader e);
  void on_metrics_update(proto::ExecutorMetricsUpdateEvent::Reader e);
  void on_block_updated(proto::BlockUpdatedEvent::Reader e);

  uint32_t intern(std::string_view name);
  template <class F>
  void for_each_job_of_stage(uint32_t stage_id, F&& f);
  void evict_jobs();
  void evict_stages();
  nlohmann::json job_json(const job_rec& j) const;
  nlohmann::json stage_json(const stage_rec& s, bool details) const;
  nlohmann::json task_json(const task_rec& t) const;
  nlohmann::json executor_json(const executor_rec& e) const;

  retention limits_;
  uint64_t last_updated_ = 0;
  app_info app_;
  std::map<uint32_t, job_rec> jobs_;
  std::map<stage_key, stage_rec> stages_;
  std::multimap<uint32_t, uint32_t> stage_jobs_;  // stage id -> active job ids that need it
  struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::map<std::string, executor_rec, std::less<>> executors_;
  std::vector<std::string> names_;  // interned executor ids and hosts (tasks store indices)
  std::unordered_map<std::string, uint32_t, string_hash, std::equal_to<>> name_index_;
  std::map<uint32_t, rdd_rec> rdds_;
  std::unordered_map<uint32_t, rdd_name> rdd_names_;  // every dataset a stage listed
  std::vector<std::pair<std::string, std::string>> properties_, system_;
  std::vector<std::string> origins_;
  counters totals_;
};

// Spark's REST date format: "2026-12-07T21:30:00.123GMT".
std::string rest_time(uint64_t epoch_ms);

}  // namespace ember::ui
