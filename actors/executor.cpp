#include "actors/executor.hpp"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <utility>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/atom.hpp>
#include <caf/system_messages.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include "actors/block_manager_actor.hpp"
#include "actors/conversions.hpp"
#include "actors/executor_services.hpp"
#include "config/fault_injector.hpp"
#include "config/log.hpp"
#include "config/secure_fs.hpp"
#include "executor/kill_list.hpp"
#include "executor/launch.hpp"
#include "executor/status_outbox.hpp"
#include "executor/status_update.hpp"
#include "executor/task_pool.hpp"
#include "executor/task_runner.hpp"
#include "protocol/executor.capnp.h"
#include "protocol/shuffle.capnp.h"

namespace ember::actors {

namespace {

std::atomic<bool> abandoned_tasks{false};  // executor_abandoned_tasks()

using faulty_send_atom = caf::atom_constant<caf::atom("faultysend")>;
using resend_atom = caf::atom_constant<caf::atom("resend")>;

using update = wire<proto::StatusUpdate>;
using outbox_type = executor::status_outbox<update>;

wire<proto::StatusUpdates> batch_of(const std::vector<update>& updates) {
  return make_wire<proto::StatusUpdates>([&](proto::StatusUpdates::Builder b) {
    auto list = b.initUpdates(static_cast<unsigned>(updates.size()));
    for (unsigned i = 0; i < updates.size(); ++i)
      list.setWithCaveats(i, updates[i].reader());
  });
}

// A task's end as the scheduler reads it.
update to_update(const std::string& executor_id, const executor::task_spec& spec, const executor::task_report& r) {
  return make_wire<proto::StatusUpdate>([&](proto::StatusUpdate::Builder b) {
    b.setExecutorId(executor_id);
    b.setTaskId(spec.task_id);
    b.setAttempt(spec.attempt);
    auto res = b.initResult();
    const auto& outcome = r.outcome;
    switch (outcome.what) {
      case detail::task_outcome::kind::result:
        b.setState(proto::TaskState::FINISHED);
        res.setDirect(bytes(outcome.result));
        break;
      case detail::task_outcome::kind::map_output:
        b.setState(proto::TaskState::FINISHED);
        fill(res.initMapOutput(), outcome.status);
        break;
      case detail::task_outcome::kind::error: {
        b.setState(proto::TaskState::FAILED);
        auto e = res.initError();
        e.setKind(outcome.error_kind);
        e.setMessage(outcome.error_message);
        break;
      }
      case detail::task_outcome::kind::fetch_failed: {
        b.setState(proto::TaskState::FAILED);
        auto f = res.initFetchFailed();
        f.setShuffleId(outcome.failed_shuffle);
        f.setMapIndex(outcome.failed_map);
        f.setExecutorId(outcome.failed_executor);
        f.setCorruptBlock(outcome.failed_block_corrupt);
        f.setMessage(outcome.error_message);
        break;
      }
    }
    executor::fill_metrics(b.initMetrics(), r.metrics);
  });
}

// One stage attempt's binary, as LaunchTasks brought it: the bytes stay inside that message
// (`holder`), shared by every task of the attempt and by the cache until ForgetStages.
struct stage_binary {
  wire<proto::LaunchTasks> holder;
  std::string_view bytes;
};

// What every task thread shares, built once (not per task, on the hot path); the queued jobs
// hold it, so it outlives the actor until the last one ran.
struct task_context {
  task_context(caf::actor_system& sys, executor_config c, std::string dir, caf::actor tracker, caf::actor block_manager,
               std::shared_ptr<map_output_index> outputs, std::shared_ptr<storage::block_manager> store)
    : cfg(std::move(c)), blocks(std::move(store)),
      services(sys, cfg, std::move(tracker), std::move(block_manager), std::move(outputs)),
      runner(runner_settings(cfg, std::move(dir)), services, *blocks, cfg.running.get(), cfg.broadcasts.get()),
      short_ns(static_cast<uint64_t>(cfg.short_task_threshold.count())) {}

  static executor::task_runner_settings runner_settings(const executor_config& cfg, std::string dir) {
    executor::task_runner_settings s;
    s.executor_id = cfg.executor_id;
    s.host = cfg.host;
    s.dir = std::move(dir);
    s.task_memory = cfg.task_memory;
    s.compress = cfg.compress;
    s.block_size = cfg.block_size;
    s.remote = cfg.process_mode;
    s.block_port = cfg.block_port;
    return s;
  }

  // One launch, on a task thread (executor/launch.hpp).
  void run(const executor::task_spec& spec, const stage_binary* binary) {
    executor::run_launch(
      spec, binary != nullptr, short_ns, kills, outbox, *pool,
      [this](const executor::task_spec& s, bool killed) {
        return make_wire<proto::StatusUpdate>(
          [&](proto::StatusUpdate::Builder b) { executor::fill_not_run(b, cfg.executor_id, s, killed); });
      },
      [this, binary](const executor::task_spec& s) { return run_one(s, binary->bytes); },
      [](const update& u) { return u.reader().getMetrics().getExecutorRunTimeNs(); });
  }

  update run_one(const executor::task_spec& spec, std::string_view binary) {
    auto report = runner.run(spec, binary);
    if (cfg.process_mode && report.outcome.out_of_memory) {
      // The process may be in no state to go on; the worker reports exit 52 as "exceeded
      // ember.executor.memory" and the driver reruns the task elsewhere.
      log::get("executor")->error("task {}.{} ran out of memory; executor {} exits", spec.task_id, spec.attempt,
                                  cfg.executor_id);
      std::_Exit(executor_oom_exit_code);
    }
    return to_update(cfg.executor_id, spec, report);
  }

  const executor_config cfg;
  std::shared_ptr<storage::block_manager> blocks;
  caf_task_services services;
  executor::task_runner runner;
  const uint64_t short_ns;
  executor::kill_list kills;
  outbox_type outbox;
  executor::task_pool* pool = nullptr; // the actor's; set before any job is queued
};

// -- the actor ------------------------------------------------------------------------------------

class executor_actor : public caf::event_based_actor {
public:
  executor_actor(caf::actor_config& ac, executor_config cfg, caf::actor driver, caf::actor tracker,
                 std::shared_ptr<map_output_index> outputs)
    : caf::event_based_actor(ac), driver_(std::move(driver)), log_(log::get("executor")) {
    start_ = std::make_unique<start_args>(start_args{std::move(cfg), std::move(tracker), std::move(outputs)});
  }

  const char* name() const override { return "executor"; }

  void on_exit() override {
    if (!pool_)
      return;
    // The queued tasks run (and report) first, but a stopping executor does not wait without
    // bound: a task stuck on a peer that never answers would hold the application's end.
    if (pool_->stop_within(stop_grace_))
      return;
    log_->warn("executor: task threads still busy after ember.executor.stopGracePeriod ({} ms); "
               "the process ends without them",
               stop_grace_.count());
    abandoned_tasks.store(true);
    (void)pool_.release();  // its detached threads use it until the process exits
  }

  caf::behavior make_behavior() override {
    start();
    register_with_driver();
    return {
      [this](const wire<proto::LaunchTasks>& msg) {
        if (from_driver("LaunchTasks"))
          launch_tasks(msg);
      },
      [this](const wire<proto::ForgetStages>& msg) {
        if (from_driver("ForgetStages"))
          forget_stages(msg);
      },
      // A running task finishes (C++ cannot interrupt it safely); the scheduler ignores its result.
      [this](const wire<proto::KillTask>& msg) {
        if (from_driver("KillTask"))
          tasks_->kills.add(msg.reader().getTaskId());
      },
      [this](const wire<proto::ExecutorRegistered>&) {
        if (from_driver("ExecutorRegistered"))
          on_registered();
      },
      [this](const wire<proto::RegisterExecutorFailed>& msg) {
        if (!from_driver("RegisterExecutorFailed"))
          return;
        log_->error("executor {}: the driver refused registration: {}", cfg().executor_id, str(msg.reader().getReason()));
        quit(caf::make_error(caf::sec::runtime_error, str(msg.reader().getReason())));
      },
      [this](const wire<proto::StopExecutor>&) {
        if (from_driver("StopExecutor"))
          quit();
      },
      // The block_manager_master knows this actor from RegisterExecutor until the block manager
      // actor reports a block: it is the one that replicates and removes.
      [this](const wire<proto::ReplicateBlock>& msg) { return delegate(block_manager_, msg); },
      [this](const wire<proto::RemoveRdd>& msg) { return delegate(block_manager_, msg); },
      // -- injected faults: the StatusUpdates send point with faults on ---------------------
      [this](faulty_send_atom, const wire<proto::StatusUpdates>& batch) { faulty_send(batch); },
      [this](faulty_send_atom, resend_atom, const wire<proto::StatusUpdates>& batch) { request_ack(batch); },
      [this](resend_atom) { resend(); },
    };
  }

private:
  // What the constructor got, used once the actor runs (links and spawns need a running actor).
  struct start_args {
    executor_config cfg;
    caf::actor tracker;
    std::shared_ptr<map_output_index> outputs;
  };

  const executor_config& cfg() const { return tasks_->cfg; }

  void start() {
    auto args = std::move(start_);
    auto& c = args->cfg;
    // Both private: every executor of the application on this host shares the app dir.
    auto dir = std::filesystem::path{c.app_dir} / c.executor_id;
    config::make_private_dir(c.app_dir);
    config::make_private_dir(dir);
    auto blocks = c.blocks ? c.blocks : std::make_shared<storage::block_manager>(c.storage_memory, dir / "blocks");
    block_manager_ = c.block_manager;
    if (!block_manager_) { // local mode: the block manager actor is this executor's own
      block_manager_actor_config bc;
      bc.executor_id = c.executor_id;
      bc.host = c.host;
      bc.block_port = c.block_port;
      bc.max_chunk_size = c.max_chunk_size;
      bc.ask_timeout = c.ask_timeout;
      bc.fetch_timeout = c.fetch_timeout;
      bc.fetch_retry_wait = c.fetch_retry_wait;
      block_manager_ = spawn_block_manager_actor(system(), bc, blocks, nullptr, args->tracker, caf::actor{});
      link_to(block_manager_);
    }
    tasks_ = std::make_shared<task_context>(system(), std::move(c), dir.string(), std::move(args->tracker), block_manager_,
                                            std::move(args->outputs), std::move(blocks));
    stop_grace_ = tasks_->cfg.stop_grace;
    pool_ = std::make_unique<executor::task_pool>(tasks_->cfg.cores, [tasks = tasks_] { tasks->outbox.flush(); });
    tasks_->pool = pool_.get();
  }

  void register_with_driver() {
    if (cfg().process_mode) {
      // The driver's process may die or its connection drop: then this executor has no purpose.
      monitor(driver_);
      set_down_handler([this](const caf::down_msg& dm) {
        log_->error("lost the driver ({}); executor exits", to_string(dm.reason));
        quit(dm.reason);
      });
    } else {
      link_to(driver_); // local mode: executor and driver live and die together
    }
    const auto& c = cfg();
    send(driver_, make_wire<proto::RegisterExecutor>([&](proto::RegisterExecutor::Builder b) {
      b.setExecutorId(c.executor_id);
      b.setHost(c.host);
      b.setCores(c.cores);
      b.setMemoryBytes(c.task_memory * c.cores);
      b.setPid(static_cast<uint32_t>(::getpid()));
      b.setWorkDir(c.app_dir);
      b.setWorkerId(c.worker_id);
      b.setPort(c.block_port);
      b.setReportsTaskStarts(c.running != nullptr);
    }));
  }

  // Every launch of one offer round, queued for the task threads, which report through the
  // outbox straight to the scheduler.
  void launch_tasks(const wire<proto::LaunchTasks>& msg) {
    auto r = msg.reader();
    for (auto b : r.getBinaries())
      stages_[{b.getStageId(), b.getStageAttempt()}] = std::make_shared<const stage_binary>(stage_binary{msg, view(b.getBinary())});
    std::vector<executor::task_pool::job> jobs;
    jobs.reserve(r.getTasks().size());
    for (unsigned i = 0; i < r.getTasks().size(); ++i) {
      auto lt = r.getTasks()[i];
      executor::task_spec spec{lt.getTaskId(), lt.getAttempt(), lt.getStageId(), lt.getStageAttempt(), lt.getPartition()};
      std::shared_ptr<const stage_binary> binary;
      if (auto stage = stages_.find({spec.stage_id, spec.stage_attempt}); stage != stages_.end())
        binary = stage->second;
      else // the scheduler sends a binary before its first task here: a bug, but not a hang
        log_->error("task {}.{}: executor {} has no binary for stage {}.{}", spec.task_id, spec.attempt,
                    cfg().executor_id, spec.stage_id, spec.stage_attempt);
      jobs.emplace_back([tasks = tasks_, spec, binary] { tasks->run(spec, binary.get()); });
    }
    pool_->push_all(jobs);
  }

  void forget_stages(const wire<proto::ForgetStages>& msg) {
    for (auto s : msg.reader().getStages()) {
      stages_.erase({s.getStageId(), s.getStageAttempt()});
      tasks_->outbox.forget({s.getStageId(), s.getStageAttempt()});
    }
  }

  // Tasks, kills and the stop come from the driver's process only: another member of an
  // authenticated cluster cannot run or stop tasks here (docs/security.md).
  bool from_driver(const char* what) {
    auto s = current_sender();
    if (s != nullptr && s->node() == driver_.node())
      return true;
    log_->warn("executor {}: ignored {} from {}, not from its driver", cfg().executor_id, what,
               s ? to_string(s->node()) : std::string{"an anonymous sender"});
    return false;
  }

  void on_registered() {
    scheduler_ = caf::actor_cast<caf::actor>(current_sender());
    if (!scheduler_) {
      log_->debug("executor {} registered", cfg().executor_id);
      return; // nobody to send to: updates wait in the outbox
    }
    if (cfg().faults && cfg().faults->enabled()) {
      // Every batch goes through this actor, which sends it as a request through the injector.
      auto me = caf::actor_cast<caf::weak_actor_ptr>(this);
      tasks_->outbox.set_sink(
        [me](const std::vector<update>& batch) {
          if (auto executor = me.lock()) // gone: the process is ending anyway
            caf::anon_send(caf::actor_cast<caf::actor>(executor), faulty_send_atom::value, batch_of(batch));
        },
        true);
      delayed_send(this, cfg().resend_interval, resend_atom::value);
    } else {
      tasks_->outbox.set_sink([to = scheduler_](const std::vector<update>& batch) { caf::anon_send(to, batch_of(batch)); });
    }
    log_->debug("executor {} registered", cfg().executor_id);
  }

  // -- injected faults (docs/chaos.md) --------------------------------------------------------
  void faulty_send(const wire<proto::StatusUpdates>& batch) {
    auto d = cfg().faults->decide(config::fault_kind::status_updates);
    for (unsigned copy = 0; copy < d.copies; ++copy) {
      if (d.delay.count() > 0)
        delayed_send(this, d.delay, faulty_send_atom::value, resend_atom::value, batch);
      else
        request_ack(batch);
    }
  }

  void request_ack(const wire<proto::StatusUpdates>& batch) {
    request(scheduler_, caf::infinite, batch)
      .then(
        [tasks = tasks_](const wire<proto::StatusUpdates>& ack) {
          std::vector<outbox_type::task_key> keys;
          for (auto u : ack.reader().getUpdates())
            keys.emplace_back(u.getTaskId(), u.getAttempt());
          tasks->outbox.acknowledged(keys);
        },
        [](const caf::error&) {}); // unacknowledged: the next resend tick sends it again
  }

  void resend() {
    auto stale = tasks_->outbox.stale();
    if (!stale.empty()) {
      log_->info("executor {}: resending {} unacknowledged status updates", cfg().executor_id, stale.size());
      send(this, faulty_send_atom::value, batch_of(stale));
    }
    delayed_send(this, cfg().resend_interval, resend_atom::value);
  }

  std::unique_ptr<start_args> start_;
  caf::actor driver_;
  caf::actor scheduler_; // who answered ExecutorRegistered: StatusUpdates go there
  caf::actor block_manager_;
  std::shared_ptr<spdlog::logger> log_;
  std::shared_ptr<task_context> tasks_;
  std::unique_ptr<executor::task_pool> pool_;
  std::chrono::milliseconds stop_grace_{5000};
  std::map<std::pair<uint32_t, uint32_t>, std::shared_ptr<const stage_binary>> stages_; // (stage, attempt)
};

} // namespace

caf::actor spawn_executor(caf::actor_system& sys, executor_config cfg, caf::actor driver, caf::actor tracker,
                          std::shared_ptr<map_output_index> outputs) {
  return sys.spawn<executor_actor>(std::move(cfg), std::move(driver), std::move(tracker), std::move(outputs));
}

bool executor_abandoned_tasks() { return abandoned_tasks.load(); }

} // namespace ember::actors
