#include "scheduler/allocation_policy.hpp"

#include <algorithm>
#include <limits>
#include <tuple>

namespace ember::scheduler {

std::optional<std::string> validate(const allocation_settings& s) {
  if (!s.enabled)
    return std::nullopt; // nothing to check: the policy is not used
  const std::string da = "ember.dynamicAllocation.";
  if (s.max_executors != 0 && s.min_executors > s.max_executors)
    return da + "minExecutors (" + std::to_string(s.min_executors) + ") must be less than or equal to " + da +
           "maxExecutors (" + std::to_string(s.max_executors) + ")";
  if (s.max_executors != 0 && s.initial_executors > s.max_executors)
    return da + "initialExecutors (" + std::to_string(s.initial_executors) + ") must be less than or equal to " +
           da + "maxExecutors (" + std::to_string(s.max_executors) + ")";
  if (s.scheduler_backlog_timeout.count() <= 0)
    return da + "schedulerBacklogTimeout must be > 0";
  if (s.sustained_scheduler_backlog_timeout.count() <= 0)
    return da + "sustainedSchedulerBacklogTimeout must be > 0";
  if (s.executor_idle_timeout.count() < 0 || s.cached_executor_idle_timeout.count() < 0)
    return da + "executorIdleTimeout and " + da + "cachedExecutorIdleTimeout must be >= 0";
  if (s.tasks_per_executor == 0)
    return "ember.executor.cores must be at least ember.task.cpus when dynamic allocation is enabled";
  if (!s.shuffle_service && !s.shuffle_tracking)
    return "Dynamic allocation of executors requires the shuffle service or shuffle tracking: set "
           "ember.shuffle.service.enabled=true or " + da + "shuffleTracking.enabled=true";
  return std::nullopt;
}

allocation_policy::allocation_policy(allocation_settings settings)
  : settings_(std::move(settings)),
    target_(std::min(std::max(settings_.initial_executors, settings_.min_executors), max_())) {
  if (settings_.tasks_per_executor == 0)
    settings_.tasks_per_executor = 1;
}

uint32_t allocation_policy::max_() const {
  return settings_.max_executors == 0 ? std::numeric_limits<uint32_t>::max() : settings_.max_executors;
}

// -- inputs -------------------------------------------------------------------------------

void allocation_policy::pending_tasks(uint32_t count, clock_time now) {
  pending_ = count;
  if (count > 0) {
    initializing_ = false; // a stage was submitted: the first job decides from now on
    if (!add_time_)
      add_time_ = now + settings_.scheduler_backlog_timeout;
  } else {
    add_time_.reset();
    to_add_ = 1;
  }
}

void allocation_policy::executor_added(const std::string& id, clock_time now) {
  if (executors_.count(id))
    return;
  executors_[id].idle_since = now;
}

void allocation_policy::executor_removed(const std::string& id) {
  executors_.erase(id);
}

void allocation_policy::release_refused(const std::string& id, clock_time now) {
  auto it = executors_.find(id);
  if (it == executors_.end() || !it->second.pending_removal)
    return;
  it->second.pending_removal = false;
  it->second.idle_since = now;
}

void allocation_policy::running_tasks(const std::string& id, uint32_t count, clock_time now) {
  auto it = executors_.find(id);
  if (it == executors_.end())
    return;
  if (it->second.running > 0 && count == 0)
    it->second.idle_since = now;
  it->second.running = count;
}

void allocation_policy::shuffle_data(const std::string& id, bool holds) {
  if (auto it = executors_.find(id); it != executors_.end())
    it->second.shuffle = holds;
}

void allocation_policy::cached_blocks(const std::string& id, bool holds) {
  if (auto it = executors_.find(id); it != executors_.end())
    it->second.cached = holds;
}

// -- decisions -----------------------------------------------------------------------------

uint32_t allocation_policy::executors_needed() const {
  uint64_t tasks = pending_;
  for (const auto& [id, e] : executors_)
    tasks += e.running;
  uint64_t tpe = settings_.tasks_per_executor;
  return static_cast<uint32_t>(std::min<uint64_t>((tasks + tpe - 1) / tpe, std::numeric_limits<uint32_t>::max()));
}

bool allocation_policy::pending_removal(const std::string& id) const {
  auto it = executors_.find(id);
  return it != executors_.end() && it->second.pending_removal;
}

std::optional<allocation_policy::clock_time> allocation_policy::idle_deadline_(const executor_state& e) const {
  if (e.running > 0 || e.pending_removal)
    return std::nullopt;
  // Shuffle tracking (only meaningful without a shuffle service): kept while its output is needed.
  if (e.shuffle && settings_.shuffle_tracking && !settings_.shuffle_service)
    return std::nullopt;
  if (e.cached)
    return settings_.cached_executor_idle_timeout.count() == 0
               ? std::nullopt
               : std::optional{e.idle_since + settings_.cached_executor_idle_timeout};
  return e.idle_since + settings_.executor_idle_timeout;
}

std::vector<std::string> allocation_policy::timed_out_(clock_time now) const {
  std::vector<std::pair<clock_time, std::string>> expired;
  for (const auto& [id, e] : executors_)
    if (auto d = idle_deadline_(e); d && *d <= now)
      expired.emplace_back(*d, id);
  std::sort(expired.begin(), expired.end()); // longest idle first, then by id
  std::vector<std::string> ids;
  for (auto& [d, id] : expired)
    ids.push_back(std::move(id));
  return ids;
}

void allocation_policy::update_target_(clock_time now) {
  if (initializing_)
    return; // keep the initial target until the first job (or an idle timeout), as Spark
  const uint32_t needed = executors_needed();
  if (needed < target_) {
    // Cancel requests nobody needs; executors themselves go by idle timeout.
    target_ = std::max(needed, settings_.min_executors);
    to_add_ = 1;
    return;
  }
  if (!add_time_ || now < *add_time_)
    return;
  const uint32_t old = target_;
  if (old >= max_()) {
    to_add_ = 1;
    return;
  }
  uint64_t live = 0;
  for (const auto& [id, e] : executors_)
    live += e.pending_removal ? 0 : 1;
  // No point ramping up through executors we already have.
  uint64_t t = std::max<uint64_t>(target_, live) + to_add_;
  t = std::min<uint64_t>(t, needed);
  t = std::max<uint64_t>(std::min<uint64_t>(t, max_()), settings_.min_executors);
  target_ = static_cast<uint32_t>(t);
  const uint32_t delta = target_ - old;
  if (delta == 0) {
    to_add_ = 1; // capped: the ramp starts again from 1 (the timer stays expired)
    return;
  }
  add_time_ = now + settings_.sustained_scheduler_backlog_timeout;
  to_add_ = delta == to_add_ ? to_add_ * 2 : 1;
}

allocation_decision allocation_policy::tick(clock_time now) {
  allocation_decision out;
  auto timed_out = timed_out_(now);
  if (!timed_out.empty())
    initializing_ = false;
  update_target_(now);
  uint32_t remaining = 0;
  for (const auto& [id, e] : executors_)
    remaining += e.pending_removal ? 0 : 1;
  for (auto& id : timed_out) {
    // Never below minExecutors, and not below what the target says we should keep.
    if (remaining == 0 || remaining - 1 < settings_.min_executors || remaining - 1 < target_)
      continue;
    executors_[id].pending_removal = true;
    --remaining;
    out.release.push_back(std::move(id));
  }
  if (reported_target_ != target_) {
    out.target = target_;
    reported_target_ = target_;
  }
  last_tick_ = now;
  return out;
}

std::optional<allocation_policy::clock_time> allocation_policy::next_deadline() const {
  std::optional<clock_time> earliest;
  auto consider = [&](clock_time t) {
    if (last_tick_ && t <= *last_tick_)
      return; // acted on at the last tick; only an input can change the outcome
    if (!earliest || t < *earliest)
      earliest = t;
  };
  if (add_time_)
    consider(*add_time_);
  for (const auto& [id, e] : executors_)
    if (auto d = idle_deadline_(e))
      consider(*d);
  return earliest;
}

} // namespace ember::scheduler
