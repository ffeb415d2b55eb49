#include "actors/task_scheduler_actor.hpp"

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <caf/event_based_actor.hpp>

#include "actors/conversions.hpp"
#include "actors/listener_bus.hpp"
#include "actors/scheduler_conversions.hpp"
#include "actors/scheduler_events.hpp"
#include "config/log.hpp"
#include "protocol/deploy.capnp.h"
#include "protocol/driver.capnp.h"
#include "protocol/events.capnp.h"
#include "protocol/executor.capnp.h"
#include "protocol/scheduler.capnp.h"
#include "protocol/wire.hpp"
#include "scheduler/task_scheduler.hpp"

namespace ember::actors {

namespace {

using steady_clock = std::chrono::steady_clock;
using offer_atom = caf::atom_constant<caf::atom("offer")>;
using alloc_atom = caf::atom_constant<caf::atom("alloc")>;
using loss_atom = caf::atom_constant<caf::atom("loss")>;
using speculate_atom = caf::atom_constant<caf::atom("speculate")>;

struct task_set_info {
  std::shared_ptr<const std::string> binary;
  proto::TaskKind kind = proto::TaskKind::RESULT;
  uint32_t shuffle_id = 0;
  uint32_t job_id = 0;
};

using stage_key = std::pair<uint32_t, uint32_t>; // (stage, attempt)

class task_scheduler : public caf::event_based_actor {
public:
  task_scheduler(caf::actor_config& acfg, task_scheduler_config cfg)
    : caf::event_based_actor(acfg), cfg_(std::move(cfg)), task_events_(cfg_.task_events), log_(log::get("task_scheduler")) {
    auto logic = cfg_.settings;
    logic.pools = cfg_.pools;
    logic.short_task_threshold = cfg_.short_task_threshold;
    logic_ = std::make_unique<scheduler::task_scheduler>(std::move(logic));
    if (cfg_.allocation)
      alloc_ = std::make_unique<scheduler::allocation_policy>(*cfg_.allocation);
  }

  const char* name() const override { return "task_scheduler"; }

  caf::behavior make_behavior() override {
    if (cfg_.min_registered_cores > 0)
      wait_registered_until_ = clock().now() + cfg_.max_registered_wait;
    set_down_handler([this](const caf::down_msg& dm) { executor_down(dm); });
    // ember.speculation: every ember.speculation.interval the task sets mark their stragglers;
    // copies of them go out with the next offers (the first attempt to finish wins).
    if (cfg_.settings.task_set.speculation)
      delayed_send(this, cfg_.settings.speculation_interval, speculate_atom::value);
    return {
      [this](caf::actor dag) { dag_ = std::move(dag); },
      [this](caf::put_atom, const std::string& app_id) { app_id_ = app_id; },
      [this](granted_atom, uint32_t cores) {
        granted_cores_ += cores;
        offer_cores();
      },
      [this](allocation_target_atom, caf::actor target) {
        alloc_target_ = std::move(target);
        allocate();
      },
      [this](const wire<proto::ExecutorLost>& msg) { executor_lost(msg.reader()); },
      [this](loss_atom, const std::string& id) {
        auto i = disconnected_.find(id);
        if (i == disconnected_.end())
          return; // its worker's account came in time
        remove_executor(id, proto::ExecutorLossCause::CONNECTION_LOST,
                        "connection lost (" + i->second + "), no account from its worker within ember.executor.lossReasonWait");
      },
      // The application ends: every executor is asked to stop; the answer comes once all are gone
      // (their down messages), so executor processes exit by themselves, not by a worker's kill.
      [this](caf::close_atom) -> caf::result<caf::close_atom> {
        if (executors_.empty())
          return caf::close_atom::value;
        for (auto& [id, handle] : executors_)
          send(handle, make_wire<proto::StopExecutor>([](auto b) { b.setReason("the application ends"); }));
        stop_promise_ = make_response_promise();
        return stop_promise_;
      },
      [this](caf::subscribe_atom) { task_events_ = true; },
      [this](const wire<proto::RegisterExecutor>& msg) { register_executor(msg); },
      [this](const wire<proto::SubmitTaskSet>& msg) { submit_task_set(msg.reader()); },
      [this](const wire<proto::StatusUpdates>& msg) { status_updates(msg); },
      [this](const wire<proto::Heartbeat>& msg) { heartbeat(msg.reader()); },
      [this](const wire<proto::CancelStage>& msg) {
        auto r = msg.reader();
        send_kills(logic_->cancel_stage(r.getStageId(), str(r.getReason())));
        forget_set({r.getStageId(), r.getStageAttempt()});
        offer_cores();
      },
      [this](offer_atom) {
        wakeup_.reset();
        offer_cores();
      },
      [this](alloc_atom) {
        alloc_wakeup_.reset();
        allocate();
      },
      [this](speculate_atom) {
        if (logic_->check_speculation(clock().now()))
          offer_cores();
        delayed_send(this, cfg_.settings.speculation_interval, speculate_atom::value);
      },
    };
  }

private:
  // -- executors ---------------------------------------------------------------------------------

  void register_executor(const wire<proto::RegisterExecutor>& msg) {
    auto r = msg.reader();
    auto id = str(r.getExecutorId());
    auto handle = caf::actor_cast<caf::actor>(current_sender());
    uint32_t slots = r.getCores() * (1 + cfg_.task_queue_depth);
    uint32_t extra = r.getCores() * (std::max(cfg_.task_queue_depth, cfg_.short_task_queue_depth) - cfg_.task_queue_depth);
    registered_cores_ += r.getCores();
    if (!logic_->add_executor(id, str(r.getHost()), str(r.getRack()), slots, extra)) {
      send(handle, make_wire<proto::RegisterExecutorFailed>([&](proto::RegisterExecutorFailed::Builder b) {
        b.setExecutorId(id);
        b.setReason("duplicate executor id " + id);
      }));
      return;
    }
    if (r.getReportsTaskStarts()) // its heartbeats say which attempts left its queue
      logic_->executor_reports_starts(id, r.getCores());
    executors_[id] = handle;
    executor_ids_[handle.address()] = id;
    if (cfg_.block_manager_master) // it learns the executor (a replica may go there)
      caf::send_as(handle, cfg_.block_manager_master, msg);
    if (alloc_)
      alloc_->executor_added(id, clock().now());
    monitor(handle);
    send(handle, make_wire<proto::ExecutorRegistered>([&](proto::ExecutorRegistered::Builder b) {
      b.setAppId(app_id_);
      b.setExecutorId(id);
    }));
    post([&] { return executor_added_event(id, str(r.getHost()), r.getCores(), r.getMemoryBytes(), str(r.getWorkerId())); });
    offer_cores();
  }

  // The worker's (or the heartbeat receiver's) word that an executor is gone.
  void executor_lost(proto::ExecutorLost::Reader r) {
    auto id = str(r.getExecutorId());
    auto cause = r.getCause();
    bool known = executors_.count(id) != 0 || disconnected_.count(id) != 0;
    bool by_its_tasks = cause == proto::ExecutorLossCause::MEMORY_LIMIT || cause == proto::ExecutorLossCause::EXIT_CODE
                        || cause == proto::ExecutorLossCause::SIGNAL;
    if (known && by_its_tasks && r.getWorkerView()) {
      auto message = str(r.getMessage());
      for (auto& f : logic_->fail_running_tasks(id, message, clock().now())) {
        post_task_end(f.task_id, f.attempt, proto::TaskState::FAILED, message, std::nullopt);
        if (f.outcome.kind == scheduler::task_event_kind::aborted)
          abort_set(f.outcome.stage_id, f.outcome.stage_attempt, f.outcome.message);
        else
          log_->warn("task {}.{} (partition {}) failed: {}", f.task_id, f.attempt, f.outcome.partition, message);
        send_kills(f.outcome.kills);
        if (f.outcome.task_set_done)
          forget_set({f.outcome.stage_id, f.outcome.stage_attempt});
      }
    }
    remove_executor(id, cause, str(r.getMessage()));
  }

  void executor_down(const caf::down_msg& dm) {
    auto i = executor_ids_.find(dm.source);
    if (i == executor_ids_.end())
      return;
    auto id = i->second;
    if (stop_promise_.pending() && (!dm.reason || dm.reason == caf::exit_reason::normal)) {
      // It stopped as asked (StopExecutor): the application's end, not a loss — no
      // executorRemoved event (docs/events.md), as in local mode.
      executor_ids_.erase(i);
      executors_.erase(id);
      shipped_.erase(id);
      if (executors_.empty())
        stop_promise_.deliver(caf::close_atom::value);
      return;
    }
    if (cfg_.loss_reason_wait.count() == 0 || stop_promise_.pending()) {
      remove_executor(id, proto::ExecutorLossCause::CONNECTION_LOST, "connection lost (" + to_string(dm.reason) + ")");
      return;
    }
    // Why did it end? Its worker knows (exit code, signal, memory limit) and tells the master,
    // which tells us; until then it gets no new tasks.
    executor_ids_.erase(i);
    executors_.erase(id);
    disconnected_[id] = to_string(dm.reason);
    logic_->drain_executor(id);
    delayed_send(this, cfg_.loss_reason_wait, loss_atom::value, id);
  }

  // An executor is gone: its running tasks are resubmitted (not counted as failures), the dag
  // scheduler unregisters its map outputs. Idempotent: the second report of the same loss (the
  // connection's down message, the worker's exit status) finds nothing to remove.
  void remove_executor(const std::string& id, proto::ExecutorLossCause cause, const std::string& message) {
    auto e = executors_.find(id);
    if (e != executors_.end()) {
      executor_ids_.erase(e->second.address());
      executors_.erase(e);
    } else if (disconnected_.erase(id) == 0) {
      return;
    }
    shipped_.erase(id);
    auto removal = logic_->remove_executor(id, "executor " + id + " lost: " + message);
    send(dag_, make_wire<proto::ExecutorLost>([&](proto::ExecutorLost::Builder b) {
      b.setExecutorId(id);
      b.setHost(removal.host);
      b.setCause(cause);
      b.setMessage(message);
    }));
    for (auto& lost : removal.lost_tasks)
      if (auto t = launched_.find(lost.task_id); t != launched_.end())
        post_task_end(lost.task_id, t->second.attempt, proto::TaskState::LOST, removal.reason, std::nullopt);
    if (alloc_)
      alloc_->executor_removed(id);
    post([&] { return executor_removed_event(id, cause, message); });
    if (executors_.empty() && stop_promise_.pending())
      stop_promise_.deliver(caf::close_atom::value);
    offer_cores();
  }

  // Forwarded by the heartbeat receiver: the attempts running on an executor's task threads,
  // with their run time so far. Each one's real start (now - run time) replaces its launch for
  // speculation; the listener bus gets them as one executorMetricsUpdate (Spark's
  // SparkListenerExecutorMetricsUpdate), so the event log shows long tasks' progress.
  void heartbeat(proto::Heartbeat::Reader r) {
    auto id = str(r.getExecutorId());
    if (executors_.count(id) == 0)
      return;
    auto now = clock().now();
    std::vector<running_task_metrics> tasks;
    tasks.reserve(r.getTasks().size());
    for (auto t : r.getTasks()) {
      auto m = t.getMetrics();
      auto running = logic_->task_running(id, t.getTaskId(), t.getAttempt(),
                                          std::chrono::nanoseconds{m.getExecutorRunTimeNs()}, now);
      auto& x = tasks.emplace_back();
      x.task_id = t.getTaskId();
      x.attempt = t.getAttempt();
      if (running)
        x.stage = {running->stage_id, running->stage_attempt};
      x.run_time_ms = m.getExecutorRunTimeNs() / 1'000'000;
      x.cpu_time_ms = m.getExecutorCpuTimeNs() / 1'000'000;
      x.remote_fetches_in_flight = t.getRemoteFetchesInFlight();
    }
    if (task_events_)
      post([&] { return executor_metrics_update_event(id, tasks); });
  }

  // -- task sets ---------------------------------------------------------------------------------

  void submit_task_set(proto::SubmitTaskSet::Reader r) {
    auto sub = to_stage_submission(r);
    sets_[{sub.stage_id, sub.stage_attempt}]
      = {std::make_shared<const std::string>(view(r.getTaskBinary())), r.getKind(), r.getShuffleId(), sub.job_id};
    logic_->submit(std::move(sub), clock().now());
    offer_cores();
  }

  void status_updates(const wire<proto::StatusUpdates>& msg) {
    for (auto u : msg.reader().getUpdates())
      status_update(u);
    flush_ends();
    offer_cores();
    // An executor injecting message faults (docs/chaos.md) sends its batches as requests and
    // resends them until acknowledged: the answer names the updates received. Plain sends (the
    // usual case) get no answer.
    if (current_message_id().is_request()) {
      auto rp = make_response_promise();
      rp.deliver(make_wire<proto::StatusUpdates>([&](proto::StatusUpdates::Builder b) {
        auto in = msg.reader().getUpdates();
        auto list = b.initUpdates(in.size());
        for (unsigned i = 0; i < in.size(); ++i) {
          list[i].setExecutorId(in[i].getExecutorId());
          list[i].setTaskId(in[i].getTaskId());
          list[i].setAttempt(in[i].getAttempt());
          list[i].setState(in[i].getState());
        }
      }));
    }
  }

  // One task attempt's new state; the caller offers the freed cores once per batch.
  void status_update(proto::StatusUpdate::Reader u) {
    auto ts = to_task_status(u);
    if (!ts)
      return; // launching / running: progress only
    auto res = u.getResult();
    if (alloc_ && res.isMapOutput())
      alloc_->shuffle_data(str(u.getExecutorId()), true); // no shuffle is ever cleaned up yet
    std::optional<std::chrono::nanoseconds> run_time;
    if (ts->state == scheduler::task_state::finished)
      run_time = std::chrono::nanoseconds{u.getMetrics().getExecutorRunTimeNs()};
    auto out = logic_->status_update(*ts, clock().now(), run_time);
    post_task_end(ts->task_id, ts->attempt, u.getState(), ts->reason, u);
    using kind = scheduler::task_event_kind;
    if (out.kind == kind::finished || out.kind == kind::fetch_failed) {
      pending_ends_.push_back({out.stage_id, out.stage_attempt, out.partition, u});
    } else if (out.kind == kind::aborted) {
      abort_set(out.stage_id, out.stage_attempt, out.message);
    } else if (out.kind == kind::failed) {
      log_->warn("task {}.{} (partition {}) failed: {}", ts->task_id, ts->attempt, out.partition, ts->reason);
    }
    send_kills(out.kills);
    if (out.task_set_done)
      forget_set({out.stage_id, out.stage_attempt});
  }

  void flush_ends() {
    if (pending_ends_.empty())
      return;
    send(dag_, make_wire<proto::TaskEndedBatch>([&](proto::TaskEndedBatch::Builder b) {
      auto list = b.initEnds(static_cast<unsigned>(pending_ends_.size()));
      for (unsigned i = 0; i < pending_ends_.size(); ++i) {
        list[i].setStageId(pending_ends_[i].stage_id);
        list[i].setStageAttempt(pending_ends_[i].stage_attempt);
        list[i].setPartition(pending_ends_[i].partition);
        list[i].setUpdate(pending_ends_[i].update);
      }
    }));
    pending_ends_.clear();
  }

  void abort_set(uint32_t stage, uint32_t attempt, const std::string& message) {
    flush_ends();
    send(dag_, make_wire<proto::TaskSetFailed>([&](proto::TaskSetFailed::Builder b) {
      b.setStageId(stage);
      b.setStageAttempt(attempt);
      b.setReason(message);
    }));
  }

  void send_kills(const std::vector<scheduler::kill_request>& kills) {
    for (auto& k : kills)
      if (auto e = executors_.find(k.executor_id); e != executors_.end())
        send(e->second, make_wire<proto::KillTask>([&](proto::KillTask::Builder b) {
          b.setTaskId(k.task_id);
          b.setAttempt(k.attempt);
          b.setReason(k.reason);
        }));
  }

  // A task set is gone: no executor needs its binary any more.
  void forget_set(stage_key key) {
    sets_.erase(key);
    for (auto& [id, shipped] : shipped_) {
      if (shipped.erase(key) == 0)
        continue;
      if (auto e = executors_.find(id); e != executors_.end())
        send(e->second, make_wire<proto::ForgetStages>([&](proto::ForgetStages::Builder b) {
          auto s = b.initStages(1)[0];
          s.setStageId(key.first);
          s.setStageAttempt(key.second);
        }));
    }
  }

  // -- offers --------------------------------------------------------------------------------------

  // Fills free cores (one LaunchTasks per executor, carrying the stage binaries it lacks), then
  // sets a wake-up for the next locality timeout.
  void offer_cores() {
    auto now = clock().now();
    if (wait_registered_until_) {
      bool all_granted_here = granted_cores_ > 0 && registered_cores_ >= granted_cores_;
      if (registered_cores_ < cfg_.min_registered_cores && !all_granted_here && now < *wait_registered_until_) {
        if (!wakeup_) {
          wakeup_ = *wait_registered_until_;
          delayed_send(this, std::chrono::duration_cast<std::chrono::milliseconds>(*wakeup_ - now) + std::chrono::milliseconds{1},
                       offer_atom::value);
        }
        return;
      }
      wait_registered_until_.reset();
    }
    auto res = logic_->offers(now);
    std::map<std::string, std::vector<const scheduler::task_launch*>> by_executor;
    for (auto& l : res.launches)
      by_executor[l.executor_id].push_back(&l);
    for (auto& [executor_id, launches] : by_executor) {
      auto exec = executors_.find(executor_id);
      if (exec == executors_.end())
        continue;
      send(exec->second, launch_tasks(executor_id, launches));
      if (!task_events_)
        continue;
      for (auto* l : launches) {
        auto& t = launched_[l->task_id];
        t = {l->attempt, l->stage_id, l->stage_attempt, l->partition, l->executor_id, l->host, to_proto(l->locality), epoch_ms()};
        post([&] { return task_start_event(l->task_id, t, l->speculative); });
      }
    }
    for (auto& a : res.aborted)
      abort_set(a.stage_id, a.stage_attempt, a.message);
    if (auto next = logic_->next_timeout(now); next && (!wakeup_ || *next < *wakeup_)) {
      wakeup_ = *next;
      delayed_send(this, std::chrono::duration_cast<std::chrono::milliseconds>(*next - now) + std::chrono::milliseconds{1},
                   offer_atom::value);
    }
    allocate();
  }

  // One executor's launches, with the stage binaries it has not cached yet.
  wire<proto::LaunchTasks> launch_tasks(const std::string& executor_id,
                                        const std::vector<const scheduler::task_launch*>& launches) {
    auto& shipped = shipped_[executor_id];
    std::vector<std::pair<stage_key, const task_set_info*>> binaries;
    for (auto* l : launches) {
      stage_key key{l->stage_id, l->stage_attempt};
      if (shipped.insert(key).second)
        binaries.emplace_back(key, &sets_.at(key));
    }
    return make_wire<proto::LaunchTasks>([&](proto::LaunchTasks::Builder m) {
      auto bins = m.initBinaries(static_cast<unsigned>(binaries.size()));
      for (unsigned i = 0; i < binaries.size(); ++i) {
        bins[i].setStageId(binaries[i].first.first);
        bins[i].setStageAttempt(binaries[i].first.second);
        bins[i].setBinary(bytes(*binaries[i].second->binary));
      }
      auto tasks = m.initTasks(static_cast<unsigned>(launches.size()));
      for (unsigned i = 0; i < launches.size(); ++i) {
        auto& l = *launches[i];
        auto& set = sets_.at({l.stage_id, l.stage_attempt});
        auto b = tasks[i];
        b.setTaskId(l.task_id);
        b.setAttempt(l.attempt);
        b.setJobId(l.job_id);
        b.setStageId(l.stage_id);
        b.setStageAttempt(l.stage_attempt);
        b.setPartition(l.partition);
        b.setLocality(to_proto(l.locality));
        b.setKind(set.kind);
        b.setShuffleId(set.shuffle_id);
        b.setSpeculative(l.speculative);
      }
    });
  }

  // Dynamic allocation: feed the policy the backlog and busy executors, forward its decisions,
  // and wake up at its next deadline. Only on a cluster with the feature on.
  void allocate() {
    if (!alloc_ || !alloc_target_)
      return;
    auto now = clock().now();
    alloc_->pending_tasks(logic_->pending_tasks(), now);
    auto running = logic_->running_per_executor();
    for (auto& [id, handle] : executors_) {
      auto r = running.find(id);
      alloc_->running_tasks(id, r == running.end() ? 0 : r->second, now);
    }
    auto d = alloc_->tick(now);
    if (d.target)
      send(alloc_target_, make_wire<proto::RequestExecutors>([&](proto::RequestExecutors::Builder b) {
        b.setAppId(app_id_);
        b.setRequestedTotal(*d.target);
      }));
    if (!d.release.empty()) {
      std::string ids;
      for (auto& id : d.release)
        ids += (ids.empty() ? "" : ", ") + id;
      log_->info("releasing idle executors {}", ids);
      send(alloc_target_, make_wire<proto::KillExecutors>([&](proto::KillExecutors::Builder b) {
        b.setAppId(app_id_);
        auto ids = b.initExecutorIds(static_cast<unsigned>(d.release.size()));
        for (unsigned i = 0; i < d.release.size(); ++i)
          ids.set(i, d.release[i]);
      }));
    }
    if (auto next = alloc_->next_deadline(); next && (!alloc_wakeup_ || *next < *alloc_wakeup_)) {
      alloc_wakeup_ = *next;
      auto wait = std::max(steady_clock::duration::zero(), *next - now);
      delayed_send(this, std::chrono::duration_cast<std::chrono::milliseconds>(wait) + std::chrono::milliseconds{1},
                   alloc_atom::value);
    }
  }

  // -- listener events -----------------------------------------------------------------------------

  // Every attempt that ends (finished, failed and retried, killed, lost) becomes one TaskEnd;
  // `update` is its StatusUpdate, if it sent one.
  void post_task_end(uint64_t task_id, uint32_t attempt, proto::TaskState state, const std::string& reason,
                     std::optional<proto::StatusUpdate::Reader> update) {
    auto i = launched_.find(task_id);
    if (i == launched_.end() || i->second.attempt != attempt)
      return;
    post([&] {
      std::optional<proto::TaskError::Reader> error;
      std::optional<proto::TaskMetrics::Reader> metrics;
      if (update) {
        if (update->getResult().isError())
          error = update->getResult().getError();
        metrics = update->getMetrics();
      }
      return task_end_event(task_id, i->second, state, reason, error, metrics);
    });
    launched_.erase(i);
  }

  // Builds the event only when there is a bus to take it.
  template <class Build>
  void post(Build&& build) {
    if (cfg_.listener_bus)
      send(cfg_.listener_bus, build());
  }

  task_scheduler_config cfg_;
  std::unique_ptr<scheduler::task_scheduler> logic_;
  std::map<stage_key, task_set_info> sets_;
  std::map<std::string, caf::actor> executors_;
  // The stage binaries each executor caches: sent with its first task of the stage attempt,
  // dropped there (ForgetStages) when the task set is gone.
  std::map<std::string, std::set<stage_key>> shipped_;
  std::map<caf::actor_addr, std::string> executor_ids_;
  std::map<std::string, std::string> disconnected_; // id -> why, waiting for the worker's account
  uint32_t registered_cores_ = 0;                   // every executor that ever registered
  uint32_t granted_cores_ = 0;                      // every executor the master granted
  std::optional<steady_clock::time_point> wait_registered_until_; // set while waiting for executors
  std::map<uint64_t, launched_task> launched_; // task id -> running attempt (listener events)
  // TaskStart/TaskEnd only while someone consumes them (event log, progress bar, a subscriber):
  // building them was a fifth of a trivial task's cost. The bus turns them on for subscribers.
  bool task_events_ = true;
  // Accepted task ends of the StatusUpdates batch being processed, sent to the dag scheduler as
  // one TaskEndedBatch at its end (or before anything else goes to it, to keep the order).
  struct pending_end {
    uint32_t stage_id, stage_attempt, partition;
    proto::StatusUpdate::Reader update; // inside the batch being processed
  };
  std::vector<pending_end> pending_ends_;
  caf::actor dag_;
  std::string app_id_ = "local";
  caf::response_promise stop_promise_; // close_atom: answered when the last executor is gone
  std::optional<steady_clock::time_point> wakeup_; // earliest pending offer_atom
  std::unique_ptr<scheduler::allocation_policy> alloc_; // dynamic allocation, if on
  std::optional<steady_clock::time_point> alloc_wakeup_;       // earliest pending alloc_atom
  caf::actor alloc_target_;                             // the cluster manager backend
  std::shared_ptr<spdlog::logger> log_;
};

} // namespace

caf::actor spawn_task_scheduler(caf::actor_system& sys, task_scheduler_config cfg) {
  return sys.spawn<task_scheduler>(std::move(cfg));
}

} // namespace ember::actors
