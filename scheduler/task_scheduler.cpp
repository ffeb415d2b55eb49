#include "scheduler/task_scheduler.hpp"

#include <algorithm>
#include <set>
#include <string_view>
#include <utility>

namespace ember::scheduler {

task_scheduler::task_scheduler(task_scheduler_settings settings)
  : settings_(settings),
    executors_(std::make_shared<executor_table>()),
    ids_(std::make_shared<task_id_allocator>()) {
  if (settings_.cpus_per_task == 0)
    settings_.cpus_per_task = 1;
  for (const auto& p : settings_.pools)
    pools_.emplace(p.name, p);
}

// -- executors ------------------------------------------------------------------------

bool task_scheduler::add_executor(const std::string& id, const std::string& host, const std::string& rack,
                                  uint32_t cores, uint32_t extra_slots) {
  if (!executors_->add({id, host, rack, cores, cores}))
    return false;
  extra_free_[id] = extra_slots;
  for (auto& [key, set] : sets_)
    set->executors_changed();
  return true;
}

void task_scheduler::executor_reports_starts(const std::string& id, uint32_t threads) {
  if (!executors_->executor_alive(id))
    return;
  uint32_t attempts = 0;
  for (const auto& [tid, t] : running_)
    attempts += t.executor_id == id ? 1 : 0;
  reporters_[id] = {std::max<uint32_t>(threads, 1), attempts};
}

void task_scheduler::launched_(const set_key& key, task_set_manager& set, const executor_info& exec,
                               const task_launch& launch, bool extra) {
  running_[launch.task_id] = {key, exec.id, launch.attempt, extra};
  auto r = reporters_.find(exec.id);
  if (r == reporters_.end())
    return;
  // The executor has at most attempts - 1 others (ended ones may not be reported yet): with a
  // thread free among `threads`, this one starts at once; otherwise it waits in the queue.
  if (++r->second.attempts > r->second.threads)
    set.task_queued(launch.task_id, launch.attempt);
}

void task_scheduler::ended_(const std::string& executor_id) {
  if (auto r = reporters_.find(executor_id); r != reporters_.end() && r->second.attempts > 0)
    --r->second.attempts;
}

executor_removal task_scheduler::remove_executor(const std::string& id, const std::string& reason,
                                                 bool outputs_lost) {
  executor_removal out;
  out.reason = reason;
  auto info = executors_->remove(id);
  if (!info)
    return out;
  out.known = true;
  extra_free_.erase(id);
  reporters_.erase(id);
  out.host = info->host;
  out.host_lost = !executors_->host_alive(info->host);
  for (auto& [key, set] : sets_) {
    auto lost = set->executor_lost(id, outputs_lost);
    for (uint64_t tid : lost.requeued_task_ids) {
      out.lost_tasks.push_back({tid, set->stage_id(), set->stage_attempt()});
      running_.erase(tid);
    }
    for (uint32_t p : lost.resubmitted_partitions)
      out.resubmitted.push_back({set->stage_id(), set->stage_attempt(), p});
  }
  prune_();
  return out;
}

void task_scheduler::drain_executor(const std::string& id) {
  if (auto* e = executors_->find(id))
    e->free_cores = 0;
  if (auto e = extra_free_.find(id); e != extra_free_.end())
    e->second = 0;
}

std::vector<task_scheduler::failed_task> task_scheduler::fail_running_tasks(const std::string& executor_id,
                                                                           const std::string& reason, clock_time now) {
  std::vector<task_status> doomed;
  for (const auto& [tid, t] : running_)
    if (t.executor_id == executor_id)
      doomed.push_back({tid, t.attempt, task_state::failed, reason, true});
  std::vector<failed_task> out;
  for (auto& st : doomed)
    out.push_back({st.task_id, st.attempt, status_update(st, now)});
  return out;
}

// -- task sets --------------------------------------------------------------------------

std::map<task_scheduler::set_key, std::unique_ptr<task_set_manager>>::iterator
task_scheduler::find_set_(uint32_t stage_id, uint32_t attempt) {
  return std::find_if(sets_.begin(), sets_.end(), [&](const auto& kv) {
    return std::get<1>(kv.first) == stage_id && std::get<2>(kv.first) == attempt;
  });
}

const task_set_manager* task_scheduler::task_set(uint32_t stage_id, uint32_t stage_attempt) const {
  for (const auto& [key, set] : sets_)
    if (std::get<1>(key) == stage_id && std::get<2>(key) == stage_attempt)
      return set.get();
  return nullptr;
}

void task_scheduler::submit(stage_submission submission, clock_time now) {
  if (find_set_(submission.stage_id, submission.stage_attempt) != sets_.end())
    return;
  for (auto& [key, set] : sets_)
    if (std::get<1>(key) == submission.stage_id)
      set->mark_zombie();
  set_key key{submission.job_id, submission.stage_id, submission.stage_attempt};
  sets_.emplace(key, std::make_unique<task_set_manager>(std::move(submission), settings_.task_set, executors_,
                                                        ids_, now));
  prune_();
}

std::vector<kill_request> task_scheduler::cancel_stage(uint32_t stage_id, const std::string& reason) {
  std::vector<kill_request> kills;
  for (auto& [key, set] : sets_) {
    if (std::get<1>(key) != stage_id)
      continue;
    auto k = set->kill_all(reason);
    kills.insert(kills.end(), k.begin(), k.end());
  }
  prune_();
  return kills;
}

void task_scheduler::prune_() {
  for (auto it = sets_.begin(); it != sets_.end();) {
    if (!it->second->is_finished()) {
      ++it;
      continue;
    }
    // Failures count against an executor only once their task set succeeded: a stage that
    // failed everywhere says more about the stage than about the executor (Spark's rule).
    if (settings_.max_failed_tasks_per_executor_app > 0 && !it->second->abort_message())
      for (const auto& [exec, tasks] : it->second->failed_tasks_by_executor()) {
        auto& n = app_failures_[exec];
        n += static_cast<int>(tasks.size());
        if (n >= settings_.max_failed_tasks_per_executor_app) {
          app_excluded_until_[exec] = now_ + settings_.exclude_timeout;
          n = 0;
        }
      }
    durations_.erase(it->first);
    it = sets_.erase(it);
  }
}

bool task_scheduler::app_excluded_(const std::string& executor_id) const {
  auto it = app_excluded_until_.find(executor_id);
  if (it == app_excluded_until_.end() || now_ >= it->second)
    return false;
  // With every executor excluded the application would hang: then nobody is (Spark instead
  // waits for a new executor, ember.excludeOnFailure.timeout later at most).
  return std::any_of(executors_->order().begin(), executors_->order().end(), [&](const std::string& e) {
    auto x = app_excluded_until_.find(e);
    return x == app_excluded_until_.end() || now_ >= x->second;
  });
}

std::vector<std::string> task_scheduler::excluded_executors(clock_time now) const {
  std::vector<std::string> out;
  for (const auto& [exec, until] : app_excluded_until_)
    if (now < until)
      out.push_back(exec);
  return out;
}

std::optional<bool> task_scheduler::free_slot_(const executor_info& exec, const set_key& key) const {
  if (app_excluded_(exec.id))
    return std::nullopt;
  if (exec.free_cores >= settings_.cpus_per_task)
    return false;
  auto extra = extra_free_.find(exec.id);
  if (extra == extra_free_.end() || extra->second < settings_.cpus_per_task)
    return std::nullopt;
  auto d = durations_.find(key);
  if (d == durations_.end() || !d->second.short_tasks(settings_))
    return std::nullopt;
  return true;
}

void task_scheduler::take_slot_(executor_info& exec, bool extra) {
  if (extra)
    extra_free_[exec.id] -= settings_.cpus_per_task;
  else
    exec.free_cores -= settings_.cpus_per_task;
}

bool task_scheduler::short_tasks(uint32_t stage_id, uint32_t stage_attempt) const {
  for (const auto& [key, d] : durations_)
    if (std::get<1>(key) == stage_id && std::get<2>(key) == stage_attempt)
      return d.short_tasks(settings_);
  return false;
}

// -- scheduling -------------------------------------------------------------------------

offer_result task_scheduler::offers(clock_time now) {
  offer_result out;
  now_ = now;
  prune_();
  if (settings_.mode == scheduling_mode::fair)
    fair_offers_(out, now);
  else
    fifo_offers_(out, now);
  prune_();
  return out;
}

void task_scheduler::check_excluded_(task_set_manager& set, offer_result& out) {
  if (set.has_pending_tasks())
    if (auto message = set.check_completely_excluded())
      out.aborted.push_back({set.stage_id(), set.stage_attempt(), *message});
}

void task_scheduler::fifo_offers_(offer_result& out, clock_time now) {
  for (auto& [key, set] : sets_) {
    size_t launched_before = out.launches.size();
    const auto levels = set->valid_levels();
    for (auto level : levels) {
      bool launched = true;
      while (launched) {
        launched = false;
        for (const auto& id : executors_->order()) {
          auto* exec = executors_->find(id);
          auto extra = free_slot_(*exec, key);
          if (!extra)
            continue;
          auto launch = set->resource_offer(exec->id, exec->host, exec->rack, level, now);
          if (!launch)
            continue;
          take_slot_(*exec, *extra);
          launched_(key, *set, *exec, *launch, *extra);
          out.launches.push_back(std::move(*launch));
          launched = true;
        }
      }
    }
    if (out.launches.size() == launched_before)
      check_excluded_(*set, out);
  }
}

pool_spec task_scheduler::pool(const std::string& name) const {
  if (auto it = pools_.find(name); it != pools_.end())
    return it->second;
  pool_spec p;
  p.name = name;
  return p;
}

uint32_t task_scheduler::pool_running_tasks(const std::string& name) const {
  uint32_t n = 0;
  for (const auto& [key, set] : sets_)
    if (set->submission().pool == name)
      n += set->running_tasks();
  return n;
}

std::vector<std::pair<task_scheduler::set_key, task_set_manager*>> task_scheduler::fair_order_() const {
  struct pool_entry {
    pool_spec spec;
    uint32_t running = 0;
    std::vector<std::pair<set_key, task_set_manager*>> sets; // sets_ order: FIFO already
  };
  std::map<std::string_view, pool_entry> by_name;
  for (const auto& [key, set] : sets_) {
    const std::string& name = set->submission().pool;
    auto it = by_name.find(name);
    if (it == by_name.end())
      it = by_name.emplace(name, pool_entry{pool(name), 0, {}}).first;
    it->second.running += set->running_tasks();
    it->second.sets.emplace_back(key, set.get());
  }
  std::vector<pool_entry*> order;
  for (auto& [name, entry] : by_name)
    order.push_back(&entry);
  std::sort(order.begin(), order.end(), [](const pool_entry* a, const pool_entry* b) {
    return fair_before({a->spec.name, a->running, a->spec.min_share, a->spec.weight},
                       {b->spec.name, b->running, b->spec.min_share, b->spec.weight});
  });
  std::vector<std::pair<set_key, task_set_manager*>> out;
  for (auto* entry : order) {
    if (entry->spec.mode == scheduling_mode::fair)
      // Task sets as Spark's Schedulables: weight 1, min share 0, so fewest running first;
      // ties in FIFO order (Spark breaks them by the name "TaskSet_<stage>.<attempt>").
      std::stable_sort(entry->sets.begin(), entry->sets.end(), [](const auto& a, const auto& b) {
        return a.second->running_tasks() < b.second->running_tasks();
      });
    out.insert(out.end(), entry->sets.begin(), entry->sets.end());
  }
  return out;
}

void task_scheduler::fair_offers_(offer_result& out, clock_time now) {
  std::set<set_key> launched_any, exhausted;
  const auto& ids = executors_->order();
  if (ids.empty())
    return;
  auto launch_one = [&](const set_key& key, task_set_manager& set) {
    for (auto level : set.valid_levels()) {
      for (size_t i = 0; i < ids.size(); ++i) {
        size_t idx = (fair_cursor_ + i) % ids.size();
        auto* exec = executors_->find(ids[idx]);
        auto extra = free_slot_(*exec, key);
        if (!extra)
          continue;
        auto launch = set.resource_offer(exec->id, exec->host, exec->rack, level, now);
        if (!launch)
          continue;
        take_slot_(*exec, *extra);
        launched_(key, set, *exec, *launch, *extra);
        out.launches.push_back(std::move(*launch));
        fair_cursor_ = idx + 1;
        return true;
      }
    }
    return false;
  };
  // Cores only get fewer within one call and the time stands still, so a task set that cannot
  // launch now will not be able to later in the same call.
  for (bool launched = true; launched;) {
    launched = false;
    for (auto& [key, set] : fair_order_()) {
      if (exhausted.count(key))
        continue;
      if (launch_one(key, *set)) {
        launched_any.insert(key);
        launched = true;
        break;
      }
      exhausted.insert(key);
    }
  }
  for (auto& [key, set] : sets_)
    if (!launched_any.count(key))
      check_excluded_(*set, out);
}

status_outcome task_scheduler::status_update(const task_status& status, clock_time now,
                                             std::optional<std::chrono::nanoseconds> run_time) {
  status_outcome out;
  now_ = now;
  auto it = running_.find(status.task_id);
  auto set_it = it == running_.end() ? sets_.end() : sets_.find(it->second.key);
  if (set_it == sets_.end()) {
    out.kind = task_event_kind::ignored;
    out.message = "task " + std::to_string(status.task_id) + " attempt " + std::to_string(status.attempt) +
                  " is not running";
    return out;
  }
  auto& set = *set_it->second;
  task_outcome r;
  switch (status.state) {
    case task_state::finished: r = set.task_succeeded(status.task_id, status.attempt, now, run_time); break;
    case task_state::failed: r = set.task_failed(status.task_id, status.attempt, status.reason, status.counts); break;
    case task_state::killed: r = set.task_killed(status.task_id, status.attempt, status.reason); break;
    case task_state::fetch_failed: r = set.task_fetch_failed(status.task_id, status.attempt, status.reason); break;
  }
  static_cast<task_outcome&>(out) = std::move(r);
  if (status.state == task_state::finished && run_time) {
    // An exponential moving average over roughly the last eight tasks: a set that turns slow
    // stops taking extra slots within a few tasks.
    auto& d = durations_[set_it->first];
    auto ns = static_cast<double>(run_time->count());
    d.mean_ns = d.samples == 0 ? ns : d.mean_ns + (ns - d.mean_ns) / 8;
    ++d.samples;
  }
  out.stage_id = set.stage_id();
  out.stage_attempt = set.stage_attempt();
  out.job_id = set.submission().job_id;
  out.is_map_stage = set.submission().is_map_stage;
  if (out.released) {
    if (it->second.extra) {
      if (auto e = extra_free_.find(it->second.executor_id); e != extra_free_.end())
        e->second += settings_.cpus_per_task;
    } else if (auto* exec = executors_->find(it->second.executor_id)) {
      exec->free_cores += settings_.cpus_per_task;
    }
    ended_(it->second.executor_id);
    running_.erase(it);
  }
  prune_();
  return out;
}

std::optional<clock_time> task_scheduler::next_timeout(clock_time now) {
  std::optional<clock_time> earliest;
  for (auto& [key, set] : sets_)
    if (auto t = set->next_timeout(now); t && (!earliest || *t < *earliest))
      earliest = t;
  return earliest;
}

std::optional<task_scheduler::running_attempt> task_scheduler::task_running(const std::string& executor_id,
                                                                           uint64_t task_id, uint32_t attempt,
                                                                           std::chrono::nanoseconds run_time,
                                                                           clock_time now) {
  auto it = running_.find(task_id);
  if (it == running_.end() || it->second.attempt != attempt || it->second.executor_id != executor_id)
    return std::nullopt;
  auto set = sets_.find(it->second.key);
  if (set == sets_.end())
    return std::nullopt;
  auto started = now - std::chrono::duration_cast<clock_time::duration>(run_time);
  if (!set->second->task_started(task_id, attempt, started))
    return std::nullopt;
  return running_attempt{set->second->stage_id(), set->second->stage_attempt()};
}

bool task_scheduler::check_speculation(clock_time now) {
  bool any = false;
  for (auto& [key, set] : sets_)
    any = !set->speculatable_tasks(now).empty() || any;
  return any;
}

size_t task_scheduler::pending_tasks() const {
  size_t n = 0;
  for (const auto& [key, set] : sets_)
    if (!set->is_zombie())
      n += set->num_tasks() - std::min(set->num_tasks(), set->succeeded_tasks() + set->running_tasks());
  return n;
}

std::map<std::string, uint32_t> task_scheduler::running_per_executor() const {
  std::map<std::string, uint32_t> out;
  for (const auto& [id, t] : running_)
    ++out[t.executor_id];
  return out;
}

} // namespace ember::scheduler
