#include "actors/dag_scheduler.hpp"

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include "actors/block_manager_master_actor.hpp"
#include "actors/conversions.hpp"
#include "actors/listener_bus.hpp"
#include "actors/scheduler_conversions.hpp"
#include "actors/scheduler_events.hpp"
#include "api/task.hpp"
#include "config/log.hpp"
#include "config/registry.hpp"
#include "protocol/deploy.capnp.h"
#include "protocol/driver.capnp.h"
#include "protocol/events.capnp.h"
#include "protocol/executor.capnp.h"
#include "protocol/scheduler.capnp.h"
#include "protocol/shuffle.capnp.h"
#include "protocol/wire.hpp"
#include "scheduler/dag_planner.hpp"
#include "storage/block_manager_master.hpp"

namespace ember::actors {

namespace {

// Rerun the stages a FetchFailed stopped, after ember's resubmit delay (Spark: 200 ms), so the
// failures of one shuffle's other reducers are counted into the same rerun.
using resubmit_atom = caf::atom_constant<caf::atom("resubmit")>;

struct job_entry {
  std::vector<uint32_t> partitions;
  std::map<uint32_t, size_t> slot; // partition -> index in results
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

class dag_scheduler : public caf::event_based_actor {
public:
  dag_scheduler(caf::actor_config& acfg, dag_scheduler_config cfg, caf::actor tasks)
    : caf::event_based_actor(acfg), cfg_(std::move(cfg)), tasks_(std::move(tasks)), log_(log::get("dag_scheduler")) {
    scheduler::dag_settings ds;
    ds.max_consecutive_attempts = cfg_.max_consecutive_attempts;
    planner_ = std::make_unique<scheduler::dag_planner>(ds);
    // Cached partitions become PROCESS_LOCAL preferences: the planner runs inside this actor and
    // reads this actor's copy of the block_manager_master's RDD block locations.
    planner_->set_cache_locator([this](uint32_t rdd, uint32_t partition) {
      std::vector<scheduler::executor_location> out;
      for (auto& h : cached_blocks_.locations(storage::block_id::rdd(rdd, partition)))
        out.push_back({h.executor_id, h.host});
      return out;
    });
  }

  const char* name() const override { return "dag_scheduler"; }

  caf::behavior make_behavior() override {
    link_to(tasks_);
    link_to(cfg_.map_output_tracker);
    link_to(cfg_.block_manager_master);
    return {
      [this](const wire<proto::ApplicationRemoved>& msg) { application_removed(str(msg.reader().getReason())); },
      [this](const wire<proto::SubmitJob>& msg) { submit_job(msg.reader()); },
      [this](const wire<proto::TaskEndedBatch>& msg) {
        for (auto r : msg.reader().getEnds())
          task_ended(r);
        pump();
      },
      [this](resubmit_atom) {
        planner_->resubmit_failed_stages();
        pump();
      },
      [this](const wire<proto::TaskSetFailed>& msg) { task_set_failed(msg.reader()); },
      [this](const wire<proto::ExecutorLost>& msg) { executor_lost(msg); },
      // -- the block_manager_master's RDD block changes (watch_cache_atom) ----------------------
      [this](const wire<proto::UpdateBlockInfo>& msg) {
        auto r = msg.reader();
        if (auto s = to_block_status(r))
          cached_blocks_.update(str(r.getExecutorId()), str(r.getHost()), r.getPort(), *s);
      },
      [this](const wire<proto::RemoveRdd>& msg) { cached_blocks_.remove_rdd(msg.reader().getRddId()); },
    };
  }

private:
  // -- jobs --------------------------------------------------------------------------------------

  // The master gave up on this application (e.g. its executors kept failing): no job can run.
  void application_removed(const std::string& reason) {
    removed_ = "the master removed the application: " + reason;
    std::vector<uint32_t> ids;
    for (auto& [id, job] : jobs_)
      ids.push_back(id);
    for (auto id : ids)
      fail_job(id, removed_);
  }

  void submit_job(proto::SubmitJob::Reader r) {
    uint32_t job_id = r.getJobId();
    auto& job = jobs_[job_id];
    job.promise = make_response_promise();
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
    if (!removed_.empty())
      return reject_job(job_id, "Job " + std::to_string(job_id) + " failed: " + removed_);
    detail::node_ptr graph;
    try {
      graph = detail::decode_graph(view(r.getLineage()));
    } catch (const std::exception& e) {
      return reject_job(job_id, std::string{"Job "} + std::to_string(job_id) + " failed: cannot decode its graph: " + e.what());
    }
    auto plan = planner_->submit_job(graph, job.partitions, job_id);
    job.final_stage = plan.final_stage_id;
    job.stage_ids = plan.stage_ids;
    announce_shuffles(plan);
    post([&] {
      std::vector<stage_info> stages;
      for (auto id : plan.stage_ids) {
        stage_info info{id, {}, 0};
        if (auto v = planner_->stage(id)) {
          info.name = v->name;
          info.num_tasks = id == plan.final_stage_id ? static_cast<uint32_t>(job.partitions.size()) : v->num_partitions;
        }
        stages.push_back(std::move(info));
      }
      return job_start_event(job_id, stages, job.call_site);
    });
    result_stage_job_[plan.final_stage_id] = job_id;
    log_->debug("job {} ({}): {} stages, {} skipped", job_id, job.call_site, plan.stage_ids.size(),
                plan.skipped_stage_ids.size());
    pump();
  }

  // A job that cannot start fails at once, with its start and end events.
  void reject_job(uint32_t job_id, const std::string& message) {
    auto& job = jobs_.at(job_id);
    job.promise.deliver(make_wire<proto::JobResult>([&](proto::JobResult::Builder b) {
      b.setJobId(job_id);
      b.setSucceeded(false);
      b.setMessage(message);
    }));
    post([&] { return job_start_event(job_id, {}, job.call_site); });
    post([&] { return job_end_event(job_id, false, message); });
    jobs_.erase(job_id);
  }

  void fail_job(uint32_t job_id, const std::string& message) {
    planner_->cancel_job(job_id, message);
    pump();
  }

  // -- task ends ---------------------------------------------------------------------------------

  // One accepted task end (an element of a TaskEndedBatch); the caller pumps.
  void task_ended(proto::TaskEnded::Reader r) {
    auto res = r.getUpdate().getResult();
    switch (res.which()) {
      case proto::StatusUpdate::Result::MAP_OUTPUT:
        return map_output(r.getStageId(), r.getStageAttempt(), r.getPartition(), res.getMapOutput());
      case proto::StatusUpdate::Result::DIRECT:
        return result(r.getStageId(), r.getStageAttempt(), r.getPartition(), view(res.getDirect()));
      case proto::StatusUpdate::Result::FETCH_FAILED:
        return fetch_failed(r.getStageId(), r.getStageAttempt(), res.getFetchFailed());
      default:
        return;
    }
  }

  void map_output(uint32_t stage_id, uint32_t stage_attempt, uint32_t partition, proto::MapStatus::Reader status) {
    if (!planner_->map_task_completed(stage_id, stage_attempt, partition, to_status(status)))
      return;
    // Registered: the tracker lists it before the pump hands any child stage out.
    auto shuffle = planner_->stage(stage_id)->shuffle_id;
    if (auto* out = planner_->registry().output(*shuffle, partition))
      send(cfg_.map_output_tracker, make_wire<proto::MapStatus>([&](proto::MapStatus::Builder b) { fill(b, *out); }));
  }

  void result(uint32_t stage_id, uint32_t stage_attempt, uint32_t partition, std::string_view data) {
    auto j = result_stage_job_.find(stage_id);
    if (j == result_stage_job_.end())
      return;
    auto job_id = j->second;
    auto& job = jobs_.at(job_id);
    if (!planner_->result_task_completed(stage_id, stage_attempt, partition))
      return;
    job.result_bytes += data.size();
    ++job.results_received;
    if (static_cast<int64_t>(job.result_bytes) > cfg_.max_result_size) {
      fail_job(job_id, "Job " + std::to_string(job_id) + " aborted: total size of serialized results of "
                         + std::to_string(job.results_received) + " tasks (" + config::human_bytes(job.result_bytes)
                         + ") is bigger than ember.driver.maxResultSize ("
                         + config::human_bytes(static_cast<uint64_t>(cfg_.max_result_size)) + ")");
      return;
    }
    job.results[job.slot.at(partition)] = std::string{data};
  }

  void fetch_failed(uint32_t stage_id, uint32_t stage_attempt, proto::FetchFailure::Reader f) {
    auto holder = str(f.getExecutorId());
    auto out = planner_->fetch_failed(stage_id, stage_attempt, f.getShuffleId(), std::optional<uint32_t>{f.getMapIndex()},
                                      holder, str(f.getMessage()), f.getCorruptBlock());
    if (!out.ignored) {
      // The planner wrote the output off (and, unless the block was merely corrupt, every
      // output of its holder): so does the tracker, before the stages are resubmitted.
      send(cfg_.map_output_tracker, make_wire<proto::UnregisterMapOutput>([&](proto::UnregisterMapOutput::Builder b) {
        b.setShuffleId(f.getShuffleId());
        b.setMapIndex(f.getMapIndex());
        b.setExecutorId(holder);
        b.setReason(f.getMessage());
      }));
      if (!holder.empty() && !f.getCorruptBlock())
        send(cfg_.map_output_tracker, make_wire<proto::ExecutorLost>([&](proto::ExecutorLost::Builder b) {
          b.setExecutorId(holder);
          b.setHost(f.getHost());
          b.setCause(proto::ExecutorLossCause::CONNECTION_LOST); // unreachable for a reducer
          b.setMessage(f.getMessage());
        }));
    }
    if (!out.ignored && !out.duplicate)
      stage_failures_.insert_or_assign(stage_id, str(f.getMessage()));
    if (out.resubmit_needed)
      delayed_send(this, cfg_.resubmit_delay, resubmit_atom::value);
  }

  void task_set_failed(proto::TaskSetFailed::Reader r) {
    if (auto i = submitted_stages_.find(r.getStageId());
        i != submitted_stages_.end() && i->second.attempt == r.getStageAttempt())
      stage_failures_.insert_or_assign(r.getStageId(), str(r.getReason()));
    planner_->task_set_failed(r.getStageId(), r.getStageAttempt(), str(r.getReason()));
    pump();
  }

  // Spark's handleExecutorLost: its map outputs go (here and at the tracker), and its cached
  // blocks (at the block manager master, which tells this actor's copy in turn).
  void executor_lost(const wire<proto::ExecutorLost>& msg) {
    auto r = msg.reader();
    auto id = str(r.getExecutorId());
    planner_->executor_lost(id, str(r.getHost()), false);
    send(cfg_.map_output_tracker, msg);
    send(cfg_.block_manager_master, msg);
    // Its partitions are recomputed from lineage when needed.
    cached_blocks_.executor_lost(id);
    pump();
  }

  // -- map outputs -------------------------------------------------------------------------------

  // The shuffles a new job's plan created: the tracker learns their map counts.
  void announce_shuffles(const scheduler::job_plan& plan) {
    for (auto id : plan.stage_ids) {
      auto v = planner_->stage(id);
      if (!v || !v->shuffle_id || !announced_shuffles_.insert(*v->shuffle_id).second)
        continue;
      send(cfg_.map_output_tracker, make_wire<proto::RegisterShuffle>([&](proto::RegisterShuffle::Builder b) {
        b.setShuffleId(*v->shuffle_id);
        b.setNumMaps(v->num_partitions);
      }));
    }
  }

  // -- enacting the planner's decisions ------------------------------------------------------------

  // Drains what the planner decided: ready stages become task sets, ended jobs are answered.
  void pump() {
    for (auto& c : planner_->take_cancelled_stages())
      send(tasks_, make_wire<proto::CancelStage>([&](proto::CancelStage::Builder b) {
        b.setStageId(c.stage_id);
        b.setStageAttempt(c.stage_attempt);
        b.setReason("no active job needs stage " + std::to_string(c.stage_id) + " any more");
      }));
    auto job_events = planner_->take_job_events();
    complete_stages(job_events);
    for (auto& sub : planner_->take_ready_stages())
      submit_stage(sub);
    for (auto& ev : job_events)
      end_job(ev);
  }

  // Attempts the planner no longer runs are complete: failed with the recorded reason, or with
  // the failure of the job that needed them, else succeeded.
  void complete_stages(const std::vector<scheduler::job_event>& job_events) {
    std::map<uint32_t, std::string> job_failures;
    for (auto& ev : job_events)
      if (auto j = jobs_.find(ev.job_id); j != jobs_.end() && ev.result == scheduler::job_event::outcome::failed)
        for (auto id : j->second.stage_ids)
          job_failures.emplace(id, ev.message);
    for (auto it = submitted_stages_.begin(); it != submitted_stages_.end();) {
      auto v = planner_->stage(it->first);
      if (v && v->running && v->latest_attempt == it->second.attempt + 1) {
        ++it;
        continue;
      }
      std::string reason;
      if (auto f = stage_failures_.find(it->first); f != stage_failures_.end())
        reason = std::move(f->second);
      else if (auto jf = job_failures.find(it->first); jf != job_failures.end())
        reason = jf->second;
      stage_failures_.erase(it->first);
      post([&] { return stage_completed_event(it->first, it->second, reason); });
      it = submitted_stages_.erase(it);
    }
  }

  void submit_stage(const scheduler::stage_submission& sub) {
    // A stage runs in the pool of the job that submitted it (as in Spark).
    std::string pool;
    if (auto j = jobs_.find(sub.job_id); j != jobs_.end())
      pool = j->second.pool;
    uint32_t shuffle_id = 0;
    std::string binary;
    if (sub.is_map_stage) {
      auto& writer = dynamic_cast<const detail::shuffle_writer_base&>(*sub.rdd);
      shuffle_id = writer.shuffle_id();
      binary = detail::encode_map_stage(writer);
    } else {
      auto& job = jobs_.at(result_stage_job_.at(sub.stage_id));
      binary = detail::encode_result_stage(dynamic_cast<const detail::node_base&>(*sub.rdd), job.result_fn);
    }
    auto msg = to_submit_task_set(sub, pool, shuffle_id, binary);
    auto& run = submitted_stages_[sub.stage_id];
    run = {sub.stage_attempt, static_cast<uint32_t>(sub.partitions.size()), sub.name, epoch_ms(),
           cfg_.listener_bus ? scheduler::stage_operators(sub.rdd) : std::vector<scheduler::operator_info>{}};
    post([&] {
      std::vector<uint32_t> parents;
      if (auto v = planner_->stage(sub.stage_id))
        parents = v->parents;
      return stage_submitted_event(sub.stage_id, run, parents);
    });
    send(tasks_, msg);
  }

  void end_job(const scheduler::job_event& ev) {
    auto i = jobs_.find(ev.job_id);
    if (i == jobs_.end())
      return;
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
    post([&] { return job_end_event(ev.job_id, ok, ev.message); });
    result_stage_job_.erase(job.final_stage);
    jobs_.erase(i);
  }

  // Builds the event only when there is a bus to take it.
  template <class Build>
  void post(Build&& build) {
    if (cfg_.listener_bus)
      send(cfg_.listener_bus, build());
  }

  dag_scheduler_config cfg_;
  caf::actor tasks_;
  std::shared_ptr<spdlog::logger> log_;
  std::unique_ptr<scheduler::dag_planner> planner_;
  std::string removed_; // the master removed the application: why (every job fails with it)
  std::map<uint32_t, job_entry> jobs_;
  std::map<uint32_t, uint32_t> result_stage_job_; // final stage id -> job id
  // Stage attempts handed to the task scheduler and not yet reported complete (listener events).
  std::map<uint32_t, stage_run> submitted_stages_;
  std::map<uint32_t, std::string> stage_failures_; // stage id -> why its running attempt stops
  std::set<uint32_t> announced_shuffles_;          // RegisterShuffle sent to the tracker
  // This actor's copy of the RDD blocks' locations, kept by the block_manager_master's changes
  // (and the executor losses this actor hears first): the cache locator reads it.
  storage::block_manager_master cached_blocks_;
};

} // namespace

caf::actor spawn_dag_scheduler(caf::actor_system& sys, dag_scheduler_config cfg, caf::actor task_scheduler) {
  auto block_master = cfg.block_manager_master;
  auto dag = sys.spawn<dag_scheduler>(std::move(cfg), std::move(task_scheduler));
  // At once, not when it first runs: no block report may reach the master before it watches.
  caf::send_as(dag, block_master, watch_cache_atom::value);
  return dag;
}

} // namespace ember::actors
