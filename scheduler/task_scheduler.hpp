// The task scheduler's logic: the live executors with their free cores and the task sets, in
// FIFO order (job id, then stage id) or, with FAIR mode, in the order of their pools. Free cores
// become launches, status updates are routed to the right task set. Owned by the task_scheduler
// actor, which schedules a wake-up at next_timeout() for locality waits and calls
// check_speculation() periodically.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "scheduler/executor_table.hpp"
#include "scheduler/pools.hpp"
#include "scheduler/task_set_manager.hpp"

namespace ember::scheduler {

struct task_scheduler_settings {
  task_set_settings task_set;
  uint32_t cpus_per_task = 1; // ember.task.cpus
  scheduling_mode mode = scheduling_mode::fifo; // ember.scheduler.mode
  std::vector<pool_spec> pools; // ember.scheduler.allocation.file; pools not listed get defaults
  // Short tasks: a task set whose recent tasks ran (on the executor) in less than
  // `short_task_threshold` on average may queue up to `extra_slots` (add_executor) more tasks per
  // executor, so an executor is not bound by the driver's round trip between two tiny tasks.
  // Long tasks keep the normal slots, so placement and balance stay as they are.
  std::chrono::nanoseconds short_task_threshold{std::chrono::milliseconds{1}};
  uint32_t short_task_min_samples = 4; // finished tasks of the set before it counts as short
  // An executor on which this many tasks failed, counted over task sets that then succeeded,
  // gets no tasks for `exclude_timeout` (Spark's excludeOnFailure.application.*); 0 disables.
  int max_failed_tasks_per_executor_app = 0;
  std::chrono::milliseconds exclude_timeout{3600 * 1000};
  // How often the owner calls check_speculation() while task_set.speculation is on
  // (ember.speculation.interval).
  std::chrono::milliseconds speculation_interval{100};
};

enum class task_state { finished, failed, killed, fetch_failed };

struct task_status {
  uint64_t task_id = 0;
  uint32_t attempt = 0;
  task_state state = task_state::finished;
  std::string reason;  // failure / kill reason
  bool counts = true;  // failed: counts against max_task_failures
};

// A task_outcome plus where it happened.
struct status_outcome : task_outcome {
  uint32_t stage_id = 0;
  uint32_t stage_attempt = 0;
  uint32_t job_id = 0;
  bool is_map_stage = false;
};

struct task_set_abort {
  uint32_t stage_id = 0;
  uint32_t stage_attempt = 0;
  std::string message;
};

struct offer_result {
  std::vector<task_launch> launches;
  std::vector<task_set_abort> aborted; // task sets that can run nowhere (exclusion)
};

struct lost_task {
  uint64_t task_id = 0;
  uint32_t stage_id = 0;
  uint32_t stage_attempt = 0;
};

struct resubmitted_map_task { // forward to dag_planner::map_task_resubmitted
  uint32_t stage_id = 0;
  uint32_t stage_attempt = 0;
  uint32_t partition = 0;
};

struct executor_removal {
  bool known = false;
  std::string host;
  bool host_lost = false; // it was the last executor on its host
  std::string reason;
  std::vector<lost_task> lost_tasks; // re-queued, not counted as failures
  std::vector<resubmitted_map_task> resubmitted;
};

class task_scheduler {
public:
  explicit task_scheduler(task_scheduler_settings settings = {});

  // -- executors -----------------------------------------------------------------

  // False if the id is already known (a duplicate registration changes nothing). `cores` are its
  // task slots; `extra_slots` more are lent to task sets of short tasks only.
  bool add_executor(const std::string& id, const std::string& host, const std::string& rack, uint32_t cores,
                    uint32_t extra_slots = 0);
  // `outputs_lost`: no shuffle service keeps its map outputs, so finished map tasks there rerun.
  executor_removal remove_executor(const std::string& id, const std::string& reason, bool outputs_lost = true);
  const executor_table& executors() const { return *executors_; }
  // The executor runs `threads` tasks at once and reports in its heartbeats which attempts run
  // (RegisterExecutor.reportsTaskStarts): an attempt launched to it while the attempts already
  // there fill its threads waits in its queue and does not count as running for speculation
  // until task_running reports it. Other executors' attempts count from their launch.
  void executor_reports_starts(const std::string& id, uint32_t threads);
  // No new tasks for this executor (its connection is gone, why is not known yet); its running
  // tasks stay until remove_executor or fail_running_tasks.
  void drain_executor(const std::string& id);
  // The executor died of what its own tasks did (over its memory limit, a crash: Spark's
  // exitCausedByApp): each task running there fails, counting against ember.task.maxFailures,
  // so a task that kills every executor it runs on fails its job instead of looping. Call
  // before remove_executor.
  struct failed_task {
    uint64_t task_id = 0;
    uint32_t attempt = 0;
    status_outcome outcome;
  };
  std::vector<failed_task> fail_running_tasks(const std::string& executor_id, const std::string& reason,
                                              clock_time now);

  // -- task sets -----------------------------------------------------------------

  // A new stage attempt; older attempts of the stage stop launching. A repeated submission of
  // the same attempt is ignored.
  void submit(stage_submission submission, clock_time now);
  // Kills every attempt of the stage (its jobs are gone).
  std::vector<kill_request> cancel_stage(uint32_t stage_id, const std::string& reason);
  const task_set_manager* task_set(uint32_t stage_id, uint32_t stage_attempt) const;
  size_t num_task_sets() const { return sets_.size(); }

  // -- scheduling ----------------------------------------------------------------

  // Fills free cores, locality levels from the most local. FIFO: task sets in (job, stage)
  // order, one task per executor per pass so tasks spread across executors. FAIR: one task at
  // a time to the first task set, in pool order, that can take one (pools re-sorted after
  // every launch, so a batch of free cores is shared as if they had freed one by one).
  offer_result offers(clock_time now);
  // `run_time`: a finished task's run time on its executor (tells short task sets apart).
  status_outcome status_update(const task_status& status, clock_time now,
                               std::optional<std::chrono::nanoseconds> run_time = std::nullopt);
  std::optional<clock_time> next_timeout(clock_time now);
  // A heartbeat of `executor_id` says this attempt has run `run_time` on its task thread: it
  // started at now - run_time. The attempt's stage, if it is still running there.
  struct running_attempt {
    uint32_t stage_id = 0;
    uint32_t stage_attempt = 0;
  };
  std::optional<running_attempt> task_running(const std::string& executor_id, uint64_t task_id, uint32_t attempt,
                                              std::chrono::nanoseconds run_time, clock_time now);
  // Marks stragglers; true if any became speculatable (then call offers()).
  bool check_speculation(clock_time now);
  // Whether the task set's recent tasks are short (it may use the executors' extra slots).
  bool short_tasks(uint32_t stage_id, uint32_t stage_attempt) const;

  // -- load (dynamic allocation) ---------------------------------------------------
  // Tasks waiting for a slot, over every live task set: the backlog.
  size_t pending_tasks() const;
  // Running task attempts per executor id (executors with none are absent).
  std::map<std::string, uint32_t> running_per_executor() const;

  // -- pools ---------------------------------------------------------------------

  // The pool a name resolves to: declared in the settings, else one with the defaults.
  pool_spec pool(const std::string& name) const;
  // Running tasks of the pool's task sets (zombies included, as Spark counts them).
  uint32_t pool_running_tasks(const std::string& name) const;

  // -- exclusion -----------------------------------------------------------------
  // Executors excluded for the application (excludeOnFailure.application.*) as of `now`.
  std::vector<std::string> excluded_executors(clock_time now) const;

private:
  using set_key = std::tuple<uint32_t, uint32_t, uint32_t>; // job id, stage id, stage attempt
  struct running_task {
    set_key key;
    std::string executor_id;
    uint32_t attempt = 0;
    bool extra = false; // holds one of the executor's extra (short task) slots
  };
  // Recent executor run times of a task set's finished tasks (exponential moving average).
  struct duration_stats {
    uint32_t samples = 0;
    double mean_ns = 0;
    bool short_tasks(const task_scheduler_settings& s) const {
      return samples >= s.short_task_min_samples && mean_ns < static_cast<double>(s.short_task_threshold.count());
    }
  };
  // A slot of the executor for a task of this set: nullopt if none, else whether it is extra.
  std::optional<bool> free_slot_(const executor_info& exec, const set_key& key) const;
  void take_slot_(executor_info& exec, bool extra);
  // Records a launch in running_ (and, on an executor reporting starts, whether it is queued).
  void launched_(const set_key& key, task_set_manager& set, const executor_info& exec, const task_launch& launch,
                 bool extra);
  // A running_ entry goes: its executor has one attempt fewer.
  void ended_(const std::string& executor_id);
  std::map<set_key, std::unique_ptr<task_set_manager>>::iterator find_set_(uint32_t stage_id, uint32_t attempt);
  void prune_();
  void fifo_offers_(offer_result& out, clock_time now);
  void fair_offers_(offer_result& out, clock_time now);
  // Task sets in FAIR order: pools by fair_before, then inside each pool by its own mode.
  std::vector<std::pair<set_key, task_set_manager*>> fair_order_() const;
  void check_excluded_(task_set_manager& set, offer_result& out);
  bool app_excluded_(const std::string& executor_id) const;

  clock_time now_{}; // of the last offers() / status_update(): prune_ and free_slot_ have no clock
  std::map<std::string, int> app_failures_;               // executor id -> failed tasks in successful sets
  std::map<std::string, clock_time> app_excluded_until_;  // executor id -> end of its exclusion

  task_scheduler_settings settings_;
  std::shared_ptr<executor_table> executors_;
  std::shared_ptr<task_id_allocator> ids_;
  std::map<set_key, std::unique_ptr<task_set_manager>> sets_;
  std::map<uint64_t, running_task> running_;
  std::map<std::string, uint32_t, std::less<>> extra_free_; // executor id -> free extra slots
  struct start_reporter {
    uint32_t threads = 1;
    uint32_t attempts = 0; // running_ entries there: never fewer than the executor really has
  };
  std::map<std::string, start_reporter, std::less<>> reporters_; // executors reporting starts
  std::map<set_key, duration_stats> durations_;
  std::map<std::string, pool_spec, std::less<>> pools_;
  size_t fair_cursor_ = 0; // next executor to offer first in FAIR mode (spreads tasks)
};

} // namespace ember::scheduler
