#include "scheduler/task_scheduler.hpp"

#include <algorithm>
#include <utility>

namespace ember::scheduler {

task_scheduler::task_scheduler(task_scheduler_settings settings)
  : settings_(settings),
    executors_(std::make_shared<executor_table>()),
    ids_(std::make_shared<task_id_allocator>()) {
  if (settings_.cpus_per_task == 0)
    settings_.cpus_per_task = 1;
}

// -- executors ------------------------------------------------------------------------

bool task_scheduler::add_executor(const std::string& id, const std::string& host, const std::string& rack,
                                  uint32_t cores) {
  if (!executors_->add({id, host, rack, cores, cores}))
    return false;
  for (auto& [key, set] : sets_)
    set->executors_changed();
  return true;
}

executor_removal task_scheduler::remove_executor(const std::string& id, const std::string& reason,
                                                 bool outputs_lost) {
  executor_removal out;
  out.reason = reason;
  auto info = executors_->remove(id);
  if (!info)
    return out;
  out.known = true;
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
  for (auto it = sets_.begin(); it != sets_.end();)
    it = it->second->is_finished() ? sets_.erase(it) : std::next(it);
}

// -- scheduling -------------------------------------------------------------------------

offer_result task_scheduler::offers(clock_time now) {
  offer_result out;
  prune_();
  for (auto& [key, set] : sets_) {
    size_t launched_before = out.launches.size();
    const auto levels = set->valid_levels();
    for (auto level : levels) {
      bool launched = true;
      while (launched) {
        launched = false;
        for (const auto& id : executors_->order()) {
          auto* exec = executors_->find(id);
          if (exec->free_cores < settings_.cpus_per_task)
            continue;
          auto launch = set->resource_offer(exec->id, exec->host, exec->rack, level, now);
          if (!launch)
            continue;
          exec->free_cores -= settings_.cpus_per_task;
          running_[launch->task_id] = {key, exec->id};
          out.launches.push_back(std::move(*launch));
          launched = true;
        }
      }
    }
    if (out.launches.size() == launched_before && set->has_pending_tasks())
      if (auto message = set->check_completely_excluded())
        out.aborted.push_back({set->stage_id(), set->stage_attempt(), *message});
  }
  prune_();
  return out;
}

status_outcome task_scheduler::status_update(const task_status& status, clock_time now) {
  status_outcome out;
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
    case task_state::finished: r = set.task_succeeded(status.task_id, status.attempt, now); break;
    case task_state::failed: r = set.task_failed(status.task_id, status.attempt, status.reason, status.counts); break;
    case task_state::killed: r = set.task_killed(status.task_id, status.attempt, status.reason); break;
    case task_state::fetch_failed: r = set.task_fetch_failed(status.task_id, status.attempt, status.reason); break;
  }
  static_cast<task_outcome&>(out) = std::move(r);
  out.stage_id = set.stage_id();
  out.stage_attempt = set.stage_attempt();
  out.job_id = set.submission().job_id;
  out.is_map_stage = set.submission().is_map_stage;
  if (out.released) {
    if (auto* exec = executors_->find(it->second.executor_id))
      exec->free_cores += settings_.cpus_per_task;
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

bool task_scheduler::check_speculation(clock_time now) {
  bool any = false;
  for (auto& [key, set] : sets_)
    any = !set->speculatable_tasks(now).empty() || any;
  return any;
}

} // namespace ember::scheduler
