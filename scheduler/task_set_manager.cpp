#include "scheduler/task_set_manager.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "config/assert.hpp"

namespace ember::scheduler {

const char* to_string(locality_level level) {
  switch (level) {
    case locality_level::process_local: return "PROCESS_LOCAL";
    case locality_level::node_local: return "NODE_LOCAL";
    case locality_level::no_pref: return "NO_PREF";
    case locality_level::rack_local: return "RACK_LOCAL";
    case locality_level::any: return "ANY";
  }
  return "UNKNOWN";
}

namespace {

template <class T>
const std::vector<T>& at_or_empty(const std::vector<std::vector<T>>& v, size_t i) {
  static const std::vector<T> empty;
  return i < v.size() ? v[i] : empty;
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

} // namespace

task_set_manager::task_set_manager(stage_submission submission, task_set_settings settings,
                                   std::shared_ptr<const executor_table> executors,
                                   std::shared_ptr<task_id_allocator> ids, clock_time now)
  : submission_(std::move(submission)),
    settings_(settings),
    executors_(std::move(executors)),
    ids_(std::move(ids)),
    parts_(submission_.partitions.size()),
    last_reset_(now) {
  // Added in reverse so that lists, popped from the back, hand out partitions in order.
  for (size_t i = parts_.size(); i-- > 0;)
    add_pending_(static_cast<uint32_t>(i));
  executors_changed();
}

std::string task_set_manager::stage_name_() const {
  return std::to_string(submission_.stage_id) + "." + std::to_string(submission_.stage_attempt);
}

// -- pending lists ---------------------------------------------------------------------
// Lists hold indices lazily: an entry whose task is running or done is skipped (and dropped
// when it reaches the back), so re-queuing is just a push.

void task_set_manager::add_pending_(uint32_t idx) {
  const auto& execs = at_or_empty(submission_.preferred_executors, idx);
  const auto& hosts = at_or_empty(submission_.preferred_hosts, idx);
  for (const auto& e : execs)
    for_executor_[e].push_back(idx);
  for (const auto& h : hosts)
    for_host_[h].push_back(idx);
  index_racks_(idx);
  if (execs.empty() && hosts.empty())
    no_prefs_.push_back(idx);
  all_.push_back(idx);
}

void task_set_manager::index_racks_(uint32_t idx) {
  std::set<std::string> racks;
  for (const auto& h : at_or_empty(submission_.preferred_hosts, idx))
    if (auto r = executors_->rack_of(h))
      racks.insert(*r);
  for (const auto& r : racks)
    for_rack_[r].push_back(idx);
}

bool task_set_manager::excluded_(uint32_t idx, const std::string& exec, const std::string& host) const {
  if (excluded_execs_.count(exec) != 0 || excluded_hosts_.count(host) != 0)
    return true;
  const auto& p = parts_[idx];
  if (settings_.max_task_attempts_per_executor > 0) {
    auto it = p.failed_on_executor.find(exec);
    if (it != p.failed_on_executor.end() && it->second >= settings_.max_task_attempts_per_executor)
      return true;
  }
  if (settings_.max_task_attempts_per_node > 0) {
    auto it = p.failed_on_host.find(host);
    if (it != p.failed_on_host.end() && it->second >= settings_.max_task_attempts_per_node)
      return true;
  }
  return false;
}

// Takes (or with take == false, peeks at) the next launchable index of `list`. A task that
// already failed on this executor is handed out only if nothing else is: retries prefer
// another executor.
std::optional<uint32_t> task_set_manager::take_from_(index_list& list, const std::string& exec,
                                                     const std::string& host, bool take) {
  while (!list.empty() && !pending_(list.back()))
    list.pop_back();
  std::optional<size_t> fallback;
  for (size_t i = list.size(); i-- > 0;) {
    uint32_t idx = list[i];
    if (!pending_(idx) || excluded_(idx, exec, host))
      continue;
    if (parts_[idx].failed_on_executor.count(exec) != 0) {
      if (!fallback)
        fallback = i;
      continue;
    }
    if (take)
      list.erase(list.begin() + static_cast<std::ptrdiff_t>(i));
    return idx;
  }
  if (!fallback)
    return std::nullopt;
  uint32_t idx = list[*fallback];
  if (take)
    list.erase(list.begin() + static_cast<std::ptrdiff_t>(*fallback));
  return idx;
}

std::optional<task_set_manager::pick> task_set_manager::find_task_(const std::string& exec, const std::string& host,
                                                                   const std::string& rack, locality_level level,
                                                                   bool take) {
  auto from = [&](std::map<std::string, index_list>& lists, const std::string& key) -> std::optional<uint32_t> {
    auto it = lists.find(key);
    return it == lists.end() ? std::nullopt : take_from_(it->second, exec, host, take);
  };
  std::optional<uint32_t> idx = from(for_executor_, exec);
  if (!idx && level >= locality_level::node_local)
    idx = from(for_host_, host);
  if (!idx && level >= locality_level::no_pref)
    idx = take_from_(no_prefs_, exec, host, take);
  if (!idx && level >= locality_level::rack_local && !rack.empty())
    idx = from(for_rack_, rack);
  if (!idx && level >= locality_level::any)
    idx = take_from_(all_, exec, host, take);
  if (!idx)
    return std::nullopt;
  return pick{*idx, false};
}

std::optional<task_set_manager::pick> task_set_manager::find_speculative_(const std::string& exec,
                                                                          const std::string& host, bool take) {
  for (size_t i = 0; i < speculatable_.size(); ++i) {
    uint32_t idx = speculatable_[i];
    const auto& p = parts_[idx];
    if (p.successful || p.copies_running == 0 || excluded_(idx, exec, host))
      continue;
    bool runs_here = std::any_of(p.attempts.begin(), p.attempts.end(), [&](uint64_t tid) {
      const auto& t = tasks_.at(tid);
      return t.state == run_state::running && t.executor_id == exec;
    });
    if (runs_here)
      continue;
    if (take)
      speculatable_.erase(speculatable_.begin() + static_cast<std::ptrdiff_t>(i));
    return pick{idx, true};
  }
  return std::nullopt;
}

locality_level task_set_manager::locality_of_(uint32_t idx, const std::string& exec, const std::string& host,
                                              const std::string& rack) const {
  const auto& execs = at_or_empty(submission_.preferred_executors, idx);
  const auto& hosts = at_or_empty(submission_.preferred_hosts, idx);
  if (contains(execs, exec))
    return locality_level::process_local;
  if (contains(hosts, host))
    return locality_level::node_local;
  if (execs.empty() && hosts.empty())
    return locality_level::no_pref;
  if (!rack.empty())
    for (const auto& h : hosts)
      if (executors_->rack_of(h) == rack)
        return locality_level::rack_local;
  return locality_level::any;
}

// -- locality levels -----------------------------------------------------------------

bool task_set_manager::has_pending_at_(locality_level level) const {
  auto any_pending = [&](const index_list& l) { // from the back, where pending tasks are
    return std::any_of(l.rbegin(), l.rend(), [&](uint32_t i) { return pending_(i); });
  };
  auto any_alive = [&](const std::map<std::string, index_list>& lists, auto alive) {
    for (const auto& [key, list] : lists)
      if (alive(key) && any_pending(list))
        return true;
    return false;
  };
  switch (level) {
    case locality_level::process_local:
      return any_alive(for_executor_, [&](const std::string& e) { return executors_->executor_alive(e); });
    case locality_level::node_local:
      return any_alive(for_host_, [&](const std::string& h) { return executors_->host_alive(h); });
    case locality_level::no_pref:
      return any_pending(no_prefs_);
    case locality_level::rack_local:
      return any_alive(for_rack_, [&](const std::string& r) { return executors_->rack_alive(r); });
    case locality_level::any:
      return any_pending(all_);
  }
  return false;
}

std::chrono::milliseconds task_set_manager::wait_for_(locality_level level) const {
  switch (level) {
    case locality_level::process_local: return settings_.locality_wait_process;
    case locality_level::node_local: return settings_.locality_wait_node;
    case locality_level::rack_local: return settings_.locality_wait_rack;
    default: return std::chrono::milliseconds{0};
  }
}

void task_set_manager::executors_changed() {
  locality_level previous = levels_.empty() ? locality_level::process_local : levels_[level_index_];
  for_rack_.clear(); // a preferred host's rack becomes known when an executor registers there
  for (uint32_t i = 0; i < parts_.size(); ++i)
    if (pending_(i))
      index_racks_(i);
  levels_.clear();
  for (auto level : {locality_level::process_local, locality_level::node_local, locality_level::no_pref,
                     locality_level::rack_local})
    if (has_pending_at_(level))
      levels_.push_back(level);
  levels_.push_back(locality_level::any);
  level_index_ = 0;
  // A set that has launched nothing yet (e.g. submitted before any executor registered, when its
  // only level was ANY) starts at the most local level its data now allows, not at ANY for good.
  if (tasks_.empty())
    return;
  while (level_index_ + 1 < levels_.size() && levels_[level_index_] < previous)
    ++level_index_;
}

locality_level task_set_manager::allowed_locality(clock_time now) {
  while (level_index_ + 1 < levels_.size()) {
    auto level = levels_[level_index_];
    if (!has_pending_at_(level)) {
      // Nothing left that could run at this level: waiting would only idle cores.
      last_reset_ = now;
      ++level_index_;
      delay_rejected_ = false;
    } else if (now - last_reset_ >= wait_for_(level)) {
      last_reset_ += wait_for_(level);
      ++level_index_;
      delay_rejected_ = false;
    } else {
      return level;
    }
  }
  return levels_[level_index_];
}

std::optional<clock_time> task_set_manager::next_timeout(clock_time now) {
  if (zombie_ || !has_pending_tasks())
    return std::nullopt;
  auto level = allowed_locality(now);
  if (level_index_ + 1 >= levels_.size())
    return std::nullopt;
  return last_reset_ + wait_for_(level);
}

// -- placement ------------------------------------------------------------------------

std::optional<task_launch> task_set_manager::resource_offer(const std::string& executor_id, const std::string& host,
                                                            const std::string& rack, locality_level max_locality,
                                                            clock_time now) {
  if (zombie_)
    return std::nullopt;
  locality_level allowed = max_locality;
  if (max_locality != locality_level::no_pref)
    allowed = std::min(allowed, allowed_locality(now));
  auto found = find_task_(executor_id, host, rack, allowed, true);
  if (!found && max_locality == locality_level::any)
    found = find_speculative_(executor_id, host, true);
  if (!found) {
    // Turned down only because of the delay: the current level's timer must not be reset by
    // local launches elsewhere until the wait has run out (no pile-up on busy executors).
    if (allowed < max_locality && find_task_(executor_id, host, rack, max_locality, false))
      delay_rejected_ = true;
    return std::nullopt;
  }
  auto& p = parts_[found->index];
  task_info t;
  t.task_id = ids_->allocate();
  t.index = found->index;
  t.attempt = p.next_attempt++;
  t.executor_id = executor_id;
  t.host = host;
  t.launch_time = now;
  t.start_time = now;
  t.locality = locality_of_(found->index, executor_id, host, rack);
  t.speculative = found->speculative;
  if (found->speculative)
    p.speculatable = false;
  if (!found->speculative && max_locality != locality_level::no_pref && t.locality == levels_[level_index_] &&
      !delay_rejected_)
    last_reset_ = now;
  p.attempts.push_back(t.task_id);
  ++p.copies_running;
  ++running_;
  task_launch launch;
  launch.task_id = t.task_id;
  launch.attempt = t.attempt;
  launch.stage_id = submission_.stage_id;
  launch.stage_attempt = submission_.stage_attempt;
  launch.job_id = submission_.job_id;
  launch.partition = submission_.partitions[t.index];
  launch.index = t.index;
  launch.locality = t.locality;
  launch.speculative = t.speculative;
  launch.executor_id = executor_id;
  launch.host = host;
  tasks_.emplace(t.task_id, std::move(t));
  return launch;
}

// -- status ---------------------------------------------------------------------------

task_set_manager::task_info* task_set_manager::running_task_(uint64_t task_id, uint32_t attempt) {
  auto it = tasks_.find(task_id);
  if (it == tasks_.end() || it->second.attempt != attempt || it->second.state != run_state::running)
    return nullptr;
  return &it->second;
}

void task_set_manager::finish_attempt_(task_info& t, run_state state) {
  EMBER_ASSERT(t.state == run_state::running, "only a running attempt finishes");
  EMBER_ASSERT(parts_[t.index].copies_running > 0 && running_ > 0, "running counts cover every running attempt");
  t.state = state;
  --parts_[t.index].copies_running;
  --running_;
}

std::vector<kill_request> task_set_manager::kill_other_attempts_(uint32_t idx, uint64_t except,
                                                                 const std::string& reason) {
  std::vector<kill_request> kills;
  for (uint64_t tid : parts_[idx].attempts) {
    const auto& t = tasks_.at(tid);
    if (tid != except && t.state == run_state::running)
      kills.push_back({tid, t.attempt, t.executor_id, reason});
  }
  return kills;
}

namespace {

task_outcome ignored(std::string why) {
  task_outcome out;
  out.kind = task_event_kind::ignored;
  out.message = std::move(why);
  return out;
}

std::string not_running(uint64_t task_id, uint32_t attempt) {
  return "task " + std::to_string(task_id) + " attempt " + std::to_string(attempt) + " is not running";
}

} // namespace

task_outcome task_set_manager::task_succeeded(uint64_t task_id, uint32_t attempt, clock_time now,
                                              std::optional<std::chrono::nanoseconds> run_time) {
  auto* t = running_task_(task_id, attempt);
  if (t == nullptr)
    return ignored(not_running(task_id, attempt));
  finish_attempt_(*t, run_state::succeeded);
  auto& p = parts_[t->index];
  task_outcome out;
  out.released = true;
  out.partition = submission_.partitions[t->index];
  out.executor_id = t->executor_id;
  if (p.successful) {
    out.kind = task_event_kind::ignored;
    out.message = "partition " + std::to_string(out.partition) + " of stage " + stage_name_() +
                  " already finished by another attempt";
    return out;
  }
  p.successful = true;
  p.winner = task_id;
  ++succeeded_;
  // Spark's duration is launch to end; a queued attempt's starts when it left the queue.
  if (t->start_time)
    durations_.push_back(std::max(std::chrono::nanoseconds{0}, std::chrono::nanoseconds{now - *t->start_time}));
  else
    durations_.push_back(run_time ? *run_time : std::chrono::nanoseconds{now - t->launch_time});
  out.kind = task_event_kind::finished;
  out.kills = kill_other_attempts_(t->index, task_id, "another attempt succeeded");
  if (succeeded_ == parts_.size()) {
    zombie_ = true;
    out.task_set_done = true;
  }
  return out;
}

task_outcome task_set_manager::task_failed(uint64_t task_id, uint32_t attempt, const std::string& reason,
                                           bool counts) {
  auto* t = running_task_(task_id, attempt);
  if (t == nullptr)
    return ignored(not_running(task_id, attempt));
  finish_attempt_(*t, run_state::failed);
  auto& p = parts_[t->index];
  task_outcome out;
  out.kind = task_event_kind::failed;
  out.released = true;
  out.partition = submission_.partitions[t->index];
  out.executor_id = t->executor_id;
  out.message = reason;
  if (p.successful)
    return out; // another attempt already produced it
  if (!zombie_)
    add_pending_(t->index);
  if (!counts || zombie_)
    return out;
  ++p.failures;
  ++p.failed_on_executor[t->executor_id];
  ++p.failed_on_host[t->host];
  auto& on_exec = failed_tasks_on_[t->executor_id];
  on_exec.insert(t->index);
  if (settings_.max_failed_tasks_per_executor > 0 &&
      static_cast<int>(on_exec.size()) >= settings_.max_failed_tasks_per_executor &&
      excluded_execs_.insert(t->executor_id).second && settings_.max_failed_executors_per_node > 0) {
    int on_host = 0;
    for (const auto& e : excluded_execs_) {
      const auto* info = executors_->find(e);
      on_host += info != nullptr && info->host == t->host ? 1 : 0;
    }
    if (on_host >= settings_.max_failed_executors_per_node)
      excluded_hosts_.insert(t->host);
  }
  if (static_cast<int>(p.failures) >= settings_.max_task_failures) {
    std::string lost = "Lost task " + std::to_string(out.partition) + "." + std::to_string(t->attempt) +
                       " in stage " + stage_name_() + " (TID " + std::to_string(task_id) + ") (" + t->host +
                       " executor " + t->executor_id + "): " + reason;
    abort_message_ = "Task " + std::to_string(out.partition) + " in stage " + stage_name_() + " failed " +
                     std::to_string(settings_.max_task_failures) + " times, most recent failure: " + lost;
    zombie_ = true;
    out.kind = task_event_kind::aborted;
    out.message = *abort_message_;
  }
  return out;
}

task_outcome task_set_manager::task_fetch_failed(uint64_t task_id, uint32_t attempt, const std::string& reason) {
  auto* t = running_task_(task_id, attempt);
  if (t == nullptr)
    return ignored(not_running(task_id, attempt));
  finish_attempt_(*t, run_state::failed);
  zombie_ = true; // the stage attempt is dead: the DAG planner resubmits a new one
  task_outcome out;
  out.kind = task_event_kind::fetch_failed;
  out.released = true;
  out.partition = submission_.partitions[t->index];
  out.executor_id = t->executor_id;
  out.message = reason;
  return out;
}

task_outcome task_set_manager::task_killed(uint64_t task_id, uint32_t attempt, const std::string& reason) {
  auto* t = running_task_(task_id, attempt);
  if (t == nullptr)
    return ignored(not_running(task_id, attempt));
  finish_attempt_(*t, run_state::killed);
  task_outcome out;
  out.kind = task_event_kind::killed;
  out.released = true;
  out.partition = submission_.partitions[t->index];
  out.executor_id = t->executor_id;
  out.message = reason;
  if (!parts_[t->index].successful && !zombie_)
    add_pending_(t->index);
  return out;
}

executor_loss_outcome task_set_manager::executor_lost(const std::string& executor_id, bool outputs_lost) {
  executor_loss_outcome out;
  for (auto& [tid, t] : tasks_) {
    if (t.executor_id != executor_id)
      continue;
    auto& p = parts_[t.index];
    if (t.state == run_state::running) {
      finish_attempt_(t, run_state::failed);
      out.requeued_task_ids.push_back(tid);
      if (!p.successful && !zombie_)
        add_pending_(t.index);
    } else if (t.state == run_state::succeeded && p.winner == tid && submission_.is_map_stage && outputs_lost &&
               !zombie_) {
      EMBER_ASSERT(succeeded_ > 0, "a succeeded partition was counted");
      p.successful = false;
      p.winner.reset();
      --succeeded_;
      add_pending_(t.index);
      out.resubmitted_partitions.push_back(submission_.partitions[t.index]);
    }
  }
  std::sort(out.requeued_task_ids.begin(), out.requeued_task_ids.end());
  std::sort(out.resubmitted_partitions.begin(), out.resubmitted_partitions.end());
  executors_changed();
  return out;
}

std::vector<kill_request> task_set_manager::kill_all(const std::string& reason) {
  zombie_ = true;
  std::vector<kill_request> kills;
  for (const auto& [tid, t] : tasks_)
    if (t.state == run_state::running)
      kills.push_back({tid, t.attempt, t.executor_id, reason});
  std::sort(kills.begin(), kills.end(), [](const auto& a, const auto& b) { return a.task_id < b.task_id; });
  return kills;
}

std::optional<std::string> task_set_manager::check_completely_excluded() {
  if (zombie_ ||
      (settings_.max_task_attempts_per_executor <= 0 && settings_.max_task_attempts_per_node <= 0 &&
       settings_.max_failed_tasks_per_executor <= 0) ||
      executors_->size() == 0)
    return std::nullopt;
  for (uint32_t i = 0; i < parts_.size(); ++i) {
    if (!pending_(i))
      continue;
    bool runnable = std::any_of(executors_->order().begin(), executors_->order().end(), [&](const std::string& e) {
      return !excluded_(i, e, executors_->find(e)->host);
    });
    if (!runnable) {
      abort_message_ = "Aborting stage " + stage_name_() + " because task " +
                       std::to_string(submission_.partitions[i]) +
                       " cannot run anywhere due to node and executor exclusion after " +
                       std::to_string(parts_[i].failures) + " failures";
      zombie_ = true;
      return abort_message_;
    }
  }
  return std::nullopt;
}

// -- speculation ----------------------------------------------------------------------

bool task_set_manager::task_queued(uint64_t task_id, uint32_t attempt) {
  auto* t = running_task_(task_id, attempt);
  if (t == nullptr)
    return false;
  t->start_time.reset();
  return true;
}

bool task_set_manager::task_started(uint64_t task_id, uint32_t attempt, clock_time started) {
  auto* t = running_task_(task_id, attempt);
  if (t == nullptr)
    return false;
  // Derived from the executor's run time on arrival, so a heartbeat delayed on its way makes it
  // look later than it was: the earliest report is the best. Never before the launch (jitter).
  started = std::max(started, t->launch_time);
  if (!t->start_reported || started < *t->start_time)
    t->start_time = started;
  t->start_reported = true;
  return true;
}

std::optional<clock_time> task_set_manager::start_time(uint64_t task_id, uint32_t attempt) const {
  auto it = tasks_.find(task_id);
  if (it == tasks_.end() || it->second.attempt != attempt || it->second.state != run_state::running)
    return std::nullopt;
  return it->second.start_time;
}

std::vector<uint32_t> task_set_manager::speculatable_tasks(clock_time now) {
  std::vector<uint32_t> result;
  if (!settings_.speculation || zombie_ || parts_.empty())
    return result;
  auto min_finished = std::max<uint32_t>(
    static_cast<uint32_t>(std::floor(settings_.speculation_quantile * static_cast<double>(parts_.size()))), 1);
  if (succeeded_ < min_finished || durations_.empty())
    return result;
  auto sorted = durations_;
  std::sort(sorted.begin(), sorted.end());
  size_t n = sorted.size();
  auto median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  auto scaled = std::chrono::duration_cast<std::chrono::nanoseconds>(median * settings_.speculation_multiplier);
  auto threshold = std::max<std::chrono::nanoseconds>(scaled, settings_.speculation_min_runtime);
  std::vector<uint32_t> marked;
  for (const auto& [tid, t] : tasks_) {
    auto& p = parts_[t.index];
    if (t.state != run_state::running || p.successful || p.copies_running != 1 || p.speculatable)
      continue;
    // Queued behind other tasks on its executor and not reported started: not running yet.
    if (t.start_time && now - *t.start_time > threshold) {
      p.speculatable = true;
      marked.push_back(t.index);
    }
  }
  std::sort(marked.begin(), marked.end());
  for (uint32_t idx : marked) {
    speculatable_.push_back(idx);
    result.push_back(submission_.partitions[idx]);
  }
  return result;
}

bool task_set_manager::has_pending_tasks() const {
  if (zombie_)
    return false;
  // Every pending partition is in all_ (add_pending_ puts it there whenever a partition becomes
  // pending again), and tasks leave from the back: dropping non-pending entries from the back
  // makes this O(1) amortized instead of a scan of every partition per call, which made a
  // stage of n tasks cost O(n^2).
  while (!all_.empty() && !pending_(all_.back()))
    all_.pop_back();
  return !all_.empty();
}
uint32_t task_set_manager::failures(uint32_t partition) const {
  for (uint32_t i = 0; i < parts_.size(); ++i)
    if (submission_.partitions[i] == partition)
      return parts_[i].failures;
  return 0;
}

} // namespace ember::scheduler
