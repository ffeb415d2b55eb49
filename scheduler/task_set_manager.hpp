// One stage attempt's tasks: which partition runs where (delay scheduling over locality levels),
// retries, exclusion, speculation and kills. Owned by task_scheduler (inside the task_scheduler
// actor); every method returns what happened, the actor turns it into messages.
//
//  levels: PROCESS_LOCAL ─wait─► NODE_LOCAL ─wait─► NO_PREF ─► RACK_LOCAL ─wait─► ANY
//  A level with nothing pending for a live location is skipped at once; the wait restarts only
//  when a task launches at the current level and no offer was turned down for locality since.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "scheduler/dag_planner.hpp"
#include "scheduler/executor_table.hpp"

namespace ember::scheduler {

using clock_time = std::chrono::steady_clock::time_point;

struct task_set_settings {
  int max_task_failures = 4; // ember.task.maxFailures
  std::chrono::milliseconds locality_wait_process{3000};
  std::chrono::milliseconds locality_wait_node{3000};
  std::chrono::milliseconds locality_wait_rack{3000};
  bool speculation = false;
  double speculation_multiplier = 1.5;
  double speculation_quantile = 0.75;
  std::chrono::milliseconds speculation_min_runtime{100};
  // Exclusion of a failing task from an executor / host after that many failed attempts there
  // (Spark's excludeOnFailure.task.maxTaskAttemptsPer{Executor,Node}); 0 disables.
  int max_task_attempts_per_executor = 0;
  int max_task_attempts_per_node = 0;
  // Exclusion of an executor from the whole stage after that many different tasks failed on it,
  // and of a host once that many of its executors are excluded (Spark's
  // excludeOnFailure.stage.maxFailedTasksPerExecutor / maxFailedExecutorsPerNode); 0 disables.
  int max_failed_tasks_per_executor = 0;
  int max_failed_executors_per_node = 0;
};

enum class locality_level : uint8_t { process_local, node_local, no_pref, rack_local, any };
const char* to_string(locality_level level);

// Globally unique task ids; shared by every task set of a task scheduler.
struct task_id_allocator {
  uint64_t next = 0;
  uint64_t allocate() { return next++; }
};

struct task_launch {
  uint64_t task_id = 0;
  uint32_t attempt = 0; // per partition: 0, 1, 2...
  uint32_t stage_id = 0;
  uint32_t stage_attempt = 0;
  uint32_t job_id = 0;
  uint32_t partition = 0;
  uint32_t index = 0; // position in the stage submission's partition list
  locality_level locality = locality_level::any;
  bool speculative = false;
  std::string executor_id;
  std::string host;
};

struct kill_request {
  uint64_t task_id = 0;
  uint32_t attempt = 0;
  std::string executor_id;
  std::string reason;
};

enum class task_event_kind {
  finished,      // first successful attempt of the partition
  failed,        // re-queued (or not needed any more)
  fetch_failed,  // the stage attempt is dead; tell the DAG planner
  killed,        // re-queued unless the partition is done; never counted
  aborted,       // the task set failed: `message` says why
  ignored,       // unknown task, wrong attempt, already reported, or partition already finished
};

struct task_outcome {
  task_event_kind kind = task_event_kind::ignored;
  uint32_t partition = 0;
  std::string executor_id;
  std::string message;
  std::vector<kill_request> kills; // other running copies of a finished partition
  bool task_set_done = false;      // every partition has succeeded
  bool released = false;           // a running attempt ended: its core is free again
};

struct executor_loss_outcome {
  std::vector<uint64_t> requeued_task_ids;     // running there, re-queued, not counted
  std::vector<uint32_t> resubmitted_partitions; // map outputs lost with it: run again
};

class task_set_manager {
public:
  task_set_manager(stage_submission submission, task_set_settings settings,
                   std::shared_ptr<const executor_table> executors, std::shared_ptr<task_id_allocator> ids,
                   clock_time now);

  // -- placement ---------------------------------------------------------------

  // One task for a free core of `executor_id`, at most `max_locality` away from its data.
  // max_locality == no_pref is the round for tasks without preferences: it ignores the delay.
  std::optional<task_launch> resource_offer(const std::string& executor_id, const std::string& host,
                                            const std::string& rack, locality_level max_locality, clock_time now);
  // When the allowed level next widens (for the actor's wake-up); nullopt if it never will.
  std::optional<clock_time> next_timeout(clock_time now);
  locality_level allowed_locality(clock_time now);
  const std::vector<locality_level>& valid_levels() const { return levels_; }
  // Executors came or went: recompute which levels can be satisfied.
  void executors_changed();

  // -- status ------------------------------------------------------------------

  // `run_time`: its run time on the executor, the duration speculation counts for an attempt
  // whose start was never known (queued, and finished before a heartbeat reported it).
  task_outcome task_succeeded(uint64_t task_id, uint32_t attempt, clock_time now,
                              std::optional<std::chrono::nanoseconds> run_time = std::nullopt);
  // `counts`: the failure counts against max_task_failures (false for e.g. a lost executor).
  task_outcome task_failed(uint64_t task_id, uint32_t attempt, const std::string& reason, bool counts);
  task_outcome task_fetch_failed(uint64_t task_id, uint32_t attempt, const std::string& reason);
  task_outcome task_killed(uint64_t task_id, uint32_t attempt, const std::string& reason);
  // Re-queues the executor's running tasks without counting them; with `outputs_lost` (no
  // shuffle service), a map stage also re-runs the partitions that finished there.
  executor_loss_outcome executor_lost(const std::string& executor_id, bool outputs_lost);
  // Stops launching; returns the running attempts to kill.
  std::vector<kill_request> kill_all(const std::string& reason);
  // Stops launching but lets running attempts finish (a newer attempt of the stage took over).
  void mark_zombie() { zombie_ = true; }
  // With exclusion on: a pending task that no live executor may run aborts the set.
  std::optional<std::string> check_completely_excluded();

  // -- speculation ---------------------------------------------------------------

  // An attempt counts as running from its launch unless marked queued: it went to an executor
  // whose task threads were all taken, so it waits there behind other tasks. A queued attempt
  // counts only from the start its executor reports (task_started, from a heartbeat); a
  // reported start also replaces the launch time of an attempt that was not queued, and the
  // earliest of several reports counts (a delayed heartbeat makes a start look later). False if
  // the attempt is not running (ended, unknown).
  bool task_queued(uint64_t task_id, uint32_t attempt);
  bool task_started(uint64_t task_id, uint32_t attempt, clock_time started);
  // When the attempt started as far as is known (nullopt: queued, no start reported yet, or not
  // running).
  std::optional<clock_time> start_time(uint64_t task_id, uint32_t attempt) const;

  // Marks stragglers (Spark's rule) and returns the newly speculatable partitions.
  std::vector<uint32_t> speculatable_tasks(clock_time now);

  // -- state ---------------------------------------------------------------------

  const stage_submission& submission() const { return submission_; }
  uint32_t stage_id() const { return submission_.stage_id; }
  uint32_t stage_attempt() const { return submission_.stage_attempt; }
  bool is_zombie() const { return zombie_; }
  // Zombie with nothing running: the task scheduler can drop it.
  bool is_finished() const { return zombie_ && running_ == 0; }
  uint32_t running_tasks() const { return running_; }
  uint32_t succeeded_tasks() const { return succeeded_; }
  uint32_t num_tasks() const { return static_cast<uint32_t>(parts_.size()); }
  bool has_pending_tasks() const;
  uint32_t failures(uint32_t partition) const;
  std::optional<std::string> abort_message() const { return abort_message_; }

  // Executors and hosts this stage attempt no longer offers tasks to (excludeOnFailure.stage.*).
  const std::set<std::string>& excluded_executors() const { return excluded_execs_; }
  const std::set<std::string>& excluded_hosts() const { return excluded_hosts_; }
  // Different tasks of this stage attempt that failed on each executor (counted failures only).
  const std::map<std::string, std::set<uint32_t>>& failed_tasks_by_executor() const { return failed_tasks_on_; }

private:
  enum class run_state { running, succeeded, failed, killed };
  struct task_info {
    uint64_t task_id = 0;
    uint32_t index = 0;
    uint32_t attempt = 0;
    std::string executor_id, host;
    clock_time launch_time;
    std::optional<clock_time> start_time; // launch time, none while queued, or the reported start
    bool start_reported = false;          // start_time is the earliest start a heartbeat reported
    locality_level locality = locality_level::any;
    bool speculative = false;
    run_state state = run_state::running;
  };
  struct part_state {
    uint32_t failures = 0;
    uint32_t copies_running = 0;
    uint32_t next_attempt = 0;
    bool successful = false;
    std::optional<uint64_t> winner; // task id of the successful attempt
    std::vector<uint64_t> attempts;
    std::map<std::string, int> failed_on_executor, failed_on_host;
    bool speculatable = false;
  };
  using index_list = std::vector<uint32_t>;

  bool pending_(uint32_t idx) const { return !parts_[idx].successful && parts_[idx].copies_running == 0; }
  bool excluded_(uint32_t idx, const std::string& exec, const std::string& host) const;
  void add_pending_(uint32_t idx);
  std::optional<uint32_t> take_from_(index_list& list, const std::string& exec, const std::string& host, bool take);
  struct pick {
    uint32_t index;
    bool speculative;
  };
  std::optional<pick> find_task_(const std::string& exec, const std::string& host, const std::string& rack,
                                 locality_level level, bool take);
  std::optional<pick> find_speculative_(const std::string& exec, const std::string& host, bool take);
  void index_racks_(uint32_t idx);
  bool has_pending_at_(locality_level level) const;
  std::chrono::milliseconds wait_for_(locality_level level) const;
  locality_level locality_of_(uint32_t idx, const std::string& exec, const std::string& host,
                              const std::string& rack) const;
  task_info* running_task_(uint64_t task_id, uint32_t attempt);
  void finish_attempt_(task_info& t, run_state state);
  std::vector<kill_request> kill_other_attempts_(uint32_t idx, uint64_t except, const std::string& reason);
  std::string stage_name_() const;

  stage_submission submission_;
  task_set_settings settings_;
  std::shared_ptr<const executor_table> executors_;
  std::shared_ptr<task_id_allocator> ids_;

  std::vector<part_state> parts_;
  std::unordered_map<uint64_t, task_info> tasks_;
  std::map<std::string, index_list> for_executor_, for_host_, for_rack_;
  index_list no_prefs_;
  mutable index_list all_; // pruned from the back by has_pending_tasks()
  std::vector<uint32_t> speculatable_;
  std::vector<std::chrono::nanoseconds> durations_;

  std::map<std::string, std::set<uint32_t>> failed_tasks_on_;
  std::set<std::string> excluded_execs_, excluded_hosts_;

  std::vector<locality_level> levels_;
  size_t level_index_ = 0;
  clock_time last_reset_;
  bool delay_rejected_ = false;

  uint32_t running_ = 0;
  uint32_t succeeded_ = 0;
  bool zombie_ = false;
  std::optional<std::string> abort_message_;
};

} // namespace ember::scheduler
