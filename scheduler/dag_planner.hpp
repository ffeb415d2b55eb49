// The DAG scheduler's logic, without actors: cuts a job's lineage into stages at shuffle
// dependencies, decides which stages are ready, and reacts to task completions, fetch failures
// and lost executors. Owned by the dag_scheduler actor, which turns messages into calls and
// drains the queued results (take_ready_stages / take_job_events / take_cancelled_stages).
//
//   job ──► result stage ──parents──► shuffle map stage (one per shuffle_id, reused by every
//                                     job; skipped while all its map outputs are registered)
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <unordered_map>
#include <string>
#include <vector>

#include "scheduler/lineage.hpp"
#include "scheduler/map_output_registry.hpp"

namespace ember::scheduler {

// One dataset of a stage's lineage, as the UI draws it (Spark's RDDInfo).
struct operator_info {
  uint32_t id = 0;
  std::string name;
  uint32_t num_partitions = 0;
  std::vector<uint32_t> parent_ids; // narrow parents and the map sides of shuffle parents
};

// The datasets computed by the stage ending at `last`, parents before children, plus the
// map-side datasets of its shuffle inputs (listed without their own parents: they belong to
// the parent stages).
std::vector<operator_info> stage_operators(const lineage_ptr& last);

struct dag_settings {
  // ember.stage.maxConsecutiveAttempts: fetch-failed attempts of one stage before its jobs fail.
  int max_consecutive_attempts = 4;
  // Spark's reducer locality: a reduce partition prefers hosts holding this share of its input,
  // computed only when both sides have fewer than `reducer_locality_max_partitions` partitions.
  double reducer_locality_fraction = 0.2;
  uint32_t reducer_locality_max_partitions = 1000;
};

// A stage attempt that is ready to run: becomes one task set in the task scheduler.
// `partitions`, `preferred_hosts` and `preferred_executors` are parallel vectors.
struct stage_submission {
  uint32_t stage_id = 0;
  uint32_t stage_attempt = 0;
  bool is_map_stage = false;
  shuffle_dependency_ptr shuffle_dependency; // map stages: what to write
  lineage_ptr rdd;                           // the stage's last node (map side for map stages)
  std::vector<uint32_t> partitions;          // only the missing ones
  std::vector<std::vector<std::string>> preferred_hosts;
  std::vector<std::vector<std::string>> preferred_executors; // cached blocks (PROCESS_LOCAL)
  uint32_t job_id = 0;                       // earliest active job needing it (FIFO priority)
  std::string name;
  std::string pool = "default";              // FAIR scheduling pool (the job's local property)
};

struct job_event {
  enum class outcome { succeeded, failed };
  uint32_t job_id = 0;
  outcome result = outcome::succeeded;
  std::string message; // failure reason; empty on success
};

struct stage_ref {
  uint32_t stage_id = 0;
  uint32_t stage_attempt = 0;
  bool operator==(const stage_ref&) const = default;
};

// What submit_job planned, for the listener bus / UI (Spark's JobStart).
struct job_plan {
  uint32_t job_id = 0;
  uint32_t final_stage_id = 0;
  std::vector<uint32_t> stage_ids;         // every stage of the job, ascending
  std::vector<uint32_t> skipped_stage_ids; // map stages whose outputs were all available
};

struct fetch_failure_outcome {
  bool ignored = false;        // stale stage attempt or unknown stage: nothing changed
  bool duplicate = false;      // a later fetch failure of an attempt already counted
  bool aborted = false;        // max consecutive attempts reached: its jobs failed
  bool resubmit_needed = false; // call resubmit_failed_stages() after a short delay (Spark: 200 ms)
};

// Executors holding a cached copy of (rdd id, partition): PROCESS_LOCAL preferences.
struct executor_location {
  std::string executor_id;
  std::string host;
};
using cache_locator = std::function<std::vector<executor_location>(uint32_t rdd_id, uint32_t partition)>;

class dag_planner {
public:
  explicit dag_planner(dag_settings settings = {},
                       std::shared_ptr<map_output_registry> registry = std::make_shared<map_output_registry>());

  // Where cached partitions live (the block manager master); optional.
  void set_cache_locator(cache_locator locator) { cache_locator_ = std::move(locator); }

  // -- jobs --------------------------------------------------------------------

  // Plans the job and queues its ready stages. `job_id` must be new. An empty partition list
  // succeeds at once; a partition out of range fails the job (both queued as job events).
  job_plan submit_job(lineage_ptr final_rdd, std::vector<uint32_t> partitions, uint32_t job_id);
  // Fails the job with "Job <id> cancelled: <reason>"; false for an unknown job.
  bool cancel_job(uint32_t job_id, const std::string& reason = "");

  // -- task and stage events ---------------------------------------------------

  // Registers the output (even from an old attempt: a late output is still useful). Returns
  // false when ignored (unknown stage, not a map stage, executor already lost).
  bool map_task_completed(uint32_t stage_id, uint32_t stage_attempt, uint32_t partition, map_status status);
  // A map task of the current attempt was re-queued by the task set (its output was lost with
  // its executor): the stage waits for it again.
  void map_task_resubmitted(uint32_t stage_id, uint32_t stage_attempt, uint32_t partition);
  // True if the result counted (first completion of that partition of an active job); the actor
  // delivers the partition's result only then.
  bool result_task_completed(uint32_t stage_id, uint32_t stage_attempt, uint32_t partition);
  // A task set aborted (task failed too often...): fails every job using the stage.
  void task_set_failed(uint32_t stage_id, uint32_t stage_attempt, const std::string& reason);
  // A reducer could not use map output `map_id` held by `executor_id`. Corrupt (the block was
  // read but is bad): only that output is unregistered. Otherwise the holder is unreachable or
  // lost its files: with no shuffle service, every output of that executor goes (Spark).
  fetch_failure_outcome fetch_failed(uint32_t stage_id, uint32_t stage_attempt, uint32_t shuffle_id,
                                     std::optional<uint32_t> map_id, const std::string& executor_id,
                                     const std::string& message, bool corrupt_block = false);
  // Resubmits the stages queued by fetch failures (parents first, via the lineage).
  void resubmit_failed_stages();
  // Drops the executor's (or its host's) map outputs; returns the shuffles that lost outputs.
  // Completions reported later by that executor are ignored.
  std::vector<uint32_t> executor_lost(const std::string& executor_id, const std::string& host, bool host_lost);

  // -- results ---------------------------------------------------------------------

  std::vector<stage_submission> take_ready_stages();
  std::vector<job_event> take_job_events();
  // Running stage attempts no active job needs any more: kill their task sets.
  std::vector<stage_ref> take_cancelled_stages();

  // -- introspection (UI, tests) ---------------------------------------------------

  struct stage_view {
    uint32_t id = 0;
    std::string name;
    bool is_map_stage = false;
    uint32_t num_partitions = 0;
    std::vector<uint32_t> parents;
    std::optional<uint32_t> shuffle_id;
    uint32_t latest_attempt = 0;    // number of attempts made so far
    bool running = false, waiting = false, failed = false;
  };
  std::optional<stage_view> stage(uint32_t stage_id) const;
  std::optional<uint32_t> stage_for_shuffle(uint32_t shuffle_id) const;
  bool job_active(uint32_t job_id) const { return jobs_.count(job_id) != 0; }
  map_output_registry& registry() { return *registry_; }
  const map_output_registry& registry() const { return *registry_; }

private:
  struct stage_state {
    uint32_t id = 0;
    lineage_ptr rdd;
    shuffle_dependency_ptr dep; // null for result stages
    std::vector<uint32_t> parents;
    uint32_t num_partitions = 0;
    std::string name;
    std::set<uint32_t> job_ids;
    std::optional<uint32_t> result_job; // result stages: the job it computes
    uint32_t next_attempt = 0;
    std::set<uint32_t> pending; // partitions the running attempt still waits for
    std::set<uint32_t> failed_attempts;
  };
  struct job_state {
    uint32_t id = 0;
    uint32_t final_stage = 0;
    std::vector<uint32_t> partitions;
    std::unordered_map<uint32_t, size_t> slot; // partition -> index in partitions
    std::vector<bool> finished;
    uint32_t num_finished = 0;
  };

  uint32_t new_stage_(lineage_ptr rdd, shuffle_dependency_ptr dep, std::vector<uint32_t> parents);
  uint32_t get_or_create_map_stage_(const shuffle_dependency_ptr& dep);
  std::vector<uint32_t> parent_stages_(const lineage_ptr& rdd);
  void collect_job_stages_(uint32_t stage_id, uint32_t job_id, std::set<uint32_t>& seen);
  bool available_(const stage_state& s) const;
  void submit_stage_(uint32_t stage_id);
  void submit_missing_tasks_(stage_state& s);
  void submit_waiting_children_(uint32_t stage_id);
  void stage_finished_(stage_state& s);
  void fail_job_(uint32_t job_id, const std::string& message);
  void abort_stage_(stage_state& s, const std::string& reason);
  void finish_job_(uint32_t job_id);
  void detach_job_(uint32_t job_id);
  std::optional<uint32_t> active_job_for_(const stage_state& s) const;
  void preferred_locations_(const lineage_ptr& rdd, uint32_t partition, std::vector<std::string>& hosts,
                            std::vector<std::string>& executors) const;
  stage_state* find_(uint32_t stage_id);

  dag_settings settings_;
  std::shared_ptr<map_output_registry> registry_;
  cache_locator cache_locator_;
  uint32_t next_stage_id_ = 0;
  std::map<uint32_t, stage_state> stages_;
  std::map<uint32_t, uint32_t> shuffle_to_stage_;
  std::map<uint32_t, job_state> jobs_;
  std::set<uint32_t> waiting_, running_, failed_;
  std::set<std::string> lost_executors_;
  std::vector<stage_submission> ready_;
  std::vector<job_event> job_events_;
  std::vector<stage_ref> cancelled_;
};

} // namespace ember::scheduler
