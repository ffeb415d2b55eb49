#include "actors/cluster_driver.hpp"
#include "actors/remoting.hpp"

#include <optional>
#include <set>

#include <caf/all.hpp>
#include <caf/io/middleman.hpp>

#include "actors/binary_store.hpp"
#include "actors/broadcast_driver.hpp"
#include "actors/cluster_manager_backend.hpp"
#include "actors/heartbeat_receiver.hpp"
#include "actors/conversions.hpp"
#include "actors/deploy_conversions.hpp"
#include "actors/task_scheduler_actor.hpp"
#include "config/log.hpp"
#include "protocol/deploy.capnp.h"
#include "protocol/executor.capnp.h"

namespace ember::actors {

namespace {

using rack_of_atom = caf::atom_constant<caf::atom("rackof")>;

// Runs the topology script (blocking, bounded by ember.topology.script.timeout): detached.
caf::behavior rack_resolver(caf::event_based_actor*, std::shared_ptr<scheduler::topology> topology) {
  return {
    [=](rack_of_atom, const std::string& host) -> caf::result<std::string> {
      try {
        return topology->rack_of(host);
      } catch (const std::exception& e) {
        return caf::make_error(caf::sec::runtime_error, e.what());
      }
    },
  };
}

// The same registration with the rack the topology gives its host.
wire<proto::RegisterExecutor> with_rack(const wire<proto::RegisterExecutor>& msg, const std::string& rack) {
  capnp::MallocMessageBuilder builder{64};
  builder.setRoot(msg.reader());
  builder.getRoot<proto::RegisterExecutor>().setRack(rack);
  return wire<proto::RegisterExecutor>::from_builder(builder);
}

caf::behavior driver_endpoint(caf::event_based_actor* self, caf::actor tasks, caf::actor tracker,
                              caf::actor block_master, caf::actor binaries,
                              caf::actor heartbeats, std::shared_ptr<scheduler::topology> topology,
                              caf::actor resolver) {
  // Dies with the driver's schedulers: then executors see it go and exit.
  self->link_to(tasks);
  self->link_to(binaries);
  self->link_to(heartbeats);
  if (resolver)
    self->link_to(resolver);
  return {
    // delegate keeps the original sender: the task scheduler answers the executor directly.
    [=](const wire<proto::RegisterExecutor>& msg) {
      auto r = msg.reader();
      auto sender = caf::actor_cast<caf::actor>(self->current_sender());
      // The heartbeat receiver hears of it before the task scheduler answers. A heartbeat that
      // overtakes the registration is "unknown" there: answered without reregister, no harm.
      self->send(heartbeats, executor_registered_atom::value, str(r.getExecutorId()), str(r.getHost()), sender);
      if (!topology || !topology->enabled() || r.getRack().size() > 0) {
        self->delegate(tasks, msg);
        return;
      }
      auto host = str(r.getHost());
      if (auto known = topology->cached_rack_of(host)) {
        self->delegate(tasks, with_rack(msg, *known));
        return;
      }
      // A script must run: the resolver answers, the registration goes on as the executor's.
      self->request(resolver, caf::infinite, rack_of_atom::value, host)
        .then([=](const std::string& rack) { caf::send_as(sender, tasks, with_rack(msg, rack)); },
              [=](const caf::error& err) {
                log::get("driver")->error("no rack for host {} (executor {}): {}", host, str(msg.reader().getExecutorId()),
                                          self->system().render(err));
                caf::send_as(sender, tasks, msg);
              });
    },
    [=](const wire<proto::Heartbeat>& msg) { return self->delegate(heartbeats, msg); },
    [=](kill_target_atom, caf::actor target) { self->send(heartbeats, kill_target_atom::value, target); },
    [=](const wire<proto::GetMapOutputs>& msg) { return self->delegate(tracker, msg); },
    [=](const wire<proto::UpdateBlockInfo>& msg) { return self->delegate(block_master, msg); },
    [=](const wire<proto::GetBlockLocations>& msg) { return self->delegate(block_master, msg); },
    [=](const wire<proto::FetchBinary>& msg) { return self->delegate(binaries, msg); },
    // Broadcast variables (actors/broadcast_driver.hpp): manifests, piece holders, the pieces.
    [=](const wire<proto::GetBroadcastManifest>& msg) { return self->delegate(broadcast_master_of(self->system()), msg); },
    [=](const wire<proto::GetBroadcastPieceHolders>& msg) {
      return self->delegate(broadcast_master_of(self->system()), msg);
    },
    [=](const wire<proto::BroadcastPiecesStored>& msg) { return self->delegate(broadcast_master_of(self->system()), msg); },
    [=](const wire<proto::FetchBlocks>& msg) { return self->delegate(broadcast_master_of(self->system()), msg); },
  };
}

using reconnect_atom = caf::atom_constant<caf::atom("reconnect")>;

struct app_client_state {
  std::string app_id;
  caf::actor master;                       // null while the connection is down
  bool connecting = false;
  bool registering = false;                // the first registration awaits the master's answer
  std::optional<uint32_t> requested_total; // the last RequestExecutors, sent again after a reconnect
  std::shared_ptr<deploy::cluster_manager_events> events;
  std::shared_ptr<spdlog::logger> log;
  static inline const char* name = "app_client";
};

using app_client_actor = caf::stateful_actor<app_client_state>;

// RegisterApplication; with the application's id when it registers again after losing the master.
void send_registration(app_client_actor* self, const deploy::app_description& app) {
  self->send(self->state.master, make_wire<proto::RegisterApplication>([&](proto::RegisterApplication::Builder b) {
    b.setName(app.name);
    b.setUser(app.user);
    b.setMaxCores(app.max_cores);
    b.setExecutorCores(app.executor_cores);
    b.setExecutorMemory(app.executor_memory);
    auto bin = b.initBinary();
    bin.setPath(app.binary.path);
    bin.setContentHash(app.binary.content_hash);
    bin.setSize(app.binary.size);
    auto args = b.initArgs(static_cast<unsigned>(app.args.size()));
    for (unsigned i = 0; i < app.args.size(); ++i)
      args.set(i, app.args[i]);
    auto conf = b.initConf(static_cast<unsigned>(app.conf.size()));
    for (unsigned i = 0; i < app.conf.size(); ++i) {
      conf[i].setKey(app.conf[i].first);
      conf[i].setValue(app.conf[i].second);
    }
    b.setDriverHost(app.driver_host);
    b.setAppUiUrl(app.ui_url);
    b.setDriverPort(app.driver_port);
    b.setInitialExecutors(app.initial_executors);
    b.setAppId(self->state.app_id);
  }));
}

// The master went away: executors keep running tasks for this application; reach the master
// again every reconnect_interval (a restarted one may have recovered the application).
void reconnect(app_client_actor* self, const deploy::app_description& app, const app_client_options& opt) {
  auto& st = self->state;
  if (st.master || st.connecting || opt.master_host.empty())
    return;
  st.connecting = true;
  auto mm = middleman_handle(self->system());
  self->request(mm, opt.reconnect_interval * 4, caf::connect_atom::value, opt.master_host, opt.master_port)
    .then(
      [self, app, opt](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>&) {
        auto& st = self->state;
        st.connecting = false;
        if (!ptr) {
          self->delayed_send(self, opt.reconnect_interval, reconnect_atom::value);
          return;
        }
        st.master = caf::actor_cast<caf::actor>(ptr);
        self->monitor(st.master);
        st.log->info("reached the master at ember://{}:{} again; registering {} again", opt.master_host,
                     opt.master_port, st.app_id);
        send_registration(self, app);
      },
      [self, opt](caf::error&) {
        self->state.connecting = false;
        self->delayed_send(self, opt.reconnect_interval, reconnect_atom::value);
      });
}

// The worker that saw the process end decided the cause (or the master, for a lost worker or a
// release); it travels as an enum, never read back out of the message text.
proto::ExecutorLossCause loss_cause(proto::ExecutorUpdated::Reader u) {
  return u.getCause();
}

caf::behavior app_client(app_client_actor* self, caf::actor master, deploy::app_description app,
                         app_client_options opt, caf::actor tasks, std::shared_ptr<deploy::cluster_manager_events> events) {
  self->state.log = log::get("app_client");
  self->state.master = master;
  self->state.events = std::move(events);
  self->link_to(tasks); // the application ends with its schedulers
  self->monitor(master);
  self->set_down_handler([self, opt](const caf::down_msg& dm) {
    auto& st = self->state;
    if (dm.source != st.master.address())
      return;
    st.master = caf::actor{};
    if (st.registering) {
      st.registering = false;
      st.events->start_failed("the master went away before it answered");
      return;
    }
    // Running executors keep working for this application; only new executors need the master.
    st.log->warn("lost the master ({}); running executors continue; reconnecting every {} ms", to_string(dm.reason),
                 opt.reconnect_interval.count());
    self->delayed_send(self, opt.reconnect_interval, reconnect_atom::value);
  });
  return {
    [=](register_atom) {
      self->state.registering = true;
      send_registration(self, app);
    },
    [=](reconnect_atom) { reconnect(self, app, opt); },
    [=](const wire<proto::RegisteredApplication>& msg) {
      auto& st = self->state;
      auto id = str(msg.reader().getAppId());
      if (opt.data_files) {
        detail::declared_files files;
        for (auto h : msg.reader().getHostFiles())
          for (auto f : h.getFiles()) {
            auto& d = files[str(f.getPath())];
            if (d.hosts.empty())
              d.size = f.getSize();
            else if (d.size != f.getSize())
              continue; // another file by that name: not a copy of this one
            d.hosts.push_back(str(h.getHost()));
          }
        std::lock_guard guard{opt.data_files->mtx};
        opt.data_files->files = std::move(files);
      }
      if (!st.app_id.empty()) {
        st.log->info("registered again with {} as {}", str(msg.reader().getMasterUrl()), id);
        if (st.requested_total)
          self->send(st.master, make_wire<proto::RequestExecutors>([&](proto::RequestExecutors::Builder b) {
            b.setAppId(st.app_id);
            b.setRequestedTotal(*st.requested_total);
          }));
        return;
      }
      st.app_id = id;
      st.log->info("registered with {} as {}", str(msg.reader().getMasterUrl()), st.app_id);
      if (st.registering) {
        st.registering = false;
        st.events->application_started(st.app_id);
      }
    },
    [=](const wire<proto::RegisterApplicationFailed>& msg) {
      auto& st = self->state;
      auto reason = str(msg.reader().getReason());
      if (st.registering) {
        st.registering = false;
        st.events->start_failed("the master refused the application: " + reason);
        return;
      }
      // A restarted master that did not recover this application: its jobs cannot get executors
      // from it any more, so they fail with the master's reason instead of waiting forever.
      auto text = "the restarted master at ember://" + opt.master_host + ":" + std::to_string(opt.master_port)
                  + " refused application " + st.app_id + ": " + reason;
      st.log->error("{}", text);
      st.events->application_removed(text);
    },
    [=](const wire<proto::ExecutorAdded>& msg) {
      auto r = msg.reader();
      self->state.log->info("executor {} granted on {} ({} cores, {} bytes)", str(r.getExecutorId()), str(r.getHost()),
                            r.getCores(), r.getMemoryBytes());
      self->state.events->executor_granted({str(r.getExecutorId()), str(r.getHost()), r.getCores(), r.getMemoryBytes()});
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
      self->state.events->executor_lost({id, from_proto(loss_cause(u)), u.getExitCode(), u.getSignal(), message});
    },
    [=](const wire<proto::ApplicationRemoved>& msg) {
      auto reason = str(msg.reader().getReason());
      self->state.log->error("the master removed application {}: {}", self->state.app_id, reason);
      // Running and future jobs fail with this reason instead of waiting for executors forever.
      self->state.events->application_removed(reason);
    },
    [=](const wire<proto::RequestExecutors>& msg) {
      auto total = msg.reader().getRequestedTotal();
      self->state.requested_total = total;
      if (!self->state.master)
        return; // sent again once registered with a master again
      self->send(self->state.master, make_wire<proto::RequestExecutors>([&](proto::RequestExecutors::Builder b) {
        b.setAppId(self->state.app_id);
        b.setRequestedTotal(total);
      }));
    },
    [=](const wire<proto::KillExecutors>& msg) {
      auto ids = msg.reader().getExecutorIds();
      if (!self->state.master)
        return;
      self->send(self->state.master, make_wire<proto::KillExecutors>([&](proto::KillExecutors::Builder b) {
        b.setAppId(self->state.app_id);
        b.setExecutorIds(ids);
      }));
    },
    [=](caf::close_atom) {
      auto& st = self->state;
      auto unregister = make_wire<proto::UnregisterApplication>(
          [&](proto::UnregisterApplication::Builder b) { b.setAppId(st.app_id); });
      if (st.app_id.empty() || opt.master_host.empty()) {
        st.events->stopped();
        return;
      }
      if (st.master) {
        self->send(st.master, unregister);
        st.events->stopped();
        return;
      }
      // The master is away, perhaps restarting: one attempt to tell it the application ended, so
      // that a recovered master releases the application (and its workers its work dirs) now
      // rather than after ember.worker.timeout.
      auto mm = middleman_handle(self->system());
      self->request(mm, opt.reconnect_interval, caf::connect_atom::value, opt.master_host, opt.master_port)
        .then(
          [self, unregister](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>&) {
            if (ptr)
              self->send(caf::actor_cast<caf::actor>(ptr), unregister);
            self->state.events->stopped();
          },
          [self](caf::error&) { self->state.events->stopped(); });
    },
  };
}

} // namespace

caf::actor spawn_driver_endpoint(caf::actor_system& sys, caf::actor task_scheduler, caf::actor map_output_tracker,
                                 caf::actor block_manager_master,
                                 std::string binary_path, std::string binary_hash, size_t max_chunk_size,
                                 heartbeat_receiver_config heartbeats, std::shared_ptr<scheduler::topology> topology) {
  auto binaries = sys.spawn<caf::detached>(binary_server, std::move(binary_path), std::move(binary_hash), max_chunk_size);
  auto receiver = spawn_heartbeat_receiver(sys, heartbeats, task_scheduler);
  caf::actor resolver;
  if (topology && topology->uses_script())
    resolver = sys.spawn<caf::detached>(rack_resolver, topology);
  return sys.spawn(driver_endpoint, std::move(task_scheduler), std::move(map_output_tracker),
                   std::move(block_manager_master), std::move(binaries),
                   std::move(receiver), std::move(topology), std::move(resolver));
}

caf::actor spawn_app_client(caf::actor_system& sys, caf::actor master, deploy::app_description app,
                            app_client_options options, caf::actor task_scheduler,
                            std::shared_ptr<deploy::cluster_manager_events> events) {
  return sys.spawn(app_client, std::move(master), std::move(app), std::move(options), std::move(task_scheduler),
                   std::move(events));
}

} // namespace ember::actors
