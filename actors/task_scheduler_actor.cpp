#include "actors/task_scheduler_actor.hpp"

#include <map>
#include <set>

#include <caf/all.hpp>

#include "actors/listener_bus.hpp"
#include "actors/conversions.hpp"
#include "config/log.hpp"
#include "scheduler/task_scheduler.hpp"

namespace ember::actors {

namespace {

using clock = std::chrono::steady_clock;
using alloc_atom = caf::atom_constant<caf::atom("alloc")>;
using loss_atom = caf::atom_constant<caf::atom("loss")>;
using speculate_atom = caf::atom_constant<caf::atom("speculate")>;

struct task_set_info {
  std::shared_ptr<const std::string> binary;
  proto::TaskKind kind = proto::TaskKind::RESULT;
  uint32_t shuffle_id = 0;
  uint32_t job_id = 0;
};

// A launched attempt, for its TaskEnd event.
struct launched_task {
  uint32_t attempt = 0;
  uint32_t stage_id = 0;
  uint32_t stage_attempt = 0;
  uint32_t partition = 0;
  std::string executor_id;
  std::string host;
  proto::Locality locality = proto::Locality::ANY;
  uint64_t launch_time = 0;
};

using stage_key = std::pair<uint32_t, uint32_t>; // (stage, attempt)

struct task_scheduler_state {
  std::unique_ptr<scheduler::task_scheduler> logic;
  std::map<stage_key, task_set_info> sets;
  std::map<std::string, caf::actor> executors;
  // The stage binaries each executor caches: sent with its first task of the stage attempt,
  // dropped there (ForgetStages) when the task set is gone.
  std::map<std::string, std::set<stage_key>> shipped;
  std::map<caf::actor_addr, std::string> executor_ids;
  std::map<std::string, std::string> disconnected; // id -> why, waiting for the worker's account
  uint32_t registered_cores = 0;                   // every executor that ever registered
  uint32_t granted_cores = 0;                      // every executor the master granted
  std::optional<clock::time_point> wait_registered_until; // set while waiting for executors
  std::map<uint64_t, launched_task> launched; // task id -> running attempt (listener events)
  // TaskStart/TaskEnd only while someone consumes them (event log, progress bar, a subscriber):
  // building them was a fifth of a trivial task's cost. The bus turns them on for subscribers.
  bool task_events = true;
  // Accepted task ends of the StatusUpdates batch being processed, sent to the dag scheduler as
  // one TaskEndedBatch at its end (or before anything else goes to it, to keep the order).
  struct pending_end {
    uint32_t stage_id, stage_attempt, partition;
    proto::StatusUpdate::Reader update; // inside the batch being processed
  };
  std::vector<pending_end> pending_ends;
  caf::actor dag;
  std::string app_id = "local";
  caf::response_promise stop_promise; // close_atom: answered when the last executor is gone
  std::optional<clock::time_point> wakeup; // earliest pending offer_atom
  std::unique_ptr<scheduler::allocation_policy> alloc; // dynamic allocation, if on
  std::optional<clock::time_point> alloc_wakeup;       // earliest pending alloc_atom
  caf::actor alloc_target;                            // the app client
  std::shared_ptr<spdlog::logger> log;
  static inline const char* name = "task_scheduler";
};

scheduler::task_scheduler_settings logic_settings(const config::scheduler_settings& s) {
  scheduler::task_scheduler_settings out;
  auto& t = out.task_set;
  t.max_task_failures = s.max_task_failures;
  t.locality_wait_process = s.locality_wait_process;
  t.locality_wait_node = s.locality_wait_node;
  t.locality_wait_rack = s.locality_wait_rack;
  t.speculation = s.speculation;
  t.speculation_multiplier = s.speculation_multiplier;
  t.speculation_quantile = s.speculation_quantile;
  t.speculation_min_runtime = s.speculation_min_task_runtime;
  if (s.exclude_on_failure) {
    t.max_task_attempts_per_executor = s.max_task_attempts_per_executor;
    t.max_task_attempts_per_node = s.max_task_attempts_per_node;
    t.max_failed_tasks_per_executor = s.max_failed_tasks_per_executor_stage;
    t.max_failed_executors_per_node = s.max_failed_executors_per_node_stage;
    out.max_failed_tasks_per_executor_app = s.max_failed_tasks_per_executor_app;
    out.exclude_timeout = s.exclude_timeout;
  }
  out.cpus_per_task = static_cast<uint32_t>(s.task_cpus);
  out.mode = s.mode == config::scheduling_mode::fair ? scheduler::scheduling_mode::fair : scheduler::scheduling_mode::fifo;
  return out;
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

caf::behavior task_scheduler_actor(caf::stateful_actor<task_scheduler_state>* self, task_scheduler_config cfg) {
  self->state.log = log::get("task_scheduler");
  self->state.task_events = cfg.task_events;
  auto logic = logic_settings(cfg.settings);
  logic.pools = cfg.pools;
  logic.short_task_threshold = cfg.short_task_threshold;
  self->state.logic = std::make_unique<scheduler::task_scheduler>(std::move(logic));
  if (cfg.allocation)
    self->state.alloc = std::make_unique<scheduler::allocation_policy>(*cfg.allocation);

  // Dynamic allocation: feed the policy the backlog and busy executors, forward its decisions,
  // and wake up at its next deadline. Only on a cluster with the feature on.
  auto allocate = [self] {
    auto& st = self->state;
    if (!st.alloc || !st.alloc_target)
      return;
    auto& target = st.alloc_target;
    auto now = self->clock().now();
    st.alloc->pending_tasks(st.logic->pending_tasks(), now);
    auto running = st.logic->running_per_executor();
    for (auto& [id, handle] : st.executors) {
      auto r = running.find(id);
      st.alloc->running_tasks(id, r == running.end() ? 0 : r->second, now);
    }
    auto d = st.alloc->tick(now);
    if (d.target)
      self->send(target, make_wire<proto::RequestExecutors>([&](proto::RequestExecutors::Builder b) {
        b.setAppId(st.app_id);
        b.setRequestedTotal(*d.target);
      }));
    if (!d.release.empty()) {
      std::string ids;
      for (auto& id : d.release)
        ids += (ids.empty() ? "" : ", ") + id;
      st.log->info("releasing idle executors {}", ids);
      self->send(target, make_wire<proto::KillExecutors>([&](proto::KillExecutors::Builder b) {
        b.setAppId(st.app_id);
        auto ids = b.initExecutorIds(static_cast<unsigned>(d.release.size()));
        for (unsigned i = 0; i < d.release.size(); ++i)
          ids.set(i, d.release[i]);
      }));
    }
    if (auto next = st.alloc->next_deadline(); next && (!st.alloc_wakeup || *next < *st.alloc_wakeup)) {
      st.alloc_wakeup = *next;
      auto wait = std::max(clock::duration::zero(), *next - now);
      self->delayed_send(self, std::chrono::duration_cast<std::chrono::milliseconds>(wait) + std::chrono::milliseconds{1},
                         alloc_atom::value);
    }
  };

  auto flush_ends = [self] {
    auto& ends = self->state.pending_ends;
    if (ends.empty())
      return;
    self->send(self->state.dag, make_wire<proto::TaskEndedBatch>([&](proto::TaskEndedBatch::Builder b) {
      auto list = b.initEnds(static_cast<unsigned>(ends.size()));
      for (unsigned i = 0; i < ends.size(); ++i) {
        list[i].setStageId(ends[i].stage_id);
        list[i].setStageAttempt(ends[i].stage_attempt);
        list[i].setPartition(ends[i].partition);
        list[i].setUpdate(ends[i].update);
      }
    }));
    ends.clear();
  };

  auto abort_set = [self, flush_ends](uint32_t stage, uint32_t attempt, const std::string& message) {
    flush_ends();
    self->send(self->state.dag, make_wire<proto::TaskSetFailed>([&](proto::TaskSetFailed::Builder b) {
      b.setStageId(stage);
      b.setStageAttempt(attempt);
      b.setReason(message);
    }));
  };

  // Every attempt that ends (finished, failed and retried, killed, lost) becomes one TaskEnd.
  auto post_task_end = [self, bus = cfg.listener_bus](uint64_t task_id, uint32_t attempt, proto::TaskState state,
                                                      const std::string& reason, auto&& fill_rest) {
    auto& launched = self->state.launched;
    auto i = launched.find(task_id);
    if (i == launched.end() || i->second.attempt != attempt)
      return;
    auto& t = i->second;
    post_event(self, bus, [&](proto::ListenerEvent::Builder e) {
      auto b = e.initTaskEnd();
      b.setTaskId(task_id);
      b.setAttempt(attempt);
      b.setStageId(t.stage_id);
      b.setStageAttempt(t.stage_attempt);
      b.setPartition(t.partition);
      b.setExecutorId(t.executor_id);
      b.setHost(t.host);
      b.setLocality(t.locality);
      b.setLaunchTime(t.launch_time);
      b.setFinishTime(epoch_ms());
      b.setState(state);
      b.setReason(reason);
      fill_rest(b);
    });
    launched.erase(i);
  };

  auto send_kills = [self](const std::vector<scheduler::kill_request>& kills) {
    for (auto& k : kills)
      if (auto e = self->state.executors.find(k.executor_id); e != self->state.executors.end())
        self->send(e->second, make_wire<proto::KillTask>([&](proto::KillTask::Builder b) {
          b.setTaskId(k.task_id);
          b.setAttempt(k.attempt);
          b.setReason(k.reason);
        }));
  };

  // A task set is gone: no executor needs its binary any more.
  auto forget_set = [self](stage_key key) {
    auto& st = self->state;
    st.sets.erase(key);
    for (auto& [id, shipped] : st.shipped) {
      if (shipped.erase(key) == 0)
        continue;
      if (auto e = st.executors.find(id); e != st.executors.end())
        self->send(e->second, make_wire<proto::ForgetStages>([&](proto::ForgetStages::Builder b) {
          auto s = b.initStages(1)[0];
          s.setStageId(key.first);
          s.setStageAttempt(key.second);
        }));
    }
  };

  // Fills free cores (one LaunchTasks per executor, carrying the stage binaries it lacks), then
  // sets a wake-up for the next locality timeout.
  if (cfg.min_registered_cores > 0)
    self->state.wait_registered_until = self->clock().now() + cfg.max_registered_wait;
  auto launch = [self, abort_set, allocate, min_cores = cfg.min_registered_cores, bus = cfg.listener_bus] {
    auto& st = self->state;
    auto now = self->clock().now();
    if (st.wait_registered_until) {
      bool all_granted_here = st.granted_cores > 0 && st.registered_cores >= st.granted_cores;
      if (st.registered_cores < min_cores && !all_granted_here && now < *st.wait_registered_until) {
        if (!st.wakeup) {
          st.wakeup = *st.wait_registered_until;
          self->delayed_send(self, std::chrono::duration_cast<std::chrono::milliseconds>(*st.wakeup - now)
                                     + std::chrono::milliseconds{1}, offer_atom::value);
        }
        return;
      }
      st.wait_registered_until.reset();
    }
    auto res = st.logic->offers(now);
    std::map<std::string, std::vector<const scheduler::task_launch*>> by_executor;
    for (auto& l : res.launches)
      by_executor[l.executor_id].push_back(&l);
    for (auto& [executor_id, launches] : by_executor) {
      auto exec = st.executors.find(executor_id);
      if (exec == st.executors.end())
        continue;
      auto& shipped = st.shipped[executor_id];
      std::vector<std::pair<stage_key, const task_set_info*>> binaries;
      for (auto* l : launches) {
        stage_key key{l->stage_id, l->stage_attempt};
        if (shipped.insert(key).second)
          binaries.emplace_back(key, &st.sets.at(key));
      }
      self->send(exec->second, make_wire<proto::LaunchTasks>([&](proto::LaunchTasks::Builder m) {
        auto bins = m.initBinaries(static_cast<unsigned>(binaries.size()));
        for (unsigned i = 0; i < binaries.size(); ++i) {
          bins[i].setStageId(binaries[i].first.first);
          bins[i].setStageAttempt(binaries[i].first.second);
          bins[i].setBinary(bytes(*binaries[i].second->binary));
        }
        auto tasks = m.initTasks(static_cast<unsigned>(launches.size()));
        for (unsigned i = 0; i < launches.size(); ++i) {
          auto& l = *launches[i];
          auto& set = st.sets.at({l.stage_id, l.stage_attempt});
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
      }));
      if (!st.task_events)
        continue;
      for (auto* lp : launches) {
        auto& l = *lp;
        auto& t = st.launched[l.task_id];
        t = {l.attempt, l.stage_id, l.stage_attempt, l.partition, l.executor_id, l.host, to_proto(l.locality), epoch_ms()};
        post_event(self, bus, [&](proto::ListenerEvent::Builder e) {
          auto b = e.initTaskStart();
          b.setTaskId(l.task_id);
          b.setAttempt(l.attempt);
          b.setStageId(l.stage_id);
          b.setStageAttempt(l.stage_attempt);
          b.setPartition(l.partition);
          b.setExecutorId(l.executor_id);
          b.setHost(l.host);
          b.setLocality(t.locality);
          b.setLaunchTime(t.launch_time);
          b.setSpeculative(l.speculative);
        });
      }
    }
    for (auto& a : res.aborted)
      abort_set(a.stage_id, a.stage_attempt, a.message);
    if (auto next = st.logic->next_timeout(now); next && (!st.wakeup || *next < *st.wakeup)) {
      st.wakeup = *next;
      self->delayed_send(self, std::chrono::duration_cast<std::chrono::milliseconds>(*next - now)
                                 + std::chrono::milliseconds{1}, offer_atom::value);
    }
    allocate();
  };

  // One task attempt's new state; the caller offers the freed cores once per batch.
  auto status_update = [self, abort_set, post_task_end, send_kills, forget_set](proto::StatusUpdate::Reader u) {
    auto& st = self->state;
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
        return; // launching / running: progress only
    }
    if (st.alloc && res.isMapOutput())
      st.alloc->shuffle_data(str(u.getExecutorId()), true); // no shuffle is ever cleaned up yet
    std::optional<std::chrono::nanoseconds> run_time;
    if (ts.state == scheduler::task_state::finished)
      run_time = std::chrono::nanoseconds{u.getMetrics().getExecutorRunTimeNs()};
    auto out = st.logic->status_update(ts, self->clock().now(), run_time);
    post_task_end(ts.task_id, ts.attempt, u.getState(), ts.reason, [&](proto::TaskEndEvent::Builder b) {
      if (res.isError())
        b.setError(res.getError());
      b.setMetrics(u.getMetrics());
    });
    using kind = scheduler::task_event_kind;
    if (out.kind == kind::finished || out.kind == kind::fetch_failed) {
      st.pending_ends.push_back({out.stage_id, out.stage_attempt, out.partition, u});
    } else if (out.kind == kind::aborted) {
      abort_set(out.stage_id, out.stage_attempt, out.message);
    } else if (out.kind == kind::failed) {
      st.log->warn("task {}.{} (partition {}) failed: {}", ts.task_id, ts.attempt, out.partition, ts.reason);
    }
    send_kills(out.kills);
    if (out.task_set_done)
      forget_set({out.stage_id, out.stage_attempt});
  };

  // An executor is gone: its running tasks are resubmitted (not counted as failures), the dag
  // scheduler unregisters its map outputs. Idempotent: the second report of the same loss (the
  // connection's down message, the worker's exit status) finds nothing to remove.
  auto remove_executor = [self, launch, post_task_end, bus = cfg.listener_bus](
                           const std::string& id, proto::ExecutorLossCause cause, const std::string& message) {
    auto& st = self->state;
    auto e = st.executors.find(id);
    if (e != st.executors.end()) {
      st.executor_ids.erase(e->second.address());
      st.executors.erase(e);
    } else if (st.disconnected.erase(id) == 0) {
      return;
    }
    st.shipped.erase(id);
    auto removal = st.logic->remove_executor(id, "executor " + id + " lost: " + message);
    self->send(st.dag, make_wire<proto::ExecutorLost>([&](proto::ExecutorLost::Builder b) {
      b.setExecutorId(id);
      b.setHost(removal.host);
      b.setCause(cause);
      b.setMessage(message);
    }));
    for (auto& lost : removal.lost_tasks)
      if (auto t = st.launched.find(lost.task_id); t != st.launched.end())
        post_task_end(lost.task_id, t->second.attempt, proto::TaskState::LOST, removal.reason, [](auto) {});
    if (st.alloc)
      st.alloc->executor_removed(id);
    post_event(self, bus, [&](proto::ListenerEvent::Builder ev) {
      auto b = ev.initExecutorRemoved();
      b.setExecutorId(id);
      b.setCause(cause);
      b.setMessage(message);
      b.setTime(epoch_ms());
    });
    if (st.executors.empty() && st.stop_promise.pending())
      st.stop_promise.deliver(caf::close_atom::value);
    launch();
  };

  self->set_down_handler([self, remove_executor, wait = cfg.loss_reason_wait](const caf::down_msg& dm) {
    auto& st = self->state;
    auto i = st.executor_ids.find(dm.source);
    if (i == st.executor_ids.end())
      return;
    auto id = i->second;
    if (st.stop_promise.pending() && (!dm.reason || dm.reason == caf::exit_reason::normal)) {
      // It stopped as asked (StopExecutor): the application's end, not a loss — no
      // executorRemoved event (docs/events.md), as in local mode.
      st.executor_ids.erase(i);
      st.executors.erase(id);
      st.shipped.erase(id);
      if (st.executors.empty())
        st.stop_promise.deliver(caf::close_atom::value);
      return;
    }
    if (wait.count() == 0 || st.stop_promise.pending()) {
      remove_executor(id, proto::ExecutorLossCause::CONNECTION_LOST, "connection lost (" + to_string(dm.reason) + ")");
      return;
    }
    // Why did it end? Its worker knows (exit code, signal, memory limit) and tells the master,
    // which tells us; until then it gets no new tasks.
    st.executor_ids.erase(i);
    st.executors.erase(id);
    st.disconnected[id] = to_string(dm.reason);
    st.logic->drain_executor(id);
    self->delayed_send(self, wait, loss_atom::value, id);
  });

  // ember.speculation: every ember.speculation.interval the task sets mark their stragglers;
  // copies of them go out with the next offers (the first attempt to finish wins).
  const auto speculation_interval = cfg.settings.speculation_interval;
  if (cfg.settings.speculation)
    self->delayed_send(self, speculation_interval, speculate_atom::value);

  return {
    [=](caf::actor dag) { self->state.dag = std::move(dag); },
    [=](caf::put_atom, const std::string& app_id) { self->state.app_id = app_id; },
    [=](granted_atom, uint32_t cores) {
      self->state.granted_cores += cores;
      launch();
    },
    [=](allocation_target_atom, caf::actor target) {
      self->state.alloc_target = std::move(target);
      allocate();
    },
    [=](const wire<proto::ExecutorLost>& msg) {
      auto& st = self->state;
      auto r = msg.reader();
      auto id = str(r.getExecutorId());
      auto cause = r.getCause();
      bool known = st.executors.count(id) != 0 || st.disconnected.count(id) != 0;
      bool by_its_tasks = cause == proto::ExecutorLossCause::MEMORY_LIMIT || cause == proto::ExecutorLossCause::EXIT_CODE
                          || cause == proto::ExecutorLossCause::SIGNAL;
      if (known && by_its_tasks && r.getWorkerView()) {
        auto message = str(r.getMessage());
        for (auto& f : st.logic->fail_running_tasks(id, message, self->clock().now())) {
          post_task_end(f.task_id, f.attempt, proto::TaskState::FAILED, message, [](auto) {});
          if (f.outcome.kind == scheduler::task_event_kind::aborted)
            abort_set(f.outcome.stage_id, f.outcome.stage_attempt, f.outcome.message);
          else
            st.log->warn("task {}.{} (partition {}) failed: {}", f.task_id, f.attempt, f.outcome.partition, message);
          send_kills(f.outcome.kills);
          if (f.outcome.task_set_done)
            forget_set({f.outcome.stage_id, f.outcome.stage_attempt});
        }
      }
      remove_executor(id, cause, str(r.getMessage()));
    },
    [=](loss_atom, const std::string& id) {
      auto i = self->state.disconnected.find(id);
      if (i == self->state.disconnected.end())
        return; // its worker's account came in time
      remove_executor(id, proto::ExecutorLossCause::CONNECTION_LOST,
                      "connection lost (" + i->second + "), no account from its worker within ember.executor.lossReasonWait");
    },
    // The application ends: every executor is asked to stop; the answer comes once all are gone
    // (their down messages), so executor processes exit by themselves, not by a worker's kill.
    [=](caf::close_atom) -> caf::result<caf::close_atom> {
      auto& st = self->state;
      if (st.executors.empty())
        return caf::close_atom::value;
      for (auto& [id, handle] : st.executors)
        self->send(handle, make_wire<proto::StopExecutor>([](auto b) { b.setReason("the application ends"); }));
      st.stop_promise = self->make_response_promise();
      return st.stop_promise;
    },
    [=](caf::subscribe_atom) { self->state.task_events = true; },
    [=](const wire<proto::RegisterExecutor>& msg) {
      auto& st = self->state;
      auto r = msg.reader();
      auto id = str(r.getExecutorId());
      auto handle = caf::actor_cast<caf::actor>(self->current_sender());
      uint32_t slots = r.getCores() * (1 + cfg.task_queue_depth);
      uint32_t extra = r.getCores() * (std::max(cfg.task_queue_depth, cfg.short_task_queue_depth) - cfg.task_queue_depth);
      st.registered_cores += r.getCores();
      if (!st.logic->add_executor(id, str(r.getHost()), str(r.getRack()), slots, extra)) {
        self->send(handle, make_wire<proto::RegisterExecutorFailed>([&](proto::RegisterExecutorFailed::Builder b) {
          b.setExecutorId(id);
          b.setReason("duplicate executor id " + id);
        }));
        return;
      }
      if (r.getReportsTaskStarts()) // its heartbeats say which attempts left its queue
        st.logic->executor_reports_starts(id, r.getCores());
      st.executors[id] = handle;
      st.executor_ids[handle.address()] = id;
      if (st.dag) // the block_manager_master learns the executor (a replica may go there)
        caf::send_as(handle, st.dag, msg);
      if (st.alloc)
        st.alloc->executor_added(id, self->clock().now());
      self->monitor(handle);
      self->send(handle, make_wire<proto::ExecutorRegistered>([&](proto::ExecutorRegistered::Builder b) {
        b.setAppId(st.app_id);
        b.setExecutorId(id);
      }));
      post_event(self, cfg.listener_bus, [&](proto::ListenerEvent::Builder e) {
        auto b = e.initExecutorAdded();
        b.setExecutorId(id);
        b.setHost(r.getHost());
        b.setCores(r.getCores());
        b.setTime(epoch_ms());
      });
      launch();
    },
    [=](const wire<proto::SubmitTaskSet>& msg) {
      auto& st = self->state;
      auto r = msg.reader();
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
      st.sets[{sub.stage_id, sub.stage_attempt}]
        = {std::make_shared<const std::string>(view(r.getTaskBinary())), r.getKind(), r.getShuffleId(), sub.job_id};
      st.logic->submit(std::move(sub), self->clock().now());
      launch();
    },
    [=](const wire<proto::StatusUpdates>& msg) {
      for (auto u : msg.reader().getUpdates())
        status_update(u);
      flush_ends();
      launch();
      // An executor injecting message faults (docs/chaos.md) sends its batches as requests and
      // resends them until acknowledged: the answer names the updates received. Plain sends (the
      // usual case) get no answer.
      if (self->current_message_id().is_request()) {
        auto rp = self->make_response_promise();
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
    },
    // Forwarded by the heartbeat receiver: the attempts running on an executor's task threads,
    // with their run time so far. Each one's real start (now - run time) replaces its launch for
    // speculation; the listener bus gets them as one executorMetricsUpdate (Spark's
    // SparkListenerExecutorMetricsUpdate), so the event log shows long tasks' progress.
    [=](const wire<proto::Heartbeat>& msg) {
      auto& st = self->state;
      auto r = msg.reader();
      auto id = str(r.getExecutorId());
      if (st.executors.count(id) == 0)
        return;
      auto now = self->clock().now();
      std::vector<std::optional<scheduler::task_scheduler::running_attempt>> stages;
      stages.reserve(r.getTasks().size());
      for (auto t : r.getTasks())
        stages.push_back(st.logic->task_running(id, t.getTaskId(), t.getAttempt(),
                                                std::chrono::nanoseconds{t.getMetrics().getExecutorRunTimeNs()}, now));
      if (!st.task_events)
        return;
      post_event(self, cfg.listener_bus, [&](proto::ListenerEvent::Builder e) {
        auto b = e.initExecutorMetricsUpdate();
        b.setExecutorId(r.getExecutorId());
        b.setTime(epoch_ms());
        auto list = b.initTasks(r.getTasks().size());
        for (unsigned i = 0; i < r.getTasks().size(); ++i) {
          auto t = r.getTasks()[i];
          auto m = t.getMetrics();
          list[i].setTaskId(t.getTaskId());
          list[i].setAttempt(t.getAttempt());
          if (stages[i]) {
            list[i].setStageKnown(true);
            list[i].setStageId(stages[i]->stage_id);
            list[i].setStageAttempt(stages[i]->stage_attempt);
          }
          list[i].setRunTimeMs(m.getExecutorRunTimeNs() / 1'000'000);
          list[i].setCpuTimeMs(m.getExecutorCpuTimeNs() / 1'000'000);
          list[i].setRemoteFetchesInFlight(t.getRemoteFetchesInFlight());
        }
      });
    },
    [=](const wire<proto::CancelStage>& msg) {
      auto r = msg.reader();
      auto kills = self->state.logic->cancel_stage(r.getStageId(), str(r.getReason()));
      send_kills(kills);
      forget_set({r.getStageId(), r.getStageAttempt()});
      launch();
    },
    [=](offer_atom) {
      self->state.wakeup.reset();
      launch();
    },
    [=](alloc_atom) {
      self->state.alloc_wakeup.reset();
      allocate();
    },
    [=](speculate_atom) {
      if (self->state.logic->check_speculation(self->clock().now()))
        launch();
      self->delayed_send(self, speculation_interval, speculate_atom::value);
    },
  };
}

} // namespace

caf::actor spawn_task_scheduler(caf::actor_system& sys, task_scheduler_config cfg) {
  return sys.spawn(task_scheduler_actor, std::move(cfg));
}

} // namespace ember::actors

namespace ember::actors {

scheduler::allocation_settings allocation_settings_from(const config::config& c) {
  auto a = config::allocation_settings::from(c);
  scheduler::allocation_settings out;
  out.enabled = a.enabled;
  out.min_executors = static_cast<uint32_t>(a.min_executors);
  out.max_executors = a.max_executors == INT32_MAX ? 0 : static_cast<uint32_t>(a.max_executors);
  out.initial_executors = static_cast<uint32_t>(std::max(a.initial_executors, a.min_executors));
  out.executor_idle_timeout = a.executor_idle_timeout;
  out.cached_executor_idle_timeout =
    a.cached_executor_idle_timeout == std::chrono::milliseconds::max() ? std::chrono::milliseconds{0} : a.cached_executor_idle_timeout;
  out.scheduler_backlog_timeout = a.scheduler_backlog_timeout;
  out.sustained_scheduler_backlog_timeout = a.sustained_scheduler_backlog_timeout;
  out.shuffle_tracking = a.shuffle_tracking;
  out.shuffle_service = a.shuffle_service;
  auto cpus = std::max<int64_t>(1, c.get_int("ember.task.cpus"));
  out.tasks_per_executor = static_cast<uint32_t>(std::max<int64_t>(1, c.get_int("ember.executor.cores") / cpus));
  if (auto err = scheduler::validate(out))
    throw std::runtime_error(*err);
  return out;
}

} // namespace ember::actors
