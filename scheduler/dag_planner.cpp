#include "scheduler/dag_planner.hpp"

#include <algorithm>
#include <stdexcept>
#include <unordered_set>
#include <utility>

namespace ember::scheduler {

dag_planner::dag_planner(dag_settings settings, std::shared_ptr<map_output_registry> registry)
  : settings_(settings), registry_(std::move(registry)) {
  if (!registry_)
    registry_ = std::make_shared<map_output_registry>();
}

std::vector<operator_info> stage_operators(const lineage_ptr& last) {
  std::vector<operator_info> out;
  std::unordered_set<uint32_t> seen;
  // Iterative post-order: lineage chains can be long. A node is emitted after its parents.
  struct frame {
    const lineage_node* node;
    bool inside; // computed by this stage (false: a shuffle input, shown without parents)
    bool expanded;
  };
  std::vector<frame> stack{{last.get(), true, false}};
  while (!stack.empty()) {
    auto& f = stack.back();
    if (seen.count(f.node->id()) != 0) {
      stack.pop_back();
      continue;
    }
    if (f.inside && !f.expanded) {
      f.expanded = true;
      auto node = f.node;
      for (const auto& p : node->shuffle_parents())
        stack.push_back({p->parent.get(), false, false});
      for (const auto& p : node->narrow_parents())
        stack.push_back({p.get(), true, false});
      continue;
    }
    operator_info op;
    op.id = f.node->id();
    op.name = f.node->name();
    op.num_partitions = f.node->num_partitions();
    if (f.inside) {
      for (const auto& p : f.node->narrow_parents())
        op.parent_ids.push_back(p->id());
      for (const auto& p : f.node->shuffle_parents())
        op.parent_ids.push_back(p->parent->id());
    }
    seen.insert(op.id);
    out.push_back(std::move(op));
    stack.pop_back();
  }
  return out;
}

// -- stage graph ----------------------------------------------------------------

dag_planner::stage_state* dag_planner::find_(uint32_t stage_id) {
  auto it = stages_.find(stage_id);
  return it == stages_.end() ? nullptr : &it->second;
}

uint32_t dag_planner::new_stage_(lineage_ptr rdd, shuffle_dependency_ptr dep, std::vector<uint32_t> parents) {
  uint32_t id = next_stage_id_++;
  auto& s = stages_[id];
  s.id = id;
  s.num_partitions = rdd->num_partitions();
  s.name = rdd->name() + " at stage " + std::to_string(id);
  s.rdd = std::move(rdd);
  s.dep = std::move(dep);
  s.parents = std::move(parents);
  return id;
}

// The map stages directly below `rdd`: walk narrow parents (iteratively: lineage chains can be
// long) and stop at every shuffle dependency.
std::vector<uint32_t> dag_planner::parent_stages_(const lineage_ptr& rdd) {
  std::set<uint32_t> result;
  std::unordered_set<const lineage_node*> visited;
  std::vector<const lineage_node*> stack{rdd.get()};
  while (!stack.empty()) {
    const lineage_node* node = stack.back();
    stack.pop_back();
    if (!visited.insert(node).second)
      continue;
    for (const auto& dep : node->shuffle_parents())
      result.insert(get_or_create_map_stage_(dep));
    for (const auto& parent : node->narrow_parents())
      stack.push_back(parent.get());
  }
  return {result.begin(), result.end()};
}

uint32_t dag_planner::get_or_create_map_stage_(const shuffle_dependency_ptr& dep) {
  if (auto it = shuffle_to_stage_.find(dep->shuffle_id); it != shuffle_to_stage_.end())
    return it->second;
  auto parents = parent_stages_(dep->parent); // ancestors first: they get the lower ids
  uint32_t id = new_stage_(dep->parent, dep, std::move(parents));
  shuffle_to_stage_[dep->shuffle_id] = id;
  registry_->register_shuffle(dep->shuffle_id, dep->parent->num_partitions());
  return id;
}

void dag_planner::collect_job_stages_(uint32_t stage_id, uint32_t job_id, std::set<uint32_t>& seen) {
  if (!seen.insert(stage_id).second)
    return;
  auto& s = stages_.at(stage_id);
  s.job_ids.insert(job_id);
  for (uint32_t p : s.parents)
    collect_job_stages_(p, job_id, seen);
}

bool dag_planner::available_(const stage_state& s) const {
  return s.dep && registry_->is_complete(s.dep->shuffle_id);
}

std::optional<uint32_t> dag_planner::active_job_for_(const stage_state& s) const {
  if (s.job_ids.empty())
    return std::nullopt;
  return *s.job_ids.begin(); // job ids ascend with submission: the earliest job has priority
}

// -- jobs -------------------------------------------------------------------------

job_plan dag_planner::submit_job(lineage_ptr final_rdd, std::vector<uint32_t> partitions, uint32_t job_id) {
  if (jobs_.count(job_id) != 0)
    throw std::logic_error("dag_planner: job id " + std::to_string(job_id) + " submitted twice");
  job_plan plan;
  plan.job_id = job_id;
  if (!final_rdd) {
    job_events_.push_back({job_id, job_event::outcome::failed, "Job " + std::to_string(job_id) + " has no dataset"});
    return plan;
  }
  std::set<uint32_t> distinct;
  for (uint32_t p : partitions) {
    if (p >= final_rdd->num_partitions() || !distinct.insert(p).second) {
      job_events_.push_back({job_id, job_event::outcome::failed,
                             "Job " + std::to_string(job_id) + ": partition " + std::to_string(p) +
                               (p >= final_rdd->num_partitions()
                                  ? " is out of range for " + final_rdd->name() + " with " +
                                      std::to_string(final_rdd->num_partitions()) + " partitions"
                                  : " requested twice")});
      return plan;
    }
  }
  if (partitions.empty()) {
    job_events_.push_back({job_id, job_event::outcome::succeeded, {}});
    return plan;
  }
  auto parents = parent_stages_(final_rdd);
  uint32_t final_id = new_stage_(final_rdd, nullptr, std::move(parents));
  auto& final_stage = stages_.at(final_id);
  final_stage.result_job = job_id;
  auto& job = jobs_[job_id];
  job.id = job_id;
  job.final_stage = final_id;
  job.finished.assign(partitions.size(), false);
  for (size_t i = 0; i < partitions.size(); ++i)
    job.slot.emplace(partitions[i], i);
  job.partitions = std::move(partitions);
  std::set<uint32_t> job_stages;
  collect_job_stages_(final_id, job_id, job_stages);

  // Stages reachable from the final stage through unavailable parents run; the rest are skipped.
  std::set<uint32_t> needed;
  std::vector<uint32_t> stack{final_id};
  while (!stack.empty()) {
    uint32_t id = stack.back();
    stack.pop_back();
    if (!needed.insert(id).second)
      continue;
    for (uint32_t p : stages_.at(id).parents)
      if (!available_(stages_.at(p)))
        stack.push_back(p);
  }
  plan.final_stage_id = final_id;
  plan.stage_ids.assign(job_stages.begin(), job_stages.end());
  for (uint32_t id : job_stages)
    if (needed.count(id) == 0)
      plan.skipped_stage_ids.push_back(id);
  submit_stage_(final_id);
  return plan;
}

bool dag_planner::cancel_job(uint32_t job_id, const std::string& reason) {
  if (jobs_.count(job_id) == 0)
    return false;
  fail_job_(job_id, "Job " + std::to_string(job_id) + " cancelled" + (reason.empty() ? "" : ": " + reason));
  return true;
}

void dag_planner::finish_job_(uint32_t job_id) {
  job_events_.push_back({job_id, job_event::outcome::succeeded, {}});
  detach_job_(job_id);
}

void dag_planner::fail_job_(uint32_t job_id, const std::string& message) {
  job_events_.push_back({job_id, job_event::outcome::failed, message});
  detach_job_(job_id);
}

// Removes the job from its stages. A stage no active job needs stops: a running attempt is
// reported for killing. Map stages stay known (their outputs serve later jobs); result stages go.
void dag_planner::detach_job_(uint32_t job_id) {
  auto job_it = jobs_.find(job_id);
  if (job_it == jobs_.end())
    return;
  jobs_.erase(job_it);
  for (auto it = stages_.begin(); it != stages_.end();) {
    auto& s = it->second;
    if (s.job_ids.erase(job_id) == 0 || !s.job_ids.empty()) {
      ++it;
      continue;
    }
    if (running_.erase(s.id) != 0)
      cancelled_.push_back({s.id, s.next_attempt - 1});
    waiting_.erase(s.id);
    failed_.erase(s.id);
    s.pending.clear();
    if (s.dep)
      ++it;
    else
      it = stages_.erase(it);
  }
}

// -- submission -----------------------------------------------------------------------

void dag_planner::submit_stage_(uint32_t stage_id) {
  auto* s = find_(stage_id);
  if (s == nullptr || !active_job_for_(*s))
    return;
  if (waiting_.count(stage_id) || running_.count(stage_id) || failed_.count(stage_id))
    return;
  std::vector<uint32_t> missing;
  for (uint32_t p : s->parents)
    if (!available_(stages_.at(p)))
      missing.push_back(p);
  if (missing.empty()) {
    submit_missing_tasks_(*s);
    return;
  }
  for (uint32_t p : missing)
    submit_stage_(p);
  waiting_.insert(stage_id);
}

void dag_planner::submit_missing_tasks_(stage_state& s) {
  std::vector<uint32_t> partitions;
  if (s.dep) {
    partitions = registry_->missing_maps(s.dep->shuffle_id);
  } else {
    const auto& job = jobs_.at(*s.result_job);
    for (size_t i = 0; i < job.partitions.size(); ++i)
      if (!job.finished[i])
        partitions.push_back(job.partitions[i]);
  }
  if (partitions.empty()) { // everything arrived meanwhile (late completions)
    if (s.dep) {
      s.failed_attempts.clear();
      submit_waiting_children_(s.id);
    }
    return;
  }
  stage_submission sub;
  sub.stage_id = s.id;
  sub.stage_attempt = s.next_attempt++;
  sub.is_map_stage = static_cast<bool>(s.dep);
  sub.shuffle_dependency = s.dep;
  sub.rdd = s.rdd;
  sub.job_id = *active_job_for_(s);
  sub.name = s.name;
  for (uint32_t p : partitions) {
    sub.preferred_hosts.emplace_back();
    sub.preferred_executors.emplace_back();
    preferred_locations_(s.rdd, p, sub.preferred_hosts.back(), sub.preferred_executors.back());
  }
  s.pending = {partitions.begin(), partitions.end()};
  sub.partitions = std::move(partitions);
  running_.insert(s.id);
  ready_.push_back(std::move(sub));
}

void dag_planner::submit_waiting_children_(uint32_t stage_id) {
  std::vector<std::pair<uint32_t, uint32_t>> children; // (priority job, stage id)
  for (uint32_t id : waiting_) {
    const auto& c = stages_.at(id);
    if (std::find(c.parents.begin(), c.parents.end(), stage_id) != c.parents.end())
      children.emplace_back(active_job_for_(c).value_or(UINT32_MAX), id);
  }
  std::sort(children.begin(), children.end());
  for (auto& [job, id] : children) {
    waiting_.erase(id);
    submit_stage_(id);
  }
}

void dag_planner::stage_finished_(stage_state& s) {
  running_.erase(s.id);
  if (available_(s)) {
    s.failed_attempts.clear();
    submit_waiting_children_(s.id);
  } else {
    submit_stage_(s.id); // outputs were lost while it ran: a new attempt for the missing maps
  }
}

void dag_planner::preferred_locations_(const lineage_ptr& rdd, uint32_t partition, std::vector<std::string>& hosts,
                                       std::vector<std::string>& executors) const {
  const lineage_node* node = rdd.get();
  while (node != nullptr) {
    if (cache_locator_) {
      auto cached = cache_locator_(node->id(), partition);
      if (!cached.empty()) {
        for (auto& loc : cached) {
          executors.push_back(loc.executor_id);
          if (std::find(hosts.begin(), hosts.end(), loc.host) == hosts.end())
            hosts.push_back(loc.host);
        }
        return;
      }
    }
    if (auto h = node->preferred_hosts(partition); !h.empty()) {
      hosts = std::move(h);
      return;
    }
    if (node->narrow_parents().empty() && node->shuffle_parents().size() == 1) {
      const auto& dep = *node->shuffle_parents().front();
      if (dep.parent->num_partitions() < settings_.reducer_locality_max_partitions &&
          dep.num_reduce_partitions < settings_.reducer_locality_max_partitions)
        hosts = registry_->hosts_with_largest_outputs(dep.shuffle_id, partition, settings_.reducer_locality_fraction);
      return;
    }
    // Without a partition mapping in the lineage, only a single same-sized narrow parent is
    // known to be one-to-one.
    if (node->shuffle_parents().empty() && node->narrow_parents().size() == 1 &&
        node->narrow_parents().front()->num_partitions() == node->num_partitions())
      node = node->narrow_parents().front().get();
    else
      return;
  }
}

// -- events -------------------------------------------------------------------------------

bool dag_planner::map_task_completed(uint32_t stage_id, uint32_t, uint32_t partition, map_status status) {
  auto* s = find_(stage_id);
  if (s == nullptr || !s->dep || partition >= s->num_partitions)
    return false;
  status.shuffle_id = s->dep->shuffle_id;
  status.map_id = partition;
  // An executor already declared lost may report a task it finished before dying: its files
  // are gone with it, so the output is not registered (Spark's "possibly bogus" completion).
  bool registered = lost_executors_.count(status.executor_id) == 0 && registry_->register_output(std::move(status));
  // Any attempt's output satisfies the partition; pending is a set, so nothing counts twice.
  s->pending.erase(partition);
  if (running_.count(stage_id) != 0 && s->pending.empty())
    stage_finished_(*s);
  return registered;
}

void dag_planner::map_task_resubmitted(uint32_t stage_id, uint32_t stage_attempt, uint32_t partition) {
  auto* s = find_(stage_id);
  if (s != nullptr && s->dep && running_.count(stage_id) != 0 && stage_attempt + 1 == s->next_attempt)
    s->pending.insert(partition);
}

bool dag_planner::result_task_completed(uint32_t stage_id, uint32_t, uint32_t partition) {
  auto* s = find_(stage_id);
  if (s == nullptr || !s->result_job)
    return false;
  auto job_it = jobs_.find(*s->result_job);
  if (job_it == jobs_.end())
    return false;
  auto& job = job_it->second;
  auto pos = job.slot.find(partition);
  if (pos == job.slot.end())
    return false;
  auto idx = pos->second;
  if (job.finished[idx])
    return false;
  job.finished[idx] = true;
  ++job.num_finished;
  s->pending.erase(partition);
  if (job.num_finished == job.partitions.size()) {
    running_.erase(stage_id);
    finish_job_(job.id);
  }
  return true;
}

void dag_planner::abort_stage_(stage_state& s, const std::string& reason) {
  std::vector<uint32_t> jobs(s.job_ids.begin(), s.job_ids.end());
  for (uint32_t j : jobs)
    fail_job_(j, "Job " + std::to_string(j) + " aborted due to stage failure: " + reason);
}

void dag_planner::task_set_failed(uint32_t stage_id, uint32_t stage_attempt, const std::string& reason) {
  auto* s = find_(stage_id);
  if (s == nullptr || stage_attempt + 1 != s->next_attempt)
    return; // an older attempt's task set: that attempt is already dead
  abort_stage_(*s, reason);
}

fetch_failure_outcome dag_planner::fetch_failed(uint32_t stage_id, uint32_t stage_attempt, uint32_t shuffle_id,
                                                std::optional<uint32_t> map_id, const std::string& executor_id,
                                                const std::string& message, bool corrupt_block) {
  fetch_failure_outcome out;
  auto* s = find_(stage_id);
  auto map_stage = shuffle_to_stage_.find(shuffle_id);
  if (s == nullptr || map_stage == shuffle_to_stage_.end() || stage_attempt + 1 != s->next_attempt) {
    out.ignored = true;
    return out;
  }
  // The output is unusable whatever else happens; with no shuffle service, so is everything else
  // that executor wrote — unless the block was merely corrupt: its holder is alive and serving,
  // and its other outputs stay (a bad one among them fails its own reader in turn).
  if (map_id)
    registry_->unregister_output(shuffle_id, *map_id, executor_id.empty() ? nullptr : &executor_id);
  if (!executor_id.empty() && !corrupt_block)
    registry_->remove_outputs_on_executor(executor_id);
  if (!s->failed_attempts.insert(stage_attempt).second) {
    out.duplicate = true;
    return out;
  }
  running_.erase(stage_id); // this attempt is dead; its remaining tasks may still report
  s->pending.clear();
  if (static_cast<int>(s->failed_attempts.size()) >= settings_.max_consecutive_attempts) {
    abort_stage_(*s, "Stage " + std::to_string(stage_id) + " (" + s->name +
                       ") has failed the maximum allowable number of times: " +
                       std::to_string(settings_.max_consecutive_attempts) + ". Most recent failure reason: " + message);
    out.aborted = true;
    return out;
  }
  out.resubmit_needed = failed_.empty();
  failed_.insert(stage_id);
  failed_.insert(map_stage->second);
  return out;
}

void dag_planner::resubmit_failed_stages() {
  std::vector<std::pair<uint32_t, uint32_t>> order; // (priority job, stage id)
  for (uint32_t id : failed_)
    if (auto* s = find_(id))
      order.emplace_back(active_job_for_(*s).value_or(UINT32_MAX), id);
  failed_.clear();
  std::sort(order.begin(), order.end());
  for (auto& [job, id] : order)
    submit_stage_(id);
}

std::vector<uint32_t> dag_planner::executor_lost(const std::string& executor_id, const std::string& host,
                                                 bool host_lost) {
  lost_executors_.insert(executor_id);
  auto removed = host_lost ? registry_->remove_outputs_on_host(host) : registry_->remove_outputs_on_executor(executor_id);
  std::set<uint32_t> shuffles;
  for (const auto& st : removed)
    shuffles.insert(st.shuffle_id);
  return {shuffles.begin(), shuffles.end()};
}

// -- results --------------------------------------------------------------------------------

std::vector<stage_submission> dag_planner::take_ready_stages() {
  return std::exchange(ready_, {});
}

std::vector<job_event> dag_planner::take_job_events() {
  return std::exchange(job_events_, {});
}

std::vector<stage_ref> dag_planner::take_cancelled_stages() {
  return std::exchange(cancelled_, {});
}

std::optional<dag_planner::stage_view> dag_planner::stage(uint32_t stage_id) const {
  auto it = stages_.find(stage_id);
  if (it == stages_.end())
    return std::nullopt;
  const auto& s = it->second;
  stage_view v;
  v.id = s.id;
  v.name = s.name;
  v.is_map_stage = static_cast<bool>(s.dep);
  v.num_partitions = s.num_partitions;
  v.parents = s.parents;
  if (s.dep)
    v.shuffle_id = s.dep->shuffle_id;
  v.latest_attempt = s.next_attempt;
  v.running = running_.count(s.id) != 0;
  v.waiting = waiting_.count(s.id) != 0;
  v.failed = failed_.count(s.id) != 0;
  return v;
}

std::optional<uint32_t> dag_planner::stage_for_shuffle(uint32_t shuffle_id) const {
  auto it = shuffle_to_stage_.find(shuffle_id);
  if (it == shuffle_to_stage_.end())
    return std::nullopt;
  return it->second;
}

} // namespace ember::scheduler
