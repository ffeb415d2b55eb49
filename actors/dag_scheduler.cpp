#include "actors/dag_scheduler.hpp"

#include <map>
#include <optional>

#include <caf/all.hpp>

#include "actors/listener_bus.hpp"
#include "actors/conversions.hpp"
#include "config/log.hpp"
#include "config/registry.hpp"
#include "scheduler/dag_planner.hpp"
#include "storage/block_manager_master.hpp"

namespace ember::actors {

namespace {

struct job_entry {
  std::vector<uint32_t> partitions;
  std::map<uint32_t, size_t> slot;     // partition -> index in results
  std::vector<std::string> results;
  std::string result_fn;
  std::string call_site;
  std::string pool; // local property ember.scheduler.pool of the submitting thread
  std::vector<uint32_t> stage_ids;
  uint32_t final_stage = 0;
  uint64_t result_bytes = 0;
  uint32_t results_received = 0;
  caf::response_promise promise;
};

struct dag_state {
  std::unique_ptr<scheduler::dag_planner> planner;
  std::string removed; // the master removed the application: why (every job fails with it)
  std::map<uint32_t, job_entry> jobs;
  std::map<uint32_t, uint32_t> result_stage_job; // final stage id -> job id
  // Stage attempts handed to the task scheduler and not yet reported complete (listener events).
  struct stage_run {
    uint32_t attempt = 0;
    uint32_t num_tasks = 0;
    std::string name;
    uint64_t submitted = 0;
  };
  std::map<uint32_t, stage_run> submitted_stages;
  std::map<uint32_t, std::string> stage_failures; // stage id -> why its running attempt stops
  std::shared_ptr<spdlog::logger> log;
  caf::actor tasks;
  // block_manager_master: where cached blocks are, and the live executor actors (registered, or
  // that reported blocks): RemoveRdd goes to them, ReplicateBlock to one of them.
  storage::block_manager_master blocks;
  std::map<std::string, caf::actor> block_managers;
  static inline const char* name = "dag_scheduler";
};

std::optional<storage::block_id> to_block_id(proto::BlockId::Reader id) {
  if (id.isRdd())
    return storage::block_id::rdd(id.getRdd().getRddId(), id.getRdd().getPartition());
  if (id.isBroadcast())
    return storage::block_id::broadcast(id.getBroadcast().getBroadcastId(), id.getBroadcast().getPiece());
  return std::nullopt;
}

caf::behavior dag_scheduler_actor(caf::stateful_actor<dag_state>* self, dag_scheduler_config cfg,
                                  caf::actor tasks) {
  auto& st = self->state;
  st.log = log::get("dag_scheduler");
  scheduler::dag_settings ds;
  ds.max_consecutive_attempts = cfg.max_consecutive_attempts;
  st.planner = std::make_unique<scheduler::dag_planner>(ds);
  // Cached partitions become PROCESS_LOCAL preferences (the planner runs inside this actor).
  st.planner->set_cache_locator([self](uint32_t rdd, uint32_t partition) {
    std::vector<scheduler::executor_location> out;
    for (auto& h : self->state.blocks.locations(storage::block_id::rdd(rdd, partition)))
      out.push_back({h.executor_id, h.host});
    return out;
  });
  st.tasks = tasks;
  self->link_to(tasks);

  // Drains what the planner decided: ready stages become task sets, ended jobs are answered.
  auto pump = [self, bus = cfg.listener_bus] {
    auto& st = self->state;
    for (auto& c : st.planner->take_cancelled_stages())
      self->send(st.tasks, make_wire<proto::CancelStage>([&](proto::CancelStage::Builder b) {
        b.setStageId(c.stage_id);
        b.setStageAttempt(c.stage_attempt);
        b.setReason("no active job needs stage " + std::to_string(c.stage_id) + " any more");
      }));
    auto job_events = st.planner->take_job_events();
    // Attempts the planner no longer runs are complete: failed with the recorded reason, or with
    // the failure of the job that needed them, else succeeded.
    std::map<uint32_t, std::string> job_failures;
    for (auto& ev : job_events)
      if (auto j = st.jobs.find(ev.job_id); j != st.jobs.end() && ev.result == scheduler::job_event::outcome::failed)
        for (auto id : j->second.stage_ids)
          job_failures.emplace(id, ev.message);
    for (auto it = st.submitted_stages.begin(); it != st.submitted_stages.end();) {
      auto v = st.planner->stage(it->first);
      if (v && v->running && v->latest_attempt == it->second.attempt + 1) {
        ++it;
        continue;
      }
      std::string reason;
      if (auto f = st.stage_failures.find(it->first); f != st.stage_failures.end())
        reason = std::move(f->second);
      else if (auto jf = job_failures.find(it->first); jf != job_failures.end())
        reason = jf->second;
      st.stage_failures.erase(it->first);
      post_event(self, bus, [&](proto::ListenerEvent::Builder e) {
        auto b = e.initStageCompleted();
        b.setStageId(it->first);
        b.setAttempt(it->second.attempt);
        b.setNumTasks(it->second.num_tasks);
        b.setName(it->second.name);
        b.setSubmissionTime(it->second.submitted);
        b.setCompletionTime(epoch_ms());
        b.setFailureReason(reason);
      });
      it = st.submitted_stages.erase(it);
    }
    for (auto& sub : st.planner->take_ready_stages()) {
      auto msg = make_wire<proto::SubmitTaskSet>([&](proto::SubmitTaskSet::Builder b) {
        b.setJobId(sub.job_id);
        b.setStageId(sub.stage_id);
        b.setStageAttempt(sub.stage_attempt);
        b.setName(sub.name);
        // A stage runs in the pool of the job that submitted it (as in Spark).
        if (auto j = st.jobs.find(sub.job_id); j != st.jobs.end() && !j->second.pool.empty())
          b.setPool(j->second.pool);
        std::string binary;
        if (sub.is_map_stage) {
          auto& writer = dynamic_cast<const detail::shuffle_writer_base&>(*sub.rdd);
          b.setKind(proto::TaskKind::SHUFFLE_MAP);
          b.setShuffleId(writer.shuffle_id());
          binary = detail::encode_map_stage(writer);
        } else {
          b.setKind(proto::TaskKind::RESULT);
          auto& job = st.jobs.at(st.result_stage_job.at(sub.stage_id));
          binary = detail::encode_result_stage(dynamic_cast<const detail::node_base&>(*sub.rdd), job.result_fn);
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
      auto& run = st.submitted_stages[sub.stage_id];
      run = {sub.stage_attempt, static_cast<uint32_t>(sub.partitions.size()), sub.name, epoch_ms()};
      post_event(self, bus, [&](proto::ListenerEvent::Builder e) {
        auto b = e.initStageSubmitted();
        b.setStageId(sub.stage_id);
        b.setAttempt(sub.stage_attempt);
        b.setNumTasks(run.num_tasks);
        b.setName(sub.name);
        std::vector<uint32_t> parents;
        if (auto v = st.planner->stage(sub.stage_id))
          parents = v->parents;
        auto ps = b.initParentIds(static_cast<unsigned>(parents.size()));
        for (unsigned k = 0; k < parents.size(); ++k)
          ps.set(k, parents[k]);
        b.setTime(run.submitted);
      });
      self->send(st.tasks, msg);
    }
    for (auto& ev : job_events) {
      auto i = st.jobs.find(ev.job_id);
      if (i == st.jobs.end())
        continue;
      auto& job = i->second;
      bool ok = ev.result == scheduler::job_event::outcome::succeeded;
      job.promise.deliver(make_wire<proto::JobResult>([&](proto::JobResult::Builder b) {
        b.setJobId(ev.job_id);
        b.setSucceeded(ok);
        b.setMessage(ev.message);
        if (ok) {
          auto rs = b.initResults(static_cast<unsigned>(job.results.size()));
          for (unsigned k = 0; k < job.results.size(); ++k)
            rs.set(k, bytes(job.results[k]));
        }
      }));
      post_event(self, bus, [&](proto::ListenerEvent::Builder e) {
        auto b = e.initJobEnd();
        b.setJobId(ev.job_id);
        b.setTime(epoch_ms());
        if (ok)
          b.getResult().setOk();
        else
          b.getResult().setError(ev.message);
      });
      st.result_stage_job.erase(job.final_stage);
      st.jobs.erase(i);
    }
  };
  auto fail_job = [self, pump](uint32_t job_id, const std::string& message) {
    self->state.planner->cancel_job(job_id, message);
    pump();
  };

  // One accepted task end (a TaskEnded or an element of a TaskEndedBatch); the caller pumps.
  auto task_ended = [self, fail_job, cfg](proto::TaskEnded::Reader r) {
    auto& st = self->state;
    auto u = r.getUpdate();
    auto res = u.getResult();
    switch (res.which()) {
      case proto::StatusUpdate::Result::MAP_OUTPUT: {
        auto status = to_status(res.getMapOutput());
        st.planner->map_task_completed(r.getStageId(), r.getStageAttempt(), r.getPartition(), std::move(status));
        break;
      }
      case proto::StatusUpdate::Result::DIRECT: {
        auto j = st.result_stage_job.find(r.getStageId());
        if (j == st.result_stage_job.end())
          break;
        auto& job = st.jobs.at(j->second);
        auto data = view(res.getDirect());
        if (!st.planner->result_task_completed(r.getStageId(), r.getStageAttempt(), r.getPartition()))
          break;
        job.result_bytes += data.size();
        ++job.results_received;
        if (static_cast<int64_t>(job.result_bytes) > cfg.max_result_size) {
          fail_job(j->second, "Job " + std::to_string(j->second) + " aborted: total size of serialized results of "
                                + std::to_string(job.results_received) + " tasks (" + config::human_bytes(job.result_bytes)
                                + ") is bigger than ember.driver.maxResultSize ("
                                + config::human_bytes(static_cast<uint64_t>(cfg.max_result_size)) + ")");
          return;
        }
        job.results[job.slot.at(r.getPartition())] = std::string{data};
        break;
      }
      case proto::StatusUpdate::Result::FETCH_FAILED: {
        auto f = res.getFetchFailed();
        auto out = st.planner->fetch_failed(r.getStageId(), r.getStageAttempt(), f.getShuffleId(),
                                            std::optional<uint32_t>{f.getMapIndex()}, str(f.getExecutorId()),
                                            str(f.getMessage()), f.getCorruptBlock());
        if (!out.ignored && !out.duplicate)
          st.stage_failures.insert_or_assign(r.getStageId(), str(f.getMessage()));
        if (out.resubmit_needed)
          self->delayed_send(self, cfg.resubmit_delay, resubmit_atom::value);
        break;
      }
      default:
        break;
    }
  };

  return {
    // The master gave up on this application (e.g. its executors kept failing): no job can run.
    [=](const wire<proto::ApplicationRemoved>& msg) {
      auto& st = self->state;
      st.removed = "the master removed the application: " + str(msg.reader().getReason());
      std::vector<uint32_t> ids;
      for (auto& [id, job] : st.jobs)
        ids.push_back(id);
      for (auto id : ids)
        fail_job(id, st.removed);
    },
    [=](const wire<proto::SubmitJob>& msg) {
      auto& st = self->state;
      auto r = msg.reader();
      uint32_t job_id = r.getJobId();
      auto& job = st.jobs[job_id];
      job.promise = self->make_response_promise();
      job.result_fn = std::string{view(r.getResultFn())};
      job.call_site = str(r.getCallSite());
      for (auto p : r.getProperties())
        if (str(p.getKey()) == "ember.scheduler.pool")
          job.pool = str(p.getValue());
      for (auto p : r.getPartitions()) {
        job.slot.emplace(p, job.partitions.size());
        job.partitions.push_back(p);
      }
      job.results.resize(job.partitions.size());
      // A job that cannot start fails at once, with its start and end events.
      auto reject = [&](const std::string& message) {
        job.promise.deliver(make_wire<proto::JobResult>([&](proto::JobResult::Builder b) {
          b.setJobId(job_id);
          b.setSucceeded(false);
          b.setMessage(message);
        }));
        post_event(self, cfg.listener_bus, [&](proto::ListenerEvent::Builder e) {
          auto b = e.initJobStart();
          b.setJobId(job_id);
          b.setTime(epoch_ms());
          b.setDescription(job.call_site);
        });
        post_event(self, cfg.listener_bus, [&](proto::ListenerEvent::Builder e) {
          auto b = e.initJobEnd();
          b.setJobId(job_id);
          b.setTime(epoch_ms());
          b.getResult().setError(message);
        });
        st.jobs.erase(job_id);
      };
      if (!st.removed.empty())
        return reject("Job " + std::to_string(job_id) + " failed: " + st.removed);
      detail::node_ptr graph;
      try {
        graph = detail::decode_graph(view(r.getLineage()));
      } catch (const std::exception& e) {
        return reject(std::string{"Job "} + std::to_string(job_id) + " failed: cannot decode its graph: " + e.what());
      }
      auto plan = st.planner->submit_job(graph, job.partitions, job_id);
      job.final_stage = plan.final_stage_id;
      job.stage_ids = plan.stage_ids;
      post_event(self, cfg.listener_bus, [&](proto::ListenerEvent::Builder e) {
        auto b = e.initJobStart();
        b.setJobId(job_id);
        auto ids = b.initStageIds(static_cast<unsigned>(plan.stage_ids.size()));
        for (unsigned k = 0; k < plan.stage_ids.size(); ++k)
          ids.set(k, plan.stage_ids[k]);
        b.setTime(epoch_ms());
        b.setDescription(job.call_site);
      });
      st.result_stage_job[plan.final_stage_id] = job_id;
      st.log->debug("job {} ({}): {} stages, {} skipped", job_id, job.call_site, plan.stage_ids.size(),
                    plan.skipped_stage_ids.size());
      pump();
    },
    [=](const wire<proto::TaskEnded>& msg) {
      task_ended(msg.reader());
      pump();
    },
    [=](const wire<proto::TaskEndedBatch>& msg) {
      for (auto r : msg.reader().getEnds())
        task_ended(r);
      pump();
    },
    [=](resubmit_atom) {
      self->state.planner->resubmit_failed_stages();
      pump();
    },
    [=](const wire<proto::TaskSetFailed>& msg) {
      auto r = msg.reader();
      auto& st = self->state;
      if (auto i = st.submitted_stages.find(r.getStageId());
          i != st.submitted_stages.end() && i->second.attempt == r.getStageAttempt())
        st.stage_failures.insert_or_assign(r.getStageId(), str(r.getReason()));
      self->state.planner->task_set_failed(r.getStageId(), r.getStageAttempt(), str(r.getReason()));
      pump();
    },
    [=](const wire<proto::ExecutorLost>& msg) {
      auto r = msg.reader();
      self->state.planner->executor_lost(str(r.getExecutorId()), str(r.getHost()), false);
      // Its cached blocks are gone: their partitions are recomputed from lineage when needed.
      auto n = self->state.blocks.executor_lost(str(r.getExecutorId()));
      self->state.block_managers.erase(str(r.getExecutorId()));
      if (n > 0)
        self->state.log->info("executor {} lost with {} cached blocks", str(r.getExecutorId()), n);
      pump();
    },
    // -- block_manager_master -------------------------------------------------------------
    // An executor registered (passed on by the task scheduler as that executor): it may take
    // replicas before it reported any block.
    [=](const wire<proto::RegisterExecutor>& msg) {
      if (auto sender = caf::actor_cast<caf::actor>(self->current_sender()))
        self->state.block_managers.insert_or_assign(str(msg.reader().getExecutorId()), sender);
    },
    // A block stored, moved or dropped. A block whose level asks for more copies than it has
    // holders is replicated first (ReplicateBlock to another live executor, which fetches it from
    // the reporter and reports its copy here): the acknowledgement waits for that, so when the
    // task's StatusUpdate follows it, every copy is in the table (Spark replicates inside the
    // put, before the task ends, too). A failed replication is logged; the block stays single.
    [=](const wire<proto::UpdateBlockInfo>& msg) -> caf::result<wire<proto::UpdateBlockInfo>> {
      auto& st = self->state;
      auto r = msg.reader();
      auto id = to_block_id(r.getBlockId());
      if (!id)
        return msg;
      auto l = r.getLevel();
      storage::block_status s{*id, storage_level{l.getUseMemory(), l.getUseDisk(), l.getDeserialized(), l.getReplication()},
                              r.getMemSize(), r.getDiskSize()};
      auto reporter = str(r.getExecutorId());
      st.blocks.update(reporter, str(r.getHost()), r.getPort(), s);
      if (auto sender = caf::actor_cast<caf::actor>(self->current_sender()))
        st.block_managers.insert_or_assign(reporter, sender);
      if (!s.stored() || !id->is_rdd() || r.getPort() == 0)
        return msg; // the acknowledgement: the task's StatusUpdate follows it
      std::vector<std::string> live;
      for (auto& [e, bm] : st.block_managers)
        live.push_back(e);
      auto target = st.blocks.replica_target(*id, live);
      if (!target)
        return msg;
      auto req = make_wire<proto::ReplicateBlock>([&](proto::ReplicateBlock::Builder b) {
        b.setBlockId(r.getBlockId());
        b.setLevel(l);
        auto h = b.initHolder();
        h.setExecutorId(reporter);
        h.setHost(r.getHost());
        h.setPort(r.getPort());
      });
      auto rp = self->make_response_promise();
      auto name = id->name();
      self->request(st.block_managers.at(*target), cfg.ask_timeout, req)
        .then([rp, msg](const wire<proto::ReplicateBlock>&) mutable { rp.deliver(msg); },
              [self, rp, msg, name, to = *target](caf::error& err) mutable {
                self->state.log->warn("block {}: no replica on executor {}: {}", name, to, describe(err));
                rp.deliver(msg);
              });
      return rp;
    },
    [=](const wire<proto::GetBlockLocations>& msg) {
      auto ids = msg.reader().getBlockIds();
      return make_wire<proto::BlockLocations>([&](proto::BlockLocations::Builder b) {
        auto locs = b.initLocations(ids.size());
        for (unsigned i = 0; i < ids.size(); ++i) {
          locs[i].setBlockId(ids[i]);
          auto id = to_block_id(ids[i]);
          auto holders = id ? self->state.blocks.locations(*id) : std::vector<storage::block_holder>{};
          auto hs = locs[i].initHolders(static_cast<unsigned>(holders.size()));
          for (unsigned j = 0; j < holders.size(); ++j) {
            hs[j].setExecutorId(holders[j].executor_id);
            hs[j].setHost(holders[j].host);
            hs[j].setPort(holders[j].port);
          }
        }
      });
    },
    // unpersist: every executor that reported blocks drops the RDD's; answered once all did (or
    // did not answer within the ask timeout: a lost executor's blocks are gone anyway).
    [=](const wire<proto::RemoveRdd>& msg) -> caf::result<wire<proto::RemoveRdd>> {
      auto& st = self->state;
      st.blocks.remove_rdd(msg.reader().getRddId());
      if (st.block_managers.empty())
        return msg;
      auto rp = self->make_response_promise();
      auto left = std::make_shared<size_t>(st.block_managers.size());
      for (auto& [id, bm] : st.block_managers)
        self->request(bm, cfg.ask_timeout, msg)
          .then([rp, left, msg](const wire<proto::RemoveRdd>&) mutable {
                  if (--*left == 0)
                    rp.deliver(msg);
                },
                [rp, left, msg](caf::error&) mutable {
                  if (--*left == 0)
                    rp.deliver(msg);
                });
      return rp;
    },
    [=](const wire<proto::GetMapOutputs>& msg) {
      auto& reg = self->state.planner->registry();
      uint32_t shuffle = msg.reader().getShuffleId();
      auto missing = reg.missing_maps(shuffle);
      return make_wire<proto::MapOutputs>([&](proto::MapOutputs::Builder b) {
        b.setShuffleId(shuffle);
        b.setEpoch(reg.epoch());
        auto ms = b.initMissingMapIndexes(static_cast<unsigned>(missing.size()));
        for (unsigned i = 0; i < missing.size(); ++i)
          ms.set(i, missing[i]);
        if (auto outs = reg.outputs(shuffle)) {
          auto ss = b.initStatuses(static_cast<unsigned>(outs->size()));
          for (unsigned i = 0; i < outs->size(); ++i)
            fill(ss[i], (*outs)[i]);
        }
      });
    },
  };
}

} // namespace

caf::actor spawn_dag_scheduler(caf::actor_system& sys, dag_scheduler_config cfg, caf::actor task_scheduler) {
  return sys.spawn(dag_scheduler_actor, cfg, std::move(task_scheduler));
}

} // namespace ember::actors
