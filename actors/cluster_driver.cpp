#include "actors/cluster_driver.hpp"

#include <caf/all.hpp>

#include "actors/messages.hpp"
#include "actors/task_scheduler.hpp"
#include "config/log.hpp"
#include "deploy/binary_cache.hpp"
#include "actors/heartbeat_receiver.hpp"

namespace ember::actors {

namespace {

// Ships this executable to workers that lack it: one BinaryChunk per FetchBinary (blocking reads,
// hence a detached actor).
caf::behavior binary_server(caf::event_based_actor*, std::string path, std::string hash, size_t max_chunk_size) {
  return {
    [=](const wire<proto::FetchBinary>& msg) -> caf::result<wire<proto::BinaryChunk>> {
      auto r = msg.reader();
      if (str(r.getContentHash()) != hash)
        return caf::make_error(caf::sec::runtime_error, "this driver serves " + hash + ", not " + str(r.getContentHash()));
      auto limit = static_cast<uint32_t>(std::min<size_t>(std::max<uint32_t>(r.getMaxChunkSize(), 4096), max_chunk_size));
      deploy::binary_chunk chunk;
      try {
        chunk = deploy::read_chunk(path, r.getOffset(), limit);
      } catch (const std::exception& e) {
        return caf::make_error(caf::sec::runtime_error, std::string{"the driver cannot read its binary: "} + e.what());
      }
      return make_wire<proto::BinaryChunk>([&](proto::BinaryChunk::Builder b) {
        b.setContentHash(hash);
        b.setOffset(chunk.offset);
        b.setTotalSize(chunk.total_size);
        b.setData(bytes(chunk.data));
        b.setChecksum(chunk.checksum);
        b.setLast(chunk.last);
      });
    },
  };
}

caf::behavior driver_endpoint(caf::event_based_actor* self, caf::actor tasks, caf::actor dag, caf::actor binaries,
                              caf::actor heartbeats) {
  // Dies with the driver's schedulers: then executors see it go and exit.
  self->link_to(tasks);
  self->link_to(binaries);
  return {
    // delegate keeps the original sender: the task scheduler answers the executor directly.
    [=](const wire<proto::RegisterExecutor>& msg) {
      auto r = msg.reader();
      // The heartbeat receiver hears of it first: mailboxes are FIFO, so its first Heartbeat
      // (sent by the executor after this) finds it known.
      self->send(heartbeats, executor_registered_atom::value, str(r.getExecutorId()), str(r.getHost()),
                 caf::actor_cast<caf::actor>(self->current_sender()));
      return self->delegate(tasks, msg);
    },
    [=](const wire<proto::Heartbeat>& msg) { return self->delegate(heartbeats, msg); },
    [=](kill_target_atom, caf::actor app_client) { self->send(heartbeats, kill_target_atom::value, app_client); },
    [=](const wire<proto::GetMapOutputs>& msg) { return self->delegate(dag, msg); },
  self->link_to(heartbeats);
    [=](const wire<proto::FetchBinary>& msg) { return self->delegate(binaries, msg); },
  };
}

struct app_client_state {
  std::string app_id;
  caf::response_promise registered;
  std::shared_ptr<spdlog::logger> log;
  static inline const char* name = "app_client";
};

proto::ExecutorLossCause loss_cause(proto::ExecutorUpdated::Reader u) {
  auto message = str(u.getMessage());
  if (message.find("exceeded ember.executor.memory") != std::string::npos)
    return proto::ExecutorLossCause::MEMORY_LIMIT;
  if (u.getWorkerLost())
    return proto::ExecutorLossCause::WORKER_LOST;
  if (u.getState() == proto::ExecutorState::KILLED)
    return proto::ExecutorLossCause::KILLED_BY_DRIVER;
  if (u.getSignal() != 0)
    return proto::ExecutorLossCause::SIGNAL;
  return proto::ExecutorLossCause::EXIT_CODE;
}

caf::behavior app_client(caf::stateful_actor<app_client_state>* self, caf::actor master, app_description app,
                         caf::actor tasks, caf::actor dag) {
  self->state.log = log::get("app_client");
  self->link_to(tasks); // the application ends with its schedulers
  self->monitor(master);
  self->set_down_handler([self](const caf::down_msg& dm) {
    // Running executors keep working for this application; only new executors need the master.
    self->state.log->warn("lost the master ({}); running executors continue", to_string(dm.reason));
    if (self->state.registered.pending())
      self->state.registered.deliver(caf::make_error(caf::sec::runtime_error, "the master went away before it answered"));
  });
  return {
    [=](register_atom) -> caf::result<std::string> {
      self->send(master, make_wire<proto::RegisterApplication>([&](proto::RegisterApplication::Builder b) {
        b.setName(app.name);
        b.setUser(std::getenv("USER") ? std::getenv("USER") : "");
        b.setMaxCores(app.max_cores);
        b.setExecutorCores(app.executor_cores);
        b.setExecutorMemory(app.executor_memory);
        auto bin = b.initBinary();
        bin.setPath(app.binary_path);
        bin.setContentHash(app.binary_hash);
        bin.setSize(app.binary_size);
        auto args = b.initArgs(static_cast<unsigned>(app.args.size()));
        for (unsigned i = 0; i < app.args.size(); ++i)
          args.set(i, app.args[i]);
        auto conf = b.initConf(static_cast<unsigned>(app.conf.size()));
        for (unsigned i = 0; i < app.conf.size(); ++i) {
          conf[i].setKey(app.conf[i].first);
          conf[i].setValue(app.conf[i].second);
        }
        b.setDriverHost(app.driver_host);
        b.setDriverPort(app.driver_port);
        b.setInitialExecutors(app.initial_executors);
      }));
      self->state.registered = self->make_response_promise();
      return self->state.registered;
    },
    [=](const wire<proto::RegisteredApplication>& msg) {
      self->state.app_id = str(msg.reader().getAppId());
      self->state.log->info("registered with {} as {}", str(msg.reader().getMasterUrl()), self->state.app_id);
      if (self->state.registered.pending())
        self->state.registered.deliver(self->state.app_id);
    },
    [=](const wire<proto::RegisterApplicationFailed>& msg) {
      auto reason = str(msg.reader().getReason());
      if (self->state.registered.pending())
        self->state.registered.deliver(caf::make_error(caf::sec::runtime_error, "the master refused the application: " + reason));
    },
    [=](const wire<proto::ExecutorAdded>& msg) {
      auto r = msg.reader();
      self->state.log->info("executor {} granted on {} ({} cores, {} bytes)", str(r.getExecutorId()), str(r.getHost()),
                            r.getCores(), r.getMemoryBytes());
      self->send(tasks, granted_atom::value, r.getCores());
    },
    [=](const wire<proto::ExecutorUpdated>& msg) {
      auto u = msg.reader();
      auto state = u.getState();
      if (state == proto::ExecutorState::LAUNCHING || state == proto::ExecutorState::RUNNING)
        return;
      auto id = str(u.getExecutorId());
      auto message = str(u.getMessage());
      if (message.empty())
        message = "executor " + id + " ended (exit code " + std::to_string(u.getExitCode()) + ", signal "
                  + std::to_string(u.getSignal()) + ")";
      self->state.log->warn("{}", message);
      // The worker saw the process end: its view (exit code, signal, memory) is authoritative.
      self->send(tasks, make_wire<proto::ExecutorLost>([&](proto::ExecutorLost::Builder b) {
        b.setExecutorId(id);
        b.setCause(loss_cause(u));
        b.setExitCode(u.getExitCode());
        b.setSignal(u.getSignal());
        b.setMessage(message);
        b.setWorkerView(true);
      }));
    },
    [=](const wire<proto::ApplicationRemoved>& msg) {
      auto reason = str(msg.reader().getReason());
      self->state.log->error("the master removed application {}: {}", self->state.app_id, reason);
      // Running and future jobs fail with this reason instead of waiting for executors forever.
      self->send(dag, msg);
    },
    [=](const wire<proto::RequestExecutors>& msg) {
      auto total = msg.reader().getRequestedTotal();
      self->send(master, make_wire<proto::RequestExecutors>([&](proto::RequestExecutors::Builder b) {
        b.setAppId(self->state.app_id);
        b.setRequestedTotal(total);
      }));
    },
    [=](const wire<proto::KillExecutors>& msg) {
      auto ids = msg.reader().getExecutorIds();
      self->send(master, make_wire<proto::KillExecutors>([&](proto::KillExecutors::Builder b) {
        b.setAppId(self->state.app_id);
        b.setExecutorIds(ids);
      }));
    },
    [=](caf::close_atom) {
      if (!self->state.app_id.empty())
        self->send(master, make_wire<proto::UnregisterApplication>(
                             [&](proto::UnregisterApplication::Builder b) { b.setAppId(self->state.app_id); }));
      return caf::close_atom::value;
    },
  };
}

} // namespace

caf::actor spawn_driver_endpoint(caf::actor_system& sys, caf::actor task_scheduler, caf::actor dag_scheduler,
                                 std::string binary_path, std::string binary_hash, size_t max_chunk_size,
                                 heartbeat_receiver_config heartbeats) {
  auto binaries = sys.spawn<caf::detached>(binary_server, std::move(binary_path), std::move(binary_hash), max_chunk_size);
  auto receiver = spawn_heartbeat_receiver(sys, heartbeats, task_scheduler);
  return sys.spawn(driver_endpoint, std::move(task_scheduler), std::move(dag_scheduler), std::move(binaries),
                   std::move(receiver));
}

caf::actor spawn_app_client(caf::actor_system& sys, caf::actor master, app_description app,
                            caf::actor task_scheduler, caf::actor dag_scheduler) {
  return sys.spawn(app_client, std::move(master), std::move(app), std::move(task_scheduler), std::move(dag_scheduler));
}

} // namespace ember::actors
