#include "ui/app_store.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <set>

namespace ember::ui {

using nlohmann::json;

std::string rest_time(uint64_t epoch_ms) {
  std::time_t secs = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[64];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03uGMT", static_cast<unsigned>(epoch_ms % 1000));
  return buf;
}

namespace {

uint64_t now_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count());
}

std::string text(capnp::Text::Reader t) { return {t.cStr(), t.size()}; }
std::string_view view(capnp::Text::Reader t) { return {t.cStr(), t.size()}; }

std::vector<uint32_t> ids(capnp::List<uint32_t>::Reader list) {
  std::vector<uint32_t> out;
  out.reserve(list.size());
  for (auto v : list)
    out.push_back(v);
  return out;
}

uint64_t task_key(uint64_t task_id, uint32_t attempt) { return (task_id << 16) | (attempt & 0xffffu); }

const char* locality_name(proto::Locality l) {
  switch (l) {
    case proto::Locality::PROCESS_LOCAL: return "PROCESS_LOCAL";
    case proto::Locality::NODE_LOCAL: return "NODE_LOCAL";
    case proto::Locality::RACK_LOCAL: return "RACK_LOCAL";
    case proto::Locality::ANY: return "ANY";
    case proto::Locality::NO_PREF: return "NO_PREF";
  }
  return "ANY";
}

// Spark's task states as the REST API spells them; an attempt lost with its executor is FAILED
// there (ExecutorLostFailure), and so here.
const char* task_status(proto::TaskState s) {
  switch (s) {
    case proto::TaskState::LAUNCHING:
    case proto::TaskState::RUNNING: return "RUNNING";
    case proto::TaskState::FINISHED: return "SUCCESS";
    case proto::TaskState::FAILED:
    case proto::TaskState::LOST: return "FAILED";
    case proto::TaskState::KILLED: return "KILLED";
  }
  return "RUNNING";
}

const char* loss_cause(proto::ExecutorLossCause c) {
  switch (c) {
    case proto::ExecutorLossCause::EXIT_CODE: return "exited";
    case proto::ExecutorLossCause::SIGNAL: return "killed by a signal";
    case proto::ExecutorLossCause::MEMORY_LIMIT: return "exceeded its memory limit";
    case proto::ExecutorLossCause::HEARTBEAT_TIMEOUT: return "heartbeat timed out";
    case proto::ExecutorLossCause::CONNECTION_LOST: return "connection lost";
    case proto::ExecutorLossCause::KILLED_BY_DRIVER: return "released by the driver";
    case proto::ExecutorLossCause::WORKER_LOST: return "worker lost";
  }
  return "lost";
}

std::string upper(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

json metric_fields(const metric_totals& m) {
  return {
    {"executorRunTime", m.run_time_ms},
    {"executorCpuTime", m.cpu_time_ns},
    {"executorDeserializeTime", m.deserialize_ms},
    {"resultSize", m.result_size},
    {"jvmGcTime", 0},
    {"inputBytes", m.input_bytes},
    {"inputRecords", m.input_records},
    {"outputBytes", m.output_bytes},
    {"outputRecords", m.output_records},
    {"shuffleRemoteBlocksFetched", m.shuffle_remote_blocks},
    {"shuffleLocalBlocksFetched", m.shuffle_local_blocks},
    {"shuffleFetchWaitTime", m.shuffle_fetch_wait_ms},
    {"shuffleRemoteBytesRead", m.shuffle_remote_bytes},
    {"shuffleLocalBytesRead", m.shuffle_local_bytes},
    {"shuffleReadBytes", m.shuffle_read_bytes},
    {"shuffleReadRecords", m.shuffle_read_records},
    {"shuffleWriteBytes", m.shuffle_write_bytes},
    {"shuffleWriteTime", m.shuffle_write_time_ns},
    {"shuffleWriteRecords", m.shuffle_write_records},
    {"memoryBytesSpilled", m.memory_spilled},
    {"diskBytesSpilled", m.disk_spilled},
  };
}

}  // namespace

void metric_totals::add(proto::TaskMetrics::Reader m) {
  run_time_ms += m.getExecutorRunTimeNs() / 1'000'000;
  cpu_time_ns += m.getExecutorCpuTimeNs();
  deserialize_ms += m.getDeserializeTimeNs() / 1'000'000;
  result_size += m.getResultSize();
  input_bytes += m.getInputBytes();
  input_records += m.getInputRecords();
  output_bytes += m.getOutputBytes();
  output_records += m.getOutputRecords();
  shuffle_remote_bytes += m.getShuffleReadRemoteBytes();
  shuffle_local_bytes += m.getShuffleReadLocalBytes();
  shuffle_read_bytes += m.getShuffleReadRemoteBytes() + m.getShuffleReadLocalBytes();
  shuffle_read_records += m.getShuffleReadRecords();
  shuffle_remote_blocks += m.getShuffleRemoteBlocksFetched();
  shuffle_local_blocks += m.getShuffleLocalBlocksFetched();
  shuffle_fetch_wait_ms += m.getShuffleFetchWaitNs() / 1'000'000;
  shuffle_write_bytes += m.getShuffleWriteBytes();
  shuffle_write_records += m.getShuffleWriteRecords();
  shuffle_write_time_ns += m.getShuffleWriteTimeNs();
  memory_spilled += m.getMemoryBytesSpilled();
  disk_spilled += m.getDiskBytesSpilled();
}

metric_totals& metric_totals::operator+=(const metric_totals& o) {
  run_time_ms += o.run_time_ms;
  cpu_time_ns += o.cpu_time_ns;
  deserialize_ms += o.deserialize_ms;
  result_size += o.result_size;
  input_bytes += o.input_bytes;
  input_records += o.input_records;
  output_bytes += o.output_bytes;
  output_records += o.output_records;
  shuffle_read_bytes += o.shuffle_read_bytes;
  shuffle_read_records += o.shuffle_read_records;
  shuffle_remote_bytes += o.shuffle_remote_bytes;
  shuffle_local_bytes += o.shuffle_local_bytes;
  shuffle_remote_blocks += o.shuffle_remote_blocks;
  shuffle_local_blocks += o.shuffle_local_blocks;
  shuffle_fetch_wait_ms += o.shuffle_fetch_wait_ms;
  shuffle_write_bytes += o.shuffle_write_bytes;
  shuffle_write_records += o.shuffle_write_records;
  shuffle_write_time_ns += o.shuffle_write_time_ns;
  memory_spilled += o.memory_spilled;
  disk_spilled += o.disk_spilled;
  return *this;
}

// -- applying events ---------------------------------------------------------------------------

void app_store::apply(proto::ListenerEvent::Reader ev) {
  switch (ev.which()) {
    case proto::ListenerEvent::APPLICATION_START: {
      auto e = ev.getApplicationStart();
      app_.id = text(e.getAppId());
      app_.name = text(e.getAppName());
      app_.user = text(e.getUser());
      app_.start = e.getTime();
      last_updated_ = std::max(last_updated_, e.getTime());
      break;
    }
    case proto::ListenerEvent::APPLICATION_END: {
      auto e = ev.getApplicationEnd();
      app_.end = std::max<uint64_t>(e.getTime(), 1);
      last_updated_ = std::max(last_updated_, e.getTime());
      break;
    }
    case proto::ListenerEvent::ENVIRONMENT_UPDATE: {
      auto e = ev.getEnvironmentUpdate();
      properties_.clear();
      origins_.clear();
      for (auto p : e.getProperties()) {
        properties_.emplace_back(text(p.getName()), text(p.getValue()));
        origins_.push_back(text(p.getOrigin()));
      }
      system_.clear();
      for (auto p : e.getSystem())
        system_.emplace_back(text(p.getName()), text(p.getValue()));
      break;
    }
    case proto::ListenerEvent::JOB_START: on_job_start(ev.getJobStart()); break;
    case proto::ListenerEvent::JOB_END: on_job_end(ev.getJobEnd()); break;
    case proto::ListenerEvent::STAGE_SUBMITTED: on_stage_submitted(ev.getStageSubmitted()); break;
    case proto::ListenerEvent::STAGE_COMPLETED: on_stage_completed(ev.getStageCompleted()); break;
    case proto::ListenerEvent::TASK_START: on_task_start(ev.getTaskStart()); break;
    case proto::ListenerEvent::TASK_END: on_task_end(ev.getTaskEnd()); break;
    case proto::ListenerEvent::EXECUTOR_ADDED: on_executor_added(ev.getExecutorAdded()); break;
    case proto::ListenerEvent::EXECUTOR_REMOVED: on_executor_removed(ev.getExecutorRemoved()); break;
    case proto::ListenerEvent::EXECUTOR_METRICS_UPDATE: on_metrics_update(ev.getExecutorMetricsUpdate()); break;
    case proto::ListenerEvent::BLOCK_UPDATED: on_block_updated(ev.getBlockUpdated()); break;
    case proto::ListenerEvent::UNPERSIST_RDD:
      rdds_.erase(ev.getUnpersistRdd().getRddId());
      last_updated_ = std::max(last_updated_, ev.getUnpersistRdd().getTime());
      break;
  }
}

uint32_t app_store::intern(std::string_view name) {
  if (auto it = name_index_.find(name); it != name_index_.end())
    return it->second;
  auto index = static_cast<uint32_t>(names_.size());
  names_.emplace_back(name);
  name_index_.emplace(names_.back(), index);
  return index;
}

template <class F>
void app_store::for_each_job_of_stage(uint32_t stage_id, F&& f) {
  auto [from, to] = stage_jobs_.equal_range(stage_id);
  for (auto it = from; it != to; ++it)
    if (auto j = jobs_.find(it->second); j != jobs_.end())
      f(j->second);
}

void app_store::on_job_start(proto::JobStartEvent::Reader e) {
  auto& j = jobs_[e.getJobId()];
  j.id = e.getJobId();
  j.description = text(e.getDescription());
  j.submitted = e.getTime();
  last_updated_ = std::max(last_updated_, j.submitted);
  std::unordered_map<uint32_t, proto::StageInfo::Reader> infos;
  for (auto info : e.getStageInfos())
    infos.emplace(info.getStageId(), info);
  // Spark's job counts every task of its stages from the start, skipped ones included.
  j.planned = infos.size() > 0;
  for (auto id : e.getStageIds()) {
    j.stage_ids.push_back(id);
    stage_jobs_.emplace(id, j.id);
    auto info = infos.find(id);
    if (info != infos.end())
      j.tasks += info->second.getNumTasks();
    // Spark lists a job's stages as PENDING until they run, SKIPPED if they never need to.
    bool known = false;
    for (auto it = stages_.lower_bound({id, 0}); it != stages_.end() && it->first.first == id; ++it)
      known = true;
    if (!known) {
      auto& s = stages_[{id, 0}];
      s.id = id;
      if (info != infos.end()) {
        s.name = text(info->second.getName());
        s.num_tasks = info->second.getNumTasks();
      }
    }
  }
  ++totals_.jobs_active;
}

void app_store::on_job_end(proto::JobEndEvent::Reader e) {
  auto it = jobs_.find(e.getJobId());
  last_updated_ = std::max(last_updated_, e.getTime());
  if (it == jobs_.end() || it->second.status != job_rec::state::running)
    return;
  auto& j = it->second;
  j.completed = e.getTime();
  if (e.getResult().isOk()) {
    j.status = job_rec::state::succeeded;
    ++totals_.jobs_succeeded;
  } else {
    j.status = job_rec::state::failed;
    j.error = text(e.getResult().getError());
    ++totals_.jobs_failed;
  }
  if (totals_.jobs_active > 0)
    --totals_.jobs_active;
  for (auto id : j.stage_ids) {
    auto s = stages_.find({id, 0});
    bool only_pending = s != stages_.end() && s->second.status == stage_rec::state::pending;
    if (only_pending && std::next(s) != stages_.end() && std::next(s)->first.first == id)
      only_pending = false;
    if (only_pending) {
      s->second.status = stage_rec::state::skipped;
      ++j.stages_skipped;
      j.skipped_tasks += s->second.num_tasks;
    }
    auto [from, to] = stage_jobs_.equal_range(id);
    for (auto k = from; k != to;)
      k = k->second == j.id ? stage_jobs_.erase(k) : std::next(k);
  }
  j.active = 0;
  j.stages_active = 0;
  evict_jobs();
  evict_stages();
}

void app_store::on_stage_submitted(proto::StageSubmittedEvent::Reader e) {
  auto& s = stages_[{e.getStageId(), e.getAttempt()}];
  s.id = e.getStageId();
  s.attempt = e.getAttempt();
  s.status = stage_rec::state::active;
  s.num_tasks = e.getNumTasks();
  s.name = text(e.getName());
  s.submitted = e.getTime();
  last_updated_ = std::max(last_updated_, s.submitted);
  s.parents = ids(e.getParentIds());
  s.operators.clear();
  for (auto op : e.getOperators()) {
    operator_rec r;
    r.id = op.getId();
    r.name = text(op.getName());
    r.partitions = op.getNumPartitions();
    r.parents = ids(op.getParentIds());
    rdd_names_[r.id] = {r.name, r.partitions};
    s.operators.push_back(std::move(r));
  }
  ++totals_.stages_active;
  for_each_job_of_stage(s.id, [&](job_rec& j) {
    if (!j.planned)
      j.tasks += s.num_tasks;
    ++j.stages_active;
  });
}

void app_store::on_stage_completed(proto::StageCompletedEvent::Reader e) {
  auto it = stages_.find({e.getStageId(), e.getAttempt()});
  last_updated_ = std::max(last_updated_, e.getCompletionTime());
  if (it == stages_.end() || it->second.status != stage_rec::state::active)
    return;
  auto& s = it->second;
  s.completed = e.getCompletionTime();
  s.failure = text(e.getFailureReason());
  bool ok = s.failure.empty();
  s.status = ok ? stage_rec::state::complete : stage_rec::state::failed;
  if (totals_.stages_active > 0)
    --totals_.stages_active;
  ++(ok ? totals_.stages_completed : totals_.stages_failed);
  for_each_job_of_stage(s.id, [&](job_rec& j) {
    if (j.stages_active > 0)
      --j.stages_active;
    ++(ok ? j.stages_done : j.stages_failed);
  });
  evict_stages();
}

void app_store::on_task_start(proto::TaskStartEvent::Reader e) {
  last_updated_ = std::max(last_updated_, e.getLaunchTime());
  ++totals_.tasks_active;
  auto exec_id = view(e.getExecutorId());
  if (auto x = executors_.find(exec_id); x != executors_.end())
    ++x->second.active;
  for_each_job_of_stage(e.getStageId(), [](job_rec& j) { ++j.active; });
  auto it = stages_.find({e.getStageId(), e.getStageAttempt()});
  if (it == stages_.end())
    return;
  auto& s = it->second;
  ++s.active;
  if (s.first_launch == 0 || e.getLaunchTime() < s.first_launch)
    s.first_launch = e.getLaunchTime();
  task_rec t;
  t.task_id = e.getTaskId();
  t.attempt = e.getAttempt();
  t.partition = e.getPartition();
  t.executor = intern(exec_id);
  t.host = intern(view(e.getHost()));
  t.locality = e.getLocality();
  t.speculative = e.getSpeculative();
  t.launch = e.getLaunchTime();
  s.index[task_key(t.task_id, t.attempt)] = s.dropped + s.tasks.size();
  s.tasks.push_back(std::move(t));
  while (s.tasks.size() > limits_.tasks) {
    s.index.erase(task_key(s.tasks.front().task_id, s.tasks.front().attempt));
    s.tasks.pop_front();
    ++s.dropped;
  }
}

void app_store::on_task_end(proto::TaskEndEvent::Reader e) {
  last_updated_ = std::max(last_updated_, e.getFinishTime());
  auto state = e.getState();
  bool ok = state == proto::TaskState::FINISHED;
  bool killed = state == proto::TaskState::KILLED;
  uint64_t duration = e.getFinishTime() > e.getLaunchTime() ? e.getFinishTime() - e.getLaunchTime() : 0;
  // Read once: this runs on the listener bus for every task (docs/monitoring.md, the cost).
  metric_totals m;
  if (e.hasMetrics())
    m.add(e.getMetrics());

  if (totals_.tasks_active > 0)
    --totals_.tasks_active;
  ++(ok ? totals_.tasks_succeeded
        : killed ? totals_.tasks_killed
                 : state == proto::TaskState::LOST ? totals_.tasks_lost : totals_.tasks_failed);
  totals_.task_run_time_ms += m.run_time_ms;
  totals_.task_cpu_time_ns += m.cpu_time_ns;
  totals_.shuffle_read_bytes += m.shuffle_read_bytes;
  totals_.shuffle_write_bytes += m.shuffle_write_bytes;
  totals_.input_bytes += m.input_bytes;
  totals_.output_bytes += m.output_bytes;
  totals_.memory_spilled += m.memory_spilled;
  totals_.disk_spilled += m.disk_spilled;

  auto exec_id = view(e.getExecutorId());
  if (auto x = executors_.find(exec_id); x != executors_.end()) {
    auto& ex = x->second;
    if (ex.active > 0)
      --ex.active;
    ++(ok ? ex.completed : ex.failed);
    ex.duration_ms += duration;
    ex.metrics += m;
  }
  for_each_job_of_stage(e.getStageId(), [&](job_rec& j) {
    if (j.active > 0)
      --j.active;
    ++(ok ? j.done : killed ? j.killed : j.failed);
  });
  auto it = stages_.find({e.getStageId(), e.getStageAttempt()});
  if (it == stages_.end())
    return;
  auto& s = it->second;
  if (s.active > 0)
    --s.active;
  ++(ok ? s.done : killed ? s.killed : s.failed);
  s.metrics += m;
  auto es_it = s.by_executor.find(exec_id);
  if (es_it == s.by_executor.end())
    es_it = s.by_executor.emplace(std::string(exec_id), executor_summary{}).first;
  auto& es = es_it->second;
  es.task_time += duration;
  ++(ok ? es.succeeded : killed ? es.killed : es.failed);
  es.metrics += m;
  if (auto i = s.index.find(task_key(e.getTaskId(), e.getAttempt())); i != s.index.end()) {
    auto& t = s.tasks[i->second - s.dropped];
    t.state = state;
    t.finish = e.getFinishTime();
    t.metrics = m;
    if (!ok) {
      t.error = text(e.getReason());
      if (t.error.empty() && e.hasError())
        t.error = text(e.getError().getKind()) + ": " + text(e.getError().getMessage());
    }
  }
}

void app_store::on_executor_added(proto::ExecutorAddedEvent::Reader e) {
  auto id = text(e.getExecutorId());
  auto& x = executors_[id];
  bool was_active = x.added != 0 && x.removed == 0;
  x.id = id;
  x.host = text(e.getHost());
  x.worker = text(e.getWorkerId());
  x.cores = e.getCores();
  x.max_memory = e.getMaxMemory();
  x.added = e.getTime();
  x.removed = 0;
  x.remove_reason.clear();
  last_updated_ = std::max(last_updated_, x.added);
  if (!was_active)
    ++totals_.executors_active;
}

void app_store::on_executor_removed(proto::ExecutorRemovedEvent::Reader e) {
  last_updated_ = std::max(last_updated_, e.getTime());
  auto it = executors_.find(text(e.getExecutorId()));
  if (it == executors_.end() || it->second.removed != 0)
    return;
  auto& x = it->second;
  x.removed = std::max<uint64_t>(e.getTime(), 1);
  x.remove_reason = loss_cause(e.getCause());
  if (e.getMessage().size() > 0)
    x.remove_reason += ": " + text(e.getMessage());
  x.active = 0;
  // Its cached partitions went with it.
  for (auto r = rdds_.begin(); r != rdds_.end();) {
    std::erase_if(r->second.blocks, [&](const auto& b) { return b.first.second == x.id; });
    r = r->second.blocks.empty() ? rdds_.erase(r) : std::next(r);
  }
  if (totals_.executors_active > 0)
    --totals_.executors_active;
  ++totals_.executors_removed;
}

void app_store::on_metrics_update(proto::ExecutorMetricsUpdateEvent::Reader e) {
  last_updated_ = std::max(last_updated_, e.getTime());
  if (auto it = executors_.find(view(e.getExecutorId())); it != executors_.end())
    it->second.last_heartbeat = e.getTime();
}

namespace {

// Spark's StorageLevel.description: "Memory Deserialized 1x Replicated".
std::string level_description(proto::StorageLevel::Reader l) {
  std::string out;
  if (l.getUseDisk())
    out += "Disk ";
  if (l.getUseMemory())
    out += "Memory ";
  out += l.getDeserialized() ? "Deserialized " : "Serialized ";
  out += std::to_string(l.getReplication()) + "x Replicated";
  return out;
}

}  // namespace

void app_store::on_block_updated(proto::BlockUpdatedEvent::Reader e) {
  last_updated_ = std::max(last_updated_, e.getTime());
  std::pair<uint32_t, std::string> key{e.getPartition(), text(e.getExecutorId())};
  if (e.getMemSize() == 0 && e.getDiskSize() == 0) {
    if (auto r = rdds_.find(e.getRddId()); r != rdds_.end()) {
      r->second.blocks.erase(key);
      if (r->second.blocks.empty())
        rdds_.erase(r);
    }
    return;
  }
  auto& r = rdds_[e.getRddId()];
  r.id = e.getRddId();
  r.level = level_description(e.getLevel());
  r.blocks[key] = {e.getMemSize(), e.getDiskSize()};
}

// Drops the oldest finished jobs past the limit; running jobs are never dropped.
void app_store::evict_jobs() {
  for (auto it = jobs_.begin(); jobs_.size() > limits_.jobs && it != jobs_.end();)
    it = it->second.status != job_rec::state::running ? jobs_.erase(it) : std::next(it);
}

void app_store::evict_stages() {
  auto finished = [](const stage_rec& s) {
    return s.status == stage_rec::state::complete || s.status == stage_rec::state::failed
           || s.status == stage_rec::state::skipped;
  };
  for (auto it = stages_.begin(); stages_.size() > limits_.stages && it != stages_.end();)
    it = finished(it->second) ? stages_.erase(it) : std::next(it);
}

std::size_t app_store::retained_tasks() const {
  std::size_t n = 0;
  for (const auto& [key, s] : stages_)
    n += s.tasks.size();
  return n;
}

// -- views -------------------------------------------------------------------------------------

json app_store::application() const {
  auto end = app_.end;
  json attempt = {
    {"startTime", rest_time(app_.start)},
    {"endTime", end != 0 ? rest_time(end) : "1969-12-31T23:59:59.999GMT"},
    {"lastUpdated", rest_time(last_updated_)},
    {"duration", end != 0 ? end - app_.start : (now_ms() > app_.start ? now_ms() - app_.start : 0)},
    {"sparkUser", app_.user},
    {"completed", end != 0},
    {"appSparkVersion", ""},
    {"startTimeEpoch", app_.start},
    {"endTimeEpoch", end != 0 ? static_cast<int64_t>(end) : -1},
    {"lastUpdatedEpoch", last_updated_},
  };
  return {{"id", app_.id}, {"name", app_.name}, {"attempts", json::array({attempt})}};
}

json app_store::job_json(const job_rec& j) const {
  static const char* names[] = {"RUNNING", "SUCCEEDED", "FAILED"};
  json out = {
    {"jobId", j.id},
    {"name", j.description},
    {"description", j.description},
    {"submissionTime", rest_time(j.submitted)},
    {"stageIds", j.stage_ids},
    {"status", names[static_cast<int>(j.status)]},
    {"numTasks", j.tasks},
    {"numActiveTasks", j.active},
    {"numCompletedTasks", j.done},
    {"numSkippedTasks", j.skipped_tasks},
    {"numFailedTasks", j.failed},
    {"numKilledTasks", j.killed},
    {"numCompletedIndices", std::min(j.done, j.tasks - std::min(j.tasks, j.skipped_tasks))},
    {"numActiveStages", j.stages_active},
    {"numCompletedStages", j.stages_done},
    {"numSkippedStages", j.stages_skipped},
    {"numFailedStages", j.stages_failed},
    {"killedTasksSummary", json::object()},
  };
  if (j.completed != 0)
    out["completionTime"] = rest_time(j.completed);
  if (!j.error.empty())
    out["failureReason"] = j.error;
  return out;
}

json app_store::jobs(const std::string& status) const {
  auto want = upper(status);
  json out = json::array();
  for (auto it = jobs_.rbegin(); it != jobs_.rend(); ++it) {
    auto j = job_json(it->second);
    if (want.empty() || j["status"] == want)
      out.push_back(std::move(j));
  }
  return out;
}

std::optional<json> app_store::job(uint32_t id) const {
  auto it = jobs_.find(id);
  if (it == jobs_.end())
    return std::nullopt;
  return job_json(it->second);
}

json app_store::stage_json(const stage_rec& s, bool details) const {
  static const char* names[] = {"PENDING", "ACTIVE", "COMPLETE", "FAILED", "SKIPPED"};
  json out = {
    {"status", names[static_cast<int>(s.status)]},
    {"stageId", s.id},
    {"attemptId", s.attempt},
    {"numTasks", s.num_tasks},
    {"numActiveTasks", s.active},
    {"numCompleteTasks", s.done},
    {"numFailedTasks", s.failed},
    {"numKilledTasks", s.killed},
    {"numCompletedIndices", std::min<uint64_t>(s.done, s.num_tasks)},
    {"name", s.name},
    {"details", ""},
    {"schedulingPool", "default"},
    {"parentIds", s.parents},
    {"rddIds", json::array()},
    {"accumulatorUpdates", json::array()},
  };
  out.update(metric_fields(s.metrics));
  if (s.submitted != 0)
    out["submissionTime"] = rest_time(s.submitted);
  if (s.first_launch != 0)
    out["firstTaskLaunchedTime"] = rest_time(s.first_launch);
  if (s.completed != 0)
    out["completionTime"] = rest_time(s.completed);
  if (!s.failure.empty())
    out["failureReason"] = s.failure;
  json ops = json::array();
  for (const auto& op : s.operators) {
    out["rddIds"].push_back(op.id);
    ops.push_back({{"id", op.id}, {"name", op.name}, {"numPartitions", op.partitions}, {"parentIds", op.parents}});
  }
  out["operators"] = std::move(ops);
  if (details) {
    json summary = json::object();
    for (const auto& [exec, es] : s.by_executor) {
      summary[exec] = {
        {"taskTime", es.task_time},
        {"failedTasks", es.failed},
        {"succeededTasks", es.succeeded},
        {"killedTasks", es.killed},
        {"inputBytes", es.metrics.input_bytes},
        {"inputRecords", es.metrics.input_records},
        {"outputBytes", es.metrics.output_bytes},
        {"outputRecords", es.metrics.output_records},
        {"shuffleRead", es.metrics.shuffle_read_bytes},
        {"shuffleReadRecords", es.metrics.shuffle_read_records},
        {"shuffleWrite", es.metrics.shuffle_write_bytes},
        {"shuffleWriteRecords", es.metrics.shuffle_write_records},
        {"memoryBytesSpilled", es.metrics.memory_spilled},
        {"diskBytesSpilled", es.metrics.disk_spilled},
        {"isBlacklistedForStage", false},
        {"isExcludedForStage", false},
      };
    }
    out["executorSummary"] = std::move(summary);
  }
  return out;
}

json app_store::stages(const std::string& status) const {
  auto want = upper(status);
  json out = json::array();
  for (auto it = stages_.rbegin(); it != stages_.rend(); ++it) {
    auto s = stage_json(it->second, false);
    if (want.empty() || s["status"] == want)
      out.push_back(std::move(s));
  }
  return out;
}

std::optional<json> app_store::stage(uint32_t id) const {
  json out = json::array();
  for (auto it = stages_.lower_bound({id, 0}); it != stages_.end() && it->first.first == id; ++it)
    out.push_back(stage_json(it->second, true));
  if (out.empty())
    return std::nullopt;
  return out;
}

std::optional<json> app_store::stage_attempt(uint32_t id, uint32_t attempt) const {
  auto it = stages_.find({id, attempt});
  if (it == stages_.end())
    return std::nullopt;
  return stage_json(it->second, true);
}

json app_store::task_json(const task_rec& t) const {
  const auto& m = t.metrics;
  bool running = t.finish == 0;
  uint64_t end = running ? now_ms() : t.finish;
  json out = {
    {"taskId", t.task_id},
    {"index", t.partition},
    {"attempt", t.attempt},
    {"partitionId", t.partition},
    {"launchTime", rest_time(t.launch)},
    {"duration", end > t.launch ? end - t.launch : 0},
    {"executorId", names_[t.executor]},
    {"host", names_[t.host]},
    {"status", task_status(t.state)},
    {"taskLocality", locality_name(t.locality)},
    {"speculative", t.speculative},
    {"accumulatorUpdates", json::array()},
    {"taskMetrics",
     {
       {"executorDeserializeTime", m.deserialize_ms},
       {"executorRunTime", m.run_time_ms},
       {"executorCpuTime", m.cpu_time_ns},
       {"resultSize", m.result_size},
       {"jvmGcTime", 0},
       {"memoryBytesSpilled", m.memory_spilled},
       {"diskBytesSpilled", m.disk_spilled},
       {"inputMetrics", {{"bytesRead", m.input_bytes}, {"recordsRead", m.input_records}}},
       {"outputMetrics", {{"bytesWritten", m.output_bytes}, {"recordsWritten", m.output_records}}},
       {"shuffleReadMetrics",
        {{"remoteBlocksFetched", m.shuffle_remote_blocks},
         {"localBlocksFetched", m.shuffle_local_blocks},
         {"fetchWaitTime", m.shuffle_fetch_wait_ms},
         {"remoteBytesRead", m.shuffle_remote_bytes},
         {"localBytesRead", m.shuffle_local_bytes},
         {"recordsRead", m.shuffle_read_records}}},
       {"shuffleWriteMetrics",
        {{"bytesWritten", m.shuffle_write_bytes},
         {"writeTime", m.shuffle_write_time_ns},
         {"recordsWritten", m.shuffle_write_records}}},
     }},
  };
  if (!t.error.empty())
    out["errorMessage"] = t.error;
  return out;
}

std::optional<json> app_store::task_list(uint32_t id, uint32_t attempt, std::size_t offset, std::size_t length,
                                         task_order order, bool descending, std::size_t* total) const {
  auto it = stages_.find({id, attempt});
  if (it == stages_.end())
    return std::nullopt;
  const auto& tasks = it->second.tasks;
  if (total != nullptr)
    *total = tasks.size();
  json out = json::array();
  if (offset >= tasks.size() || length == 0)
    return out;
  std::vector<const task_rec*> view;
  view.reserve(tasks.size());
  for (const auto& t : tasks)
    view.push_back(&t);
  uint64_t now = now_ms();
  auto duration = [now](const task_rec* t) { return (t->finish == 0 ? now : t->finish) - std::min(t->launch, now); };
  auto key_less = [&](const task_rec* a, const task_rec* b) {
    switch (order) {
      case task_order::id: break;
      case task_order::index:
        if (a->partition != b->partition)
          return a->partition < b->partition;
        break;
      case task_order::runtime:
        if (duration(a) != duration(b))
          return duration(a) < duration(b);
        break;
      case task_order::status: {
        int c = std::string_view(task_status(a->state)).compare(task_status(b->state));
        if (c != 0)
          return c < 0;
        break;
      }
      case task_order::executor:
        if (names_[a->executor] != names_[b->executor])
          return names_[a->executor] < names_[b->executor];
        break;
      case task_order::launch_time:
        if (a->launch != b->launch)
          return a->launch < b->launch;
        break;
    }
    return std::pair{a->task_id, a->attempt} < std::pair{b->task_id, b->attempt};
  };
  auto cmp = [&](const task_rec* a, const task_rec* b) { return descending ? key_less(b, a) : key_less(a, b); };
  auto end = std::min(tasks.size(), offset + length);
  // Only the requested page is ordered: a page of 100,000 tasks sorts a few dozen.
  std::partial_sort(view.begin(), view.begin() + static_cast<std::ptrdiff_t>(end), view.end(), cmp);
  for (auto k = offset; k < end; ++k)
    out.push_back(task_json(*view[k]));
  return out;
}

std::optional<json> app_store::task_summary(uint32_t id, uint32_t attempt, const std::vector<double>& quantiles) const {
  auto it = stages_.find({id, attempt});
  if (it == stages_.end())
    return std::nullopt;
  using T = const task_rec&;
  struct column {
    const char* group;  // nested object, or nullptr
    const char* name;
    uint64_t (*value)(T);
  };
  static const column columns[] = {
    {nullptr, "duration", [](T t) -> uint64_t { return t.finish - std::min(t.launch, t.finish); }},
    {nullptr, "executorDeserializeTime", [](T t) { return t.metrics.deserialize_ms; }},
    {nullptr, "executorRunTime", [](T t) { return t.metrics.run_time_ms; }},
    {nullptr, "executorCpuTime", [](T t) { return t.metrics.cpu_time_ns; }},
    {nullptr, "resultSize", [](T t) { return t.metrics.result_size; }},
    {nullptr, "jvmGcTime", [](T) -> uint64_t { return 0; }},
    {nullptr, "memoryBytesSpilled", [](T t) { return t.metrics.memory_spilled; }},
    {nullptr, "diskBytesSpilled", [](T t) { return t.metrics.disk_spilled; }},
    {"inputMetrics", "bytesRead", [](T t) { return t.metrics.input_bytes; }},
    {"inputMetrics", "recordsRead", [](T t) { return t.metrics.input_records; }},
    {"outputMetrics", "bytesWritten", [](T t) { return t.metrics.output_bytes; }},
    {"outputMetrics", "recordsWritten", [](T t) { return t.metrics.output_records; }},
    {"shuffleReadMetrics", "readBytes", [](T t) { return t.metrics.shuffle_read_bytes; }},
    {"shuffleReadMetrics", "readRecords", [](T t) { return t.metrics.shuffle_read_records; }},
    {"shuffleReadMetrics", "remoteBytesRead", [](T t) { return t.metrics.shuffle_remote_bytes; }},
    {"shuffleReadMetrics", "remoteBlocksFetched", [](T t) { return t.metrics.shuffle_remote_blocks; }},
    {"shuffleReadMetrics", "localBlocksFetched", [](T t) { return t.metrics.shuffle_local_blocks; }},
    {"shuffleReadMetrics", "fetchWaitTime", [](T t) { return t.metrics.shuffle_fetch_wait_ms; }},
    {"shuffleWriteMetrics", "writeBytes", [](T t) { return t.metrics.shuffle_write_bytes; }},
    {"shuffleWriteMetrics", "writeRecords", [](T t) { return t.metrics.shuffle_write_records; }},
    {"shuffleWriteMetrics", "writeTime", [](T t) { return t.metrics.shuffle_write_time_ns; }},
  };
  constexpr std::size_t n_columns = std::size(columns);
  // One pass over the tasks (100,000 of them are 25 MB: a pass per metric cost 80 ms).
  std::vector<std::vector<double>> values(n_columns);
  for (auto& v : values)
    v.reserve(it->second.tasks.size());
  for (const auto& t : it->second.tasks)
    if (t.state == proto::TaskState::FINISHED)
      for (std::size_t c = 0; c < n_columns; ++c)
        values[c].push_back(static_cast<double>(columns[c].value(t)));
  json out = {{"quantiles", quantiles}};
  for (std::size_t c = 0; c < n_columns; ++c) {
    auto& v = values[c];
    json dist = json::array();
    // Nearest rank: the value at index round(q * (n - 1)) of the sorted values (q = 0 is the
    // minimum, q = 1 the maximum); found by selection, not by sorting.
    for (double q : quantiles) {
      if (v.empty()) {
        dist.push_back(0.0);
        continue;
      }
      auto k = std::min(static_cast<std::size_t>(std::llround(q * static_cast<double>(v.size() - 1))), v.size() - 1);
      std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
      dist.push_back(v[k]);
    }
    if (columns[c].group != nullptr)
      out[columns[c].group][columns[c].name] = std::move(dist);
    else
      out[columns[c].name] = std::move(dist);
  }
  return out;
}

json app_store::executor_json(const executor_rec& x) const {
  uint64_t blocks = 0, mem = 0, disk = 0;
  for (const auto& [id, r] : rdds_)
    for (const auto& [key, b] : r.blocks)
      if (key.second == x.id) {
        ++blocks;
        mem += b.mem;
        disk += b.disk;
      }
  json out = {
    {"id", x.id},
    {"hostPort", x.host},
    {"isActive", x.removed == 0},
    {"rddBlocks", blocks},
    {"memoryUsed", mem},
    {"diskUsed", disk},
    {"totalCores", x.cores},
    {"maxTasks", x.cores},
    {"activeTasks", x.active},
    {"failedTasks", x.failed},
    {"completedTasks", x.completed},
    {"totalTasks", x.active + x.failed + x.completed},
    {"totalDuration", x.duration_ms},
    {"totalGCTime", 0},
    {"totalInputBytes", x.metrics.input_bytes},
    {"totalShuffleRead", x.metrics.shuffle_read_bytes},
    {"totalShuffleWrite", x.metrics.shuffle_write_bytes},
    {"isBlacklisted", false},
    {"isExcluded", false},
    {"maxMemory", x.max_memory},
    {"addTime", rest_time(x.added)},
    {"executorLogs", json::object()},
  };
  if (!x.worker.empty())
    out["workerId"] = x.worker;
  if (x.removed != 0) {
    out["removeTime"] = rest_time(x.removed);
    out["removeReason"] = x.remove_reason;
  }
  if (x.last_heartbeat != 0)
    out["lastHeartbeat"] = rest_time(x.last_heartbeat);
  return out;
}

json app_store::executors(bool include_dead) const {
  json out = json::array();
  for (const auto& [id, x] : executors_)
    if (include_dead || x.removed == 0)
      out.push_back(executor_json(x));
  return out;
}

json app_store::rdd_json(const rdd_rec& r, bool details) const {
  uint64_t mem = 0, disk = 0;
  std::set<uint32_t> partitions;
  std::map<std::string, std::pair<uint64_t, uint64_t>> by_executor;
  for (const auto& [key, b] : r.blocks) {
    mem += b.mem;
    disk += b.disk;
    partitions.insert(key.first);
    by_executor[key.second].first += b.mem;
    by_executor[key.second].second += b.disk;
  }
  auto name = rdd_names_.find(r.id);
  json out = {
    {"id", r.id},
    {"name", name != rdd_names_.end() ? name->second.name : "dataset " + std::to_string(r.id)},
    {"numPartitions", name != rdd_names_.end() ? name->second.partitions : partitions.size()},
    {"numCachedPartitions", partitions.size()},
    {"storageLevel", r.level},
    {"memoryUsed", mem},
    {"diskUsed", disk},
  };
  if (details) {
    json dist = json::array();
    for (const auto& [exec, sizes] : by_executor) {
      auto x = executors_.find(exec);
      uint64_t max = x != executors_.end() ? x->second.max_memory : 0;
      dist.push_back({{"executorId", exec},
                      {"address", x != executors_.end() ? x->second.host : ""},
                      {"memoryUsed", sizes.first},
                      {"memoryRemaining", max > sizes.first ? max - sizes.first : 0},
                      {"diskUsed", sizes.second}});
    }
    json parts = json::array();
    for (const auto& [key, b] : r.blocks)
      parts.push_back({{"blockName", "rdd_" + std::to_string(r.id) + "_" + std::to_string(key.first)},
                       {"storageLevel", r.level},
                       {"memoryUsed", b.mem},
                       {"diskUsed", b.disk},
                       {"executors", json::array({key.second})}});
    out["dataDistribution"] = std::move(dist);
    out["partitions"] = std::move(parts);
  }
  return out;
}

json app_store::storage() const {
  json out = json::array();
  for (const auto& [id, r] : rdds_)
    out.push_back(rdd_json(r, false));
  return out;
}

std::optional<json> app_store::storage_rdd(uint32_t id) const {
  auto it = rdds_.find(id);
  if (it == rdds_.end())
    return std::nullopt;
  return rdd_json(it->second, true);
}

json app_store::environment() const {
  json props = json::array(), ember = json::array(), system = json::array();
  for (std::size_t i = 0; i < properties_.size(); ++i) {
    props.push_back(json::array({properties_[i].first, properties_[i].second}));
    ember.push_back({{"name", properties_[i].first}, {"value", properties_[i].second}, {"origin", origins_[i]}});
  }
  for (const auto& [k, v] : system_)
    system.push_back(json::array({k, v}));
  return {
    {"runtime", {{"javaVersion", ""}, {"javaHome", ""}, {"scalaVersion", ""}}},
    {"sparkProperties", std::move(props)},
    {"emberProperties", std::move(ember)},
    {"hadoopProperties", json::array()},
    {"systemProperties", std::move(system)},
    {"metricsProperties", json::array()},
    {"classpathEntries", json::array()},
    {"resourceProfiles", json::array()},
  };
}

app_store::counters app_store::totals() const { return totals_; }

std::vector<app_store::executor_gauges> app_store::executor_list() const {
  std::vector<executor_gauges> out;
  for (const auto& [id, x] : executors_) {
    executor_gauges g;
    g.id = id;
    g.host = x.host;
    g.active = x.removed == 0;
    g.active_tasks = x.active;
    g.completed_tasks = x.completed;
    g.failed_tasks = x.failed;
    g.total_duration_ms = x.duration_ms;
    g.shuffle_read = x.metrics.shuffle_read_bytes;
    g.shuffle_write = x.metrics.shuffle_write_bytes;
    g.max_memory = x.max_memory;
    g.cores = x.cores;
    g.last_heartbeat = x.last_heartbeat;
    out.push_back(std::move(g));
  }
  return out;
}

}  // namespace ember::ui
