// Dynamic allocation's decisions, as Spark's ExecutorAllocationManager + ExecutorMonitor: how many
// executors the application should have (ramping up while tasks are backlogged) and which idle
// executors to release. Plain logic with time passed in; the driver's allocation_manager actor
// feeds it scheduler events, calls tick() and turns the decision into requests to the master.
//
//  backlog ──schedulerBacklogTimeout──► +1 ──sustained──► +2 ──sustained──► +4 ...
//          (capped by maxExecutors and ceil((pending + running) / tasks_per_executor))
//  backlog gone ─► target = max(needed, minExecutors); idle > timeout ─► release (not below
//  minExecutors nor the target; never an executor whose shuffle output is still needed)
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ember::scheduler {

// Mirrors the ember.dynamicAllocation.* keys (and the two they depend on).
struct allocation_settings {
  bool enabled = false;                               // ember.dynamicAllocation.enabled
  uint32_t min_executors = 0;                         // .minExecutors
  uint32_t max_executors = 0;                         // .maxExecutors; 0 = unlimited
  uint32_t initial_executors = 0;                     // .initialExecutors (defaults to min)
  std::chrono::milliseconds executor_idle_timeout{60000};       // .executorIdleTimeout
  std::chrono::milliseconds cached_executor_idle_timeout{0};    // .cachedExecutorIdleTimeout; 0 = never
  std::chrono::milliseconds scheduler_backlog_timeout{1000};    // .schedulerBacklogTimeout
  std::chrono::milliseconds sustained_scheduler_backlog_timeout{1000}; // .sustainedSchedulerBacklogTimeout
  bool shuffle_tracking = true;                       // .shuffleTracking.enabled
  bool shuffle_service = false;                       // ember.shuffle.service.enabled
  uint32_t tasks_per_executor = 1;                    // ember.executor.cores / ember.task.cpus
};

// The error Spark would refuse to start with, or nothing if the settings are usable (or
// dynamic allocation is off).
std::optional<std::string> validate(const allocation_settings& settings);

struct allocation_decision {
  std::optional<uint32_t> target;    // new total executor target, only when it changed
  std::vector<std::string> release;  // executors to kill now (now pending removal)
  bool empty() const { return !target && release.empty(); }
};

class allocation_policy {
public:
  using clock_time = std::chrono::steady_clock::time_point;

  // The settings must pass validate(); the target starts at max(initial, min).
  explicit allocation_policy(allocation_settings settings);

  // -- inputs (call tick() after any of them) -------------------------------------

  // Tasks waiting for a slot, over all stages. > 0 starts the backlog timer, 0 stops it.
  void pending_tasks(uint32_t count, clock_time now);
  void executor_added(const std::string& id, clock_time now);
  void executor_removed(const std::string& id);
  // The cluster refused to kill a released executor: it counts (and idles) again.
  void release_refused(const std::string& id, clock_time now);
  // Tasks running on the executor; the executor is idle from the moment this drops to 0.
  void running_tasks(const std::string& id, uint32_t count, clock_time now);
  // The executor holds map output that a live shuffle still needs.
  void shuffle_data(const std::string& id, bool holds);
  // The executor holds cached blocks (cachedExecutorIdleTimeout applies instead).
  void cached_blocks(const std::string& id, bool holds);

  // -- decisions ------------------------------------------------------------------

  allocation_decision tick(clock_time now);
  // The earliest moment a tick could decide something new: the backlog timer or an idle
  // executor timing out. Deadlines that already passed at the last tick are not repeated
  // (what they held back changes only with an input, after which the actor ticks anyway).
  std::optional<clock_time> next_deadline() const;

  // -- state ------------------------------------------------------------------------

  uint32_t target() const { return target_; }
  // Ceil((pending + running) / tasks_per_executor): executors the work could use right now.
  uint32_t executors_needed() const;
  size_t num_executors() const { return executors_.size(); } // including pending removal
  bool pending_removal(const std::string& id) const;
  const allocation_settings& settings() const { return settings_; }

private:
  struct executor_state {
    uint32_t running = 0;
    clock_time idle_since{};
    bool shuffle = false;
    bool cached = false;
    bool pending_removal = false;
  };
  std::optional<clock_time> idle_deadline_(const executor_state& e) const;
  uint32_t max_() const;
  void update_target_(clock_time now);
  std::vector<std::string> timed_out_(clock_time now) const;

  allocation_settings settings_;
  std::map<std::string, executor_state> executors_;
  uint32_t pending_ = 0;
  uint32_t target_ = 0;
  std::optional<uint32_t> reported_target_;
  uint32_t to_add_ = 1;
  std::optional<clock_time> add_time_;
  std::optional<clock_time> last_tick_;
  bool initializing_ = true; // no job yet: keep the initial target (Spark's `initializing`)
};

} // namespace ember::scheduler
