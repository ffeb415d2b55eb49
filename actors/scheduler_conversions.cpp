#include "actors/scheduler_conversions.hpp"

#include "actors/conversions.hpp"

namespace ember::actors {

wire<proto::SubmitTaskSet> to_submit_task_set(const scheduler::stage_submission& sub, const std::string& pool,
                                              uint32_t shuffle_id, std::string_view binary) {
  return make_wire<proto::SubmitTaskSet>([&](proto::SubmitTaskSet::Builder b) {
    b.setJobId(sub.job_id);
    b.setStageId(sub.stage_id);
    b.setStageAttempt(sub.stage_attempt);
    b.setName(sub.name);
    if (!pool.empty())
      b.setPool(pool);
    if (sub.is_map_stage) {
      b.setKind(proto::TaskKind::SHUFFLE_MAP);
      b.setShuffleId(shuffle_id);
    } else {
      b.setKind(proto::TaskKind::RESULT);
    }
    b.setTaskBinary(bytes(binary));
    auto ps = b.initPartitions(static_cast<unsigned>(sub.partitions.size()));
    auto prefs = b.initPreferredHosts(static_cast<unsigned>(sub.partitions.size()));
    for (unsigned i = 0; i < sub.partitions.size(); ++i) {
      ps.set(i, sub.partitions[i]);
      auto& hosts = sub.preferred_hosts[i];
      auto hs = prefs.init(i, static_cast<unsigned>(hosts.size()));
      for (unsigned j = 0; j < hosts.size(); ++j)
        hs.set(j, hosts[j]);
    }
    auto execs = b.initPreferredExecutors(static_cast<unsigned>(sub.partitions.size()));
    for (unsigned i = 0; i < sub.partitions.size() && i < sub.preferred_executors.size(); ++i) {
      auto& ids = sub.preferred_executors[i];
      auto es = execs.init(i, static_cast<unsigned>(ids.size()));
      for (unsigned j = 0; j < ids.size(); ++j)
        es.set(j, ids[j]);
    }
  });
}

scheduler::stage_submission to_stage_submission(proto::SubmitTaskSet::Reader r) {
  scheduler::stage_submission sub;
  sub.stage_id = r.getStageId();
  sub.stage_attempt = r.getStageAttempt();
  sub.job_id = r.getJobId();
  sub.is_map_stage = r.getKind() == proto::TaskKind::SHUFFLE_MAP;
  sub.name = str(r.getName());
  if (r.hasPool() && r.getPool().size() > 0)
    sub.pool = str(r.getPool());
  for (auto p : r.getPartitions())
    sub.partitions.push_back(p);
  for (auto hs : r.getPreferredHosts()) {
    auto& v = sub.preferred_hosts.emplace_back();
    for (auto h : hs)
      v.push_back(str(h));
  }
  for (auto es : r.getPreferredExecutors()) { // cached blocks (PROCESS_LOCAL)
    auto& v = sub.preferred_executors.emplace_back();
    for (auto e : es)
      v.push_back(str(e));
  }
  sub.preferred_hosts.resize(sub.partitions.size());
  sub.preferred_executors.resize(sub.partitions.size());
  return sub;
}

std::optional<scheduler::task_status> to_task_status(proto::StatusUpdate::Reader u) {
  scheduler::task_status ts;
  ts.task_id = u.getTaskId();
  ts.attempt = u.getAttempt();
  auto res = u.getResult();
  switch (u.getState()) {
    case proto::TaskState::FINISHED:
      ts.state = scheduler::task_state::finished;
      break;
    case proto::TaskState::KILLED:
      ts.state = scheduler::task_state::killed;
      break;
    case proto::TaskState::LOST:
      ts.state = scheduler::task_state::failed;
      ts.counts = false;
      break;
    case proto::TaskState::FAILED:
      if (res.isFetchFailed()) {
        ts.state = scheduler::task_state::fetch_failed;
        ts.reason = str(res.getFetchFailed().getMessage());
      } else {
        ts.state = scheduler::task_state::failed;
        auto e = res.getError();
        ts.reason = str(e.getKind()) + ": " + str(e.getMessage());
      }
      break;
    default:
      return std::nullopt;
  }
  return ts;
}

proto::Locality to_proto(scheduler::locality_level l) {
  switch (l) {
    case scheduler::locality_level::process_local:
      return proto::Locality::PROCESS_LOCAL;
    case scheduler::locality_level::node_local:
      return proto::Locality::NODE_LOCAL;
    case scheduler::locality_level::rack_local:
      return proto::Locality::RACK_LOCAL;
    case scheduler::locality_level::no_pref:
      return proto::Locality::NO_PREF;
    default:
      return proto::Locality::ANY;
  }
}

} // namespace ember::actors
