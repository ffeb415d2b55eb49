#include "actors/master.hpp"
#include "actors/remoting.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <ctime>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string_view>

#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/binary_store.hpp"
#include "actors/conversions.hpp"
#include "actors/deploy_conversions.hpp"
#include "config/config.hpp"
#include "config/log.hpp"
#include "config/secure_fs.hpp"
#include "protocol/deploy.capnp.h"
#include "protocol/wire.hpp"

namespace ember::actors {

namespace {

using check_atom = caf::atom_constant<caf::atom("chkworker")>;
using url_atom = caf::atom_constant<caf::atom("masterurl")>;
using recovery_atom = caf::atom_constant<caf::atom("recovered")>;

using namespace deploy;

// -- enum conversions ----------------------------------------------------------------------------
// (states and loss causes: actors/deploy_conversions.hpp; the overloads here would hide them)
using actors::from_proto;
using actors::to_proto;

proto::ApplicationState to_proto(app_state s) {
  switch (s) {
    case app_state::waiting: return proto::ApplicationState::WAITING;
    case app_state::running: return proto::ApplicationState::RUNNING;
    case app_state::finished: return proto::ApplicationState::FINISHED;
    case app_state::failed: return proto::ApplicationState::FAILED;
    case app_state::killed: return proto::ApplicationState::KILLED;
  }
  return proto::ApplicationState::FAILED;
}

// -- conversions of descriptions -----------------------------------------------------------------

binary_ref from_proto(proto::BinaryRef::Reader r) {
  return {str(r.getPath()), str(r.getContentHash()), r.getSize()};
}

void fill(proto::BinaryRef::Builder b, const binary_ref& r) {
  b.setPath(r.path);
  b.setContentHash(r.content_hash);
  b.setSize(r.size);
}

properties from_proto(capnp::List<proto::Property>::Reader list) {
  properties r;
  for (auto p : list)
    r.emplace_back(str(p.getKey()), str(p.getValue()));
  return r;
}

void fill(capnp::List<proto::Property>::Builder b, const properties& ps) {
  for (unsigned i = 0; i < ps.size(); ++i) {
    b[i].setKey(ps[i].first);
    b[i].setValue(ps[i].second);
  }
}

std::vector<std::string> from_proto(capnp::List<capnp::Text>::Reader list) {
  std::vector<std::string> r;
  for (auto t : list)
    r.push_back(str(t));
  return r;
}

void fill(capnp::List<capnp::Text>::Builder b, const std::vector<std::string>& xs) {
  for (unsigned i = 0; i < xs.size(); ++i)
    b.set(i, xs[i]);
}

void fill(proto::DriverDescription::Builder b, const driver_description& d) {
  fill(b.initBinary(), d.binary);
  fill(b.initArgs(static_cast<unsigned>(d.args.size())), d.args);
  fill(b.initConf(static_cast<unsigned>(d.conf.size())), d.conf);
  b.setCores(d.cores);
  b.setMemoryBytes(d.memory);
  b.setSupervise(d.supervise);
  b.setUser(d.user);
}

// "app-20261125213000-0003": a timestamp (local time, as Spark) and a per-master counter.
std::string make_id(const char* prefix, std::uint32_t n) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d%H%M%S", &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s-%s-%04u", prefix, stamp, n % 10000);
  return buf;
}

std::uint64_t wall_ms(time_point steady) {
  auto age = clock_type::now() - steady;
  auto wall = std::chrono::system_clock::now() - std::chrono::duration_cast<std::chrono::system_clock::duration>(age);
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(wall.time_since_epoch()).count());
}

std::uint64_t now_wall_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

// -- the actor -------------------------------------------------------------------------------------

struct master_state {
  std::unique_ptr<master_logic> logic;  // set when the behavior starts (settings come from options)
  std::string url;
  std::map<std::string, caf::actor> workers;        // worker id -> worker actor
  // worker id -> its host and the files under its data dirs (RegisterWorker), told to applications
  // in RegisteredApplication; not persisted: workers register again with a recovered master.
  std::map<std::string, std::pair<std::string, std::vector<std::pair<std::string, std::uint64_t>>>> data_files;
  std::map<caf::actor_addr, std::string> worker_of;  // for down messages
  std::map<std::string, caf::actor> drivers;        // app id -> driver (application) actor
  std::map<caf::actor_addr, std::string> app_of;
  std::uint32_t next_app = 0;
  std::uint32_t next_driver = 0;
  std::shared_ptr<filesystem_persistence> persistence;
  bool workers_contacted = false;  // MasterChanged sent to the recovered workers
  deploy::acls acls;
  // For the web UI (wall clock, ms): when applications ended and drivers were submitted. Kept
  // only while master_logic still lists them (pruned in enact).
  std::map<std::string, std::uint64_t> app_end_ms, driver_submit_ms;
  caf::actor binary_store;  // actors/binary_store.hpp
  std::shared_ptr<spdlog::logger> log = ember::log::get("master");
  static inline const char* name = "ember.master";
};

using master_actor = caf::stateful_actor<master_state>;

void forget_driver(master_actor* self, const std::string& app_id) {
  auto& st = self->state;
  auto i = st.drivers.find(app_id);
  if (i == st.drivers.end())
    return;
  self->demonitor(i->second);
  st.app_of.erase(i->second.address());
  st.drivers.erase(i);
}

void enact(master_actor* self, const decisions& ds) {
  auto& st = self->state;
  for (auto& e : st.logic->take_persistence_errors())
    st.log->error("{}", e);
  auto worker = [&](const std::string& id) -> caf::actor {
    auto i = st.workers.find(id);
    return i == st.workers.end() ? caf::actor{} : i->second;
  };
  auto driver = [&](const std::string& app_id) -> caf::actor {
    auto i = st.drivers.find(app_id);
    return i == st.drivers.end() ? caf::actor{} : i->second;
  };
  for (auto& d : ds) {
    if (auto* x = std::get_if<launch_executor>(&d)) {
      auto w = worker(x->worker_id);
      auto* app = st.logic->app(x->app_id);
      if (!w || !app)
        continue;
      st.log->info("launching executor {}/{} on {} ({} cores, {})", x->app_id, x->executor_id, x->worker_id,
                   x->cores, config::format_size(static_cast<std::int64_t>(x->memory)));
      auto& desc = app->desc;
      self->send(w, make_wire<proto::LaunchExecutor>([&](proto::LaunchExecutor::Builder b) {
                   b.setMasterUrl(st.url);
                   b.setAppId(x->app_id);
                   b.setExecutorId(x->executor_id);
                   b.setCores(x->cores);
                   b.setMemoryBytes(x->memory);
                   fill(b.initBinary(), desc.binary);
                   fill(b.initArgs(static_cast<unsigned>(desc.args.size())), desc.args);
                   fill(b.initConf(static_cast<unsigned>(desc.conf.size())), desc.conf);
                   b.setDriverHost(desc.driver_host);
                   b.setDriverPort(desc.driver_port);
                 }));
    } else if (auto* x = std::get_if<executor_added>(&d)) {
      if (auto drv = driver(x->app_id))
        self->send(drv, make_wire<proto::ExecutorAdded>([&](proto::ExecutorAdded::Builder b) {
                     b.setExecutorId(x->executor_id);
                     b.setWorkerId(x->worker_id);
                     b.setHost(x->host);
                     b.setCores(x->cores);
                     b.setMemoryBytes(x->memory);
                   }));
    } else if (auto* x = std::get_if<executor_updated>(&d)) {
      if (auto drv = driver(x->app_id))
        self->send(drv, make_wire<proto::ExecutorUpdated>([&](proto::ExecutorUpdated::Builder b) {
                     b.setExecutorId(x->executor_id);
                     b.setState(to_proto(x->state));
                     b.setExitCode(x->exit_code);
                     b.setSignal(x->signal);
                     b.setMessage(x->message);
                     b.setWorkerLost(x->worker_lost);
                     b.setCause(to_proto(x->cause));
                   }));
    } else if (auto* x = std::get_if<kill_executor>(&d)) {
      if (auto w = worker(x->worker_id))
        self->send(w, make_wire<proto::KillExecutor>([&](proto::KillExecutor::Builder b) {
                     b.setAppId(x->app_id);
                     b.setExecutorId(x->executor_id);
                     b.setReason(x->reason);
                   }));
    } else if (auto* x = std::get_if<application_removed>(&d)) {
      st.log->warn("{}", x->reason);
      if (auto drv = driver(x->app_id))
        self->send(drv, make_wire<proto::ApplicationRemoved>([&](proto::ApplicationRemoved::Builder b) {
                     b.setAppId(x->app_id);
                     b.setReason(x->reason);
                   }));
      forget_driver(self, x->app_id);
    } else if (auto* x = std::get_if<application_finished>(&d)) {
      st.app_end_ms[x->app_id] = now_wall_ms();
      std::erase_if(st.app_end_ms, [&](const auto& kv) {
        const auto& done = st.logic->finished_apps();
        return std::none_of(done.begin(), done.end(), [&](const app_record& a) { return a.id == kv.first; });
      });
      auto msg = make_wire<proto::ApplicationFinished>(
          [&](proto::ApplicationFinished::Builder b) { b.setAppId(x->app_id); });
      for (auto& [id, w] : st.workers)
        self->send(w, msg);
      forget_driver(self, x->app_id);
    } else if (auto* x = std::get_if<launch_driver>(&d)) {
      auto w = worker(x->worker_id);
      auto* drv = st.logic->driver(x->driver_id);
      if (!w || !drv)
        continue;
      st.log->info("launching driver {} on {}", x->driver_id, x->worker_id);
      self->send(w, make_wire<proto::LaunchDriver>([&](proto::LaunchDriver::Builder b) {
                   b.setDriverId(x->driver_id);
                   fill(b.initDescription(), drv->desc);
                 }));
    } else if (auto* x = std::get_if<kill_driver>(&d)) {
      if (auto w = worker(x->worker_id))
        self->send(w, make_wire<proto::KillDriver>([&](proto::KillDriver::Builder b) { b.setDriverId(x->driver_id); }));
    } else if (auto* x = std::get_if<reconnect_worker>(&d)) {
      auto w = worker(x->worker_id);
      if (!w)
        w = caf::actor_cast<caf::actor>(self->current_sender());
      if (w)
        self->send(w, make_wire<proto::ReconnectWorker>([&](proto::ReconnectWorker::Builder b) {
                     b.setMasterUrl(st.url);
                   }));
    }
  }
}

// The data files of the connected workers that declared any (text_file locality in the driver).
void set_host_files(const master_state& st, proto::RegisteredApplication::Builder b) {
  std::vector<const std::pair<std::string, std::vector<std::pair<std::string, std::uint64_t>>>*> live;
  for (const auto& [id, files] : st.data_files)
    if (st.workers.count(id) && !files.second.empty())
      live.push_back(&files);
  auto out = b.initHostFiles(static_cast<unsigned>(live.size()));
  for (unsigned i = 0; i < live.size(); ++i) {
    out[i].setHost(live[i]->first);
    auto list = out[i].initFiles(static_cast<unsigned>(live[i]->second.size()));
    for (unsigned j = 0; j < live[i]->second.size(); ++j) {
      list[j].setPath(live[i]->second[j].first);
      list[j].setSize(live[i]->second[j].second);
    }
  }
}

void lose_worker(master_actor* self, const std::string& id, const std::string& reason) {
  auto& st = self->state;
  st.log->warn("worker {} lost: {}", id, reason);
  auto out = st.logic->worker_lost(id, reason);
  auto i = st.workers.find(id);
  if (i != st.workers.end()) {
    self->demonitor(i->second);
    st.worker_of.erase(i->second.address());
    st.workers.erase(i);
  }
  st.data_files.erase(id);
  enact(self, out);
}

// -- recovery -------------------------------------------------------------------------------------

// "app-20261125213000-0003" -> 4: a restarted master continues the counter (ids never repeat,
// even within the same second).
std::uint32_t next_counter(const std::string& id) {
  auto dash = id.rfind('-');
  if (dash == std::string::npos)
    return 0;
  std::uint32_t n = 0;
  auto digits = std::string_view{id}.substr(dash + 1);
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  return ec == std::errc{} && p == digits.data() + digits.size() ? n + 1 : 0;
}

worker_report report_from(capnp::List<proto::ExecutorDescription>::Reader executors,
                          capnp::List<capnp::Text>::Reader driver_ids) {
  worker_report r;
  for (auto e : executors)
    r.executors.push_back({str(e.getAppId()), str(e.getExecutorId()), e.getCores(), e.getMemoryBytes(),
                           from_proto(e.getState())});
  r.driver_ids = from_proto(driver_ids);
  return r;
}

void complete_recovery(master_actor* self, const char* why) {
  auto& st = self->state;
  if (!st.logic->recovering())
    return;
  std::size_t silent_workers = 0, silent_apps = 0;
  for (auto& [id, w] : st.logic->workers())
    silent_workers += w.recovering ? 1 : 0;
  for (auto* a : st.logic->apps())
    silent_apps += a->recovering ? 1 : 0;
  auto out = st.logic->complete_recovery();
  st.log->info("recovery complete ({}): {} worker(s) and {} application(s) did not answer and were removed; "
               "scheduling resumes",
               why, silent_workers, silent_apps);
  enact(self, out);
}

void maybe_complete_recovery(master_actor* self) {
  if (self->state.logic->recovering() && self->state.logic->all_recovered())
    complete_recovery(self, "every worker and application answered");
}

// MasterChanged to every recovered worker, at the host:port it registered with (its published
// actor); it answers with WorkerSchedulerState. Workers also keep retrying by themselves.
void contact_recovered_workers(master_actor* self, std::chrono::milliseconds timeout) {
  auto& st = self->state;
  if (st.workers_contacted || !st.logic->recovering() || st.url.empty())
    return;
  st.workers_contacted = true;
  auto mm = middleman_handle(self->system());
  for (auto& [id, w] : st.logic->workers()) {
    if (!w.recovering || w.desc.port == 0)
      continue;
    auto worker_id = id;
    auto where = w.desc.host + ":" + std::to_string(w.desc.port);
    self->request(mm, timeout, caf::connect_atom::value, w.desc.host, w.desc.port)
      .then(
        [self, worker_id, where](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>&) {
          auto& st = self->state;
          if (!ptr) {
            st.log->warn("recovered worker {}: no actor at {}", worker_id, where);
            return;
          }
          self->send(caf::actor_cast<caf::actor>(ptr),
                     make_wire<proto::MasterChanged>([&](proto::MasterChanged::Builder b) { b.setMasterUrl(st.url); }));
        },
        [self, worker_id, where](caf::error& err) {
          self->state.log->warn("recovered worker {} unreachable at {}: {}", worker_id, where, describe(err));
        });
  }
}

// With ember.acls.enable, applications and drivers `user` may not view are left out.
wire<proto::MasterState> master_state_message(master_actor* self, bool include_finished, const std::string& user) {
  auto& st = self->state;
  auto& logic = *st.logic;
  return make_wire<proto::MasterState>([&](proto::MasterState::Builder b) {
    b.setMasterUrl(st.url);
    auto workers = b.initWorkers(static_cast<unsigned>(logic.workers().size()));
    unsigned i = 0;
    for (auto& [id, w] : logic.workers()) {
      auto wb = workers[i++];
      wb.setWorkerId(id);
      wb.setHost(w.desc.host);
      wb.setPort(w.desc.port);
      wb.setCores(w.desc.cores);
      wb.setCoresUsed(w.cores_used);
      wb.setMemoryBytes(w.desc.memory);
      wb.setMemoryUsed(w.memory_used);
      wb.setAlive(w.alive);
      wb.setLastHeartbeatMs(wall_ms(w.last_heartbeat));
    }
    std::vector<const app_record*> apps = logic.apps();
    if (include_finished)
      for (auto& a : logic.finished_apps())
        apps.push_back(&a);
    std::erase_if(apps, [&](const app_record* a) { return !st.acls.can_view(user, a->desc.user); });
    auto ab = b.initApps(static_cast<unsigned>(apps.size()));
    for (unsigned k = 0; k < apps.size(); ++k) {
      auto& a = *apps[k];
      auto x = ab[k];
      x.setAppId(a.id);
      x.setName(a.desc.name);
      x.setState(to_proto(a.state));
      x.setCoresGranted(a.cores_granted());
      x.setMaxCores(a.desc.max_cores);
      x.setExecutorCores(a.desc.executor_cores);
      x.setExecutorMemory(a.desc.executor_memory);
      x.setRequestedExecutors(a.executor_limit.value_or(0));
      x.setSubmitTimeMs(a.submit_time_ms);
      x.setUser(a.desc.user);
      x.setAppUiUrl(a.desc.ui_url);
      if (auto end = st.app_end_ms.find(a.id); end != st.app_end_ms.end())
        x.setEndTimeMs(end->second);
      auto eb = x.initExecutors(static_cast<unsigned>(a.executors.size()));
      unsigned j = 0;
      for (auto& [eid, e] : a.executors) {
        auto y = eb[j++];
        y.setExecutorId(eid);
        y.setAppId(a.id);
        y.setWorkerId(e.worker_id);
        auto w = logic.workers().find(e.worker_id);
        if (w != logic.workers().end())
          y.setHost(w->second.desc.host);
        y.setCores(e.cores);
        y.setMemoryBytes(e.memory);
        y.setState(to_proto(e.state));
        y.setPid(e.pid);
      }
    }
    std::vector<const driver_record*> drivers = logic.drivers();
    if (include_finished)
      for (auto& d : logic.finished_drivers())
        drivers.push_back(&d);
    std::erase_if(drivers, [&](const driver_record* d) { return !st.acls.can_view(user, d->desc.user); });
    auto db = b.initDrivers(static_cast<unsigned>(drivers.size()));
    for (unsigned k = 0; k < drivers.size(); ++k) {
      auto& d = *drivers[k];
      auto x = db[k];
      x.setDriverId(d.id);
      x.setState(to_proto(d.state));
      x.setWorkerId(d.worker_id);
      auto w = logic.workers().find(d.worker_id);
      if (w != logic.workers().end())
        x.setHost(w->second.desc.host);
      x.setSupervise(d.desc.supervise);
      x.setRestarts(d.restarts);
      x.setPid(d.pid);
      x.setCores(d.desc.cores);
      x.setMemoryBytes(d.desc.memory);
      x.setBinaryPath(d.desc.binary.path);
      x.setUser(d.desc.user);
      if (auto t = st.driver_submit_ms.find(d.id); t != st.driver_submit_ms.end())
        x.setSubmitTimeMs(t->second);
    }
  });
}

caf::behavior master(master_actor* self, master_options options) {
  auto& st = self->state;
  st.logic = std::make_unique<master_logic>(options.logic);
  st.acls = options.acls;
  st.binary_store = options.binary_store;
  if (st.binary_store)
    self->link_to(st.binary_store);  // they stop together
  st.log->info("master starting: spreadOut={}, worker timeout {} ms, recoveryMode {}", options.logic.spread_out,
               options.logic.worker_timeout.count(), options.recovery_mode);
  if (options.persistence) {
    st.persistence = options.persistence;
    auto recovered = st.persistence->read();
    for (auto& e : recovered.errors)
      st.log->error("{}", e);
    for (auto& a : recovered.apps)
      st.next_app = std::max(st.next_app, next_counter(a.id));
    for (auto& d : recovered.drivers)
      st.next_driver = std::max(st.next_driver, next_counter(d.id));
    auto counts = std::to_string(recovered.workers.size()) + " worker(s), " + std::to_string(recovered.apps.size())
                  + " application(s), " + std::to_string(recovered.drivers.size()) + " driver(s)";
    st.logic->set_persistence(st.persistence.get());
    if (st.logic->begin_recovery(std::move(recovered), clock_type::now())) {
      st.log->info("RECOVERING {} from {}; waiting up to {} ms for them to answer", counts,
                   st.persistence->dir().string(), options.logic.worker_timeout.count());
      self->delayed_send(self, options.logic.worker_timeout, recovery_atom::value);
    }
  }
  self->set_down_handler([self](const caf::down_msg& dm) {
    auto& st = self->state;
    if (auto i = st.worker_of.find(dm.source); i != st.worker_of.end()) {
      auto id = i->second;
      lose_worker(self, id, dm.reason ? "connection lost (" + caf::to_string(dm.reason) + ")" : "worker stopped");
      return;
    }
    if (auto i = st.app_of.find(dm.source); i != st.app_of.end()) {
      auto app_id = i->second;
      st.log->info("driver of {} disconnected: application finished", app_id);
      st.app_of.erase(i);
      st.drivers.erase(app_id);
      enact(self, st.logic->finish_application(app_id, app_state::finished, "driver disconnected"));
    }
  });
  self->delayed_send(self, options.check_interval, check_atom::value);
  auto guarded = [self](const char* what, auto&& f) {
    try {
      f();
    } catch (const std::exception& e) {
      self->state.log->error("dropped {}: {}", what, e.what());
    }
  };
  // The master's own timers and its URL come from this process; the same messages from a peer
  // (anyone connected may send any type) are dropped.
  auto local = [self](const char* what) {
    auto s = self->current_sender();
    if (s != nullptr && s->node() == self->node())
      return true;
    self->state.log->warn("ignored {} from {}: only the master itself sends it", what,
                          s ? to_string(s->node()) : std::string{"an anonymous sender"});
    return false;
  };
  return {
    [self, options, local](url_atom, const std::string& url) {
      if (!local("its URL"))
        return;
      self->state.url = url;
      contact_recovered_workers(self, options.logic.worker_timeout);
    },
    [self, local](recovery_atom) {
      if (local("the end of recovery"))
        complete_recovery(self, "ember.worker.timeout passed");
    },
    [self, options, local](check_atom) {
      if (!local("a worker check"))
        return;
      enact(self, self->state.logic->check_timeouts(clock_type::now()));
      self->delayed_send(self, options.check_interval, check_atom::value);
    },
    // -- workers --
    [self, guarded](const wire<proto::RegisterWorker>& msg) {
      guarded("RegisterWorker", [&] {
        auto& st = self->state;
        auto r = msg.reader();
        worker_description w{str(r.getWorkerId()), str(r.getHost()), r.getPort(), r.getCores(), r.getMemoryBytes()};
        auto sender = caf::actor_cast<caf::actor>(self->current_sender());
        auto rp = self->make_response_promise();
        if (!sender) {
          rp.deliver(make_wire<proto::RegisterWorkerFailed>(
              [](proto::RegisterWorkerFailed::Builder b) { b.setReason("anonymous sender"); }));
          return;
        }
        auto report = report_from(r.getExecutors(), r.getDriverIds());
        auto result = st.logic->register_worker(w, clock_type::now(), &report);
        if (!result.accepted) {
          st.log->warn("refused worker {}: {}", w.id, result.reason);
          rp.deliver(make_wire<proto::RegisterWorkerFailed>(
              [&](proto::RegisterWorkerFailed::Builder b) { b.setReason(result.reason); }));
          return;
        }
        if (auto old = st.workers.find(w.id); old != st.workers.end() && old->second != sender) {
          self->demonitor(old->second);
          st.worker_of.erase(old->second.address());
        }
        st.workers[w.id] = sender;
        st.worker_of[sender.address()] = w.id;
        self->monitor(sender);
        auto& files = st.data_files[w.id];
        files.first = w.host;
        files.second.clear();
        for (auto f : r.getDataFiles())
          files.second.emplace_back(str(f.getPath()), f.getSize());
        st.log->info("registered worker {} at {}:{} with {} cores, {}{}", w.id, w.host, w.port, w.cores,
                     config::format_size(static_cast<std::int64_t>(w.memory)), result.duplicate ? " (again)" : "");
        rp.deliver(make_wire<proto::RegisteredWorker>([&](proto::RegisteredWorker::Builder b) {
          b.setMasterUrl(st.url);
          b.setDuplicate(result.duplicate);
        }));
        enact(self, result.out);
        maybe_complete_recovery(self);
      });
    },
    [self, guarded](const wire<proto::WorkerSchedulerState>& msg) {
      guarded("WorkerSchedulerState", [&] {
        auto& st = self->state;
        auto r = msg.reader();
        auto id = str(r.getWorkerId());
        auto sender = caf::actor_cast<caf::actor>(self->current_sender());
        auto report = report_from(r.getExecutors(), r.getDriverIds());
        auto [found, out] = st.logic->worker_recovered(id, report, clock_type::now());
        if (!found || !sender) {
          st.log->warn("WorkerSchedulerState from unknown worker {}: ignored (it registers by itself)", id);
          return;
        }
        if (auto old = st.workers.find(id); old != st.workers.end() && old->second != sender) {
          self->demonitor(old->second);
          st.worker_of.erase(old->second.address());
        }
        st.workers[id] = sender;
        st.worker_of[sender.address()] = id;
        self->monitor(sender);
        st.log->info("worker {} recovered: {} executor(s), {} driver(s) running there", id, report.executors.size(),
                     report.driver_ids.size());
        enact(self, out);
        maybe_complete_recovery(self);
      });
    },
    [self](const wire<proto::WorkerHeartbeat>& msg) {
      enact(self, self->state.logic->worker_heartbeat(str(msg.reader().getWorkerId()), clock_type::now()));
    },
    [self, guarded](const wire<proto::ExecutorStateChanged>& msg) {
      guarded("ExecutorStateChanged", [&] {
        auto r = msg.reader();
        auto state = from_proto(r.getState());
        self->state.log->info("executor {}/{} on {}: state {}, {}", str(r.getAppId()), str(r.getExecutorId()),
                              str(r.getWorkerId()), static_cast<int>(r.getState()), str(r.getMessage()));
        enact(self, self->state.logic->executor_state_changed(str(r.getAppId()), str(r.getExecutorId()), state,
                                                             r.getExitCode(), r.getSignal(), str(r.getMessage()),
                                                             r.getPid(), from_proto(r.getCause())));
      });
    },
    [self, guarded](const wire<proto::DriverStateChanged>& msg) {
      guarded("DriverStateChanged", [&] {
        auto r = msg.reader();
        self->state.log->info("driver {}: state {} {}", str(r.getDriverId()), static_cast<int>(r.getState()),
                              str(r.getMessage()));
        enact(self, self->state.logic->driver_state_changed(str(r.getDriverId()), from_proto(r.getState()),
                                                           r.getExitCode(), r.getSignal(), str(r.getMessage()), r.getPid()));
      });
    },
    // -- applications --
    [self, guarded](const wire<proto::RegisterApplication>& msg) {
      guarded("RegisterApplication", [&] {
        auto& st = self->state;
        auto r = msg.reader();
        // Sender first: make_response_promise moves it out of the current message (CAF 0.17).
        auto sender = caf::actor_cast<caf::actor>(self->current_sender());
        auto rp = self->make_response_promise();
        if (!sender) {
          rp.deliver(make_wire<proto::RegisterApplicationFailed>(
              [](proto::RegisterApplicationFailed::Builder b) { b.setReason("anonymous sender"); }));
          return;
        }
        app_description d;
        d.name = str(r.getName());
        d.user = str(r.getUser());
        d.max_cores = r.getMaxCores();
        d.executor_cores = r.getExecutorCores();
        d.executor_memory = r.getExecutorMemory();
        d.binary = from_proto(r.getBinary());
        d.args = from_proto(r.getArgs());
        d.conf = from_proto(r.getConf());
        d.driver_host = str(r.getDriverHost());
        d.driver_port = r.getDriverPort();
        d.initial_executors = r.getInitialExecutors();
        d.ui_url = str(r.getAppUiUrl());
        if (auto old_id = str(r.getAppId()); !old_id.empty()) {
          // A driver that lost its master registers again under its id.
          if (!st.logic->application_reconnected(old_id)) {
            st.log->warn("application {} from driver {}:{} is unknown to this master: refused", old_id, d.driver_host,
                         d.driver_port);
            rp.deliver(make_wire<proto::RegisterApplicationFailed>([&](proto::RegisterApplicationFailed::Builder b) {
              b.setReason("application " + old_id + " is unknown to this master (it restarted without recovering it: "
                          "ember.deploy.recoveryMode=NONE, or its recovery ended first)");
            }));
            return;
          }
          if (auto old = st.drivers.find(old_id); old != st.drivers.end() && old->second != sender) {
            self->demonitor(old->second);
            st.app_of.erase(old->second.address());
          }
          st.drivers[old_id] = sender;
          st.app_of[sender.address()] = old_id;
          self->monitor(sender);
          st.log->info("application {} reconnected from driver {}:{}", old_id, d.driver_host, d.driver_port);
          rp.deliver(make_wire<proto::RegisteredApplication>([&](proto::RegisteredApplication::Builder b) {
            b.setAppId(old_id);
            b.setMasterUrl(st.url);
            set_host_files(st, b);
          }));
          maybe_complete_recovery(self);
          return;
        }
        auto app_id = make_id("app", st.next_app++);
        st.drivers[app_id] = sender;
        st.app_of[sender.address()] = app_id;
        self->monitor(sender);
        st.log->info("registered application {} ({}) from driver {}:{}", app_id, d.name, d.driver_host,
                     d.driver_port);
        rp.deliver(make_wire<proto::RegisteredApplication>([&](proto::RegisteredApplication::Builder b) {
          b.setAppId(app_id);
          b.setMasterUrl(st.url);
          set_host_files(st, b);
        }));
        enact(self, st.logic->register_application(app_id, std::move(d), now_wall_ms()));
      });
    },
    [self](const wire<proto::UnregisterApplication>& msg) {
      auto app_id = str(msg.reader().getAppId());
      self->state.log->info("application {} unregistered by its driver", app_id);
      enact(self, self->state.logic->finish_application(app_id, app_state::finished, "application finished"));
    },
    [self](const wire<proto::RequestExecutors>& msg) {
      auto r = msg.reader();
      enact(self, self->state.logic->request_executors(str(r.getAppId()), r.getRequestedTotal()));
    },
    [self](const wire<proto::KillExecutors>& msg) {
      auto r = msg.reader();
      enact(self, self->state.logic->kill_executors(str(r.getAppId()), from_proto(r.getExecutorIds())));
    },
    // -- drivers (cluster deploy mode) --
    // The driver runs only as the binary its submitter handed over: the store pulls it from the
    // sender (which serves FetchBinary for it while it waits for this answer), verifies its digest,
    // and keeps it for the workers that launch the driver. Only then does the driver exist.
    [self](const wire<proto::RequestSubmitDriver>& msg) -> caf::result<wire<proto::SubmitDriverResponse>> {
      auto& st = self->state;
      auto r = msg.reader().getDescription();
      driver_description d;
      d.binary = from_proto(r.getBinary());
      d.args = from_proto(r.getArgs());
      d.conf = from_proto(r.getConf());
      d.cores = r.getCores() == 0 ? 1 : r.getCores();
      d.memory = r.getMemoryBytes();
      d.supervise = r.getSupervise();
      d.user = str(r.getUser());
      auto refused = [&](const std::string& why) {
        st.log->warn("driver submission of {} by '{}' refused: {}", d.binary.path, d.user, why);
        return make_wire<proto::SubmitDriverResponse>([&](proto::SubmitDriverResponse::Builder b) {
          b.setSuccess(false);
          b.setMessage(why);
          b.setMasterUrl(st.url);
        });
      };
      auto sender = caf::actor_cast<caf::actor>(self->current_sender());
      if (!st.binary_store)
        return refused("this master keeps no binaries, so it runs no cluster-mode drivers");
      if (!sender)
        return refused("an anonymous sender cannot hand over a binary");
      std::string keep;  // the binaries of live drivers stay in the store
      for (auto* x : st.logic->drivers())
        if (!is_finished(x->state))
          keep += (keep.empty() ? "" : ",") + x->desc.binary.content_hash;
      auto rp = self->make_response_promise<wire<proto::SubmitDriverResponse>>();
      auto hash = d.binary.content_hash;
      auto size = d.binary.size;
      // Bounded per chunk by ember.rpc.askTimeout (the store's requests to the submitter).
      self->request(st.binary_store, caf::infinite, store_binary_atom::value, sender, hash, size, keep)
          .then(
              [self, rp, d](const std::string& stored) mutable {
                auto& st = self->state;
                auto id = make_id("driver", st.next_driver++);
                st.log->info("driver {} submitted by '{}' ({}, stored as {})", id, d.user, d.binary.path, stored);
                std::erase_if(st.driver_submit_ms, [&](const auto& kv) { return st.logic->driver(kv.first) == nullptr; });
                st.driver_submit_ms[id] = now_wall_ms();
                enact(self, st.logic->submit_driver(id, std::move(d)));
                rp.deliver(make_wire<proto::SubmitDriverResponse>([&](proto::SubmitDriverResponse::Builder b) {
                  b.setSuccess(true);
                  b.setDriverId(id);
                  b.setMessage("Driver successfully submitted as " + id);
                  b.setMasterUrl(st.url);
                }));
              },
              [self, rp, path = d.binary.path](const caf::error& err) mutable {
                auto& st = self->state;
                auto why = "binary " + path + ": " + describe(err);
                st.log->warn("driver submission refused: {}", why);
                rp.deliver(make_wire<proto::SubmitDriverResponse>([&](proto::SubmitDriverResponse::Builder b) {
                  b.setSuccess(false);
                  b.setMessage(why);
                  b.setMasterUrl(st.url);
                }));
              });
      return rp;
    },
    // Workers fetch a submitted driver's binary; nobody else may read the store.
    [self](const wire<proto::FetchBinary>& msg) {
      auto& st = self->state;
      auto sender = caf::actor_cast<caf::actor>(self->current_sender());
      if (!sender || st.worker_of.count(sender.address()) == 0 || !st.binary_store) {
        st.log->warn("FetchBinary from {}, not a registered worker: refused",
                     sender ? to_string(sender.node()) : std::string{"an anonymous sender"});
        self->make_response_promise().deliver(
            caf::make_error(caf::sec::runtime_error, "only registered workers fetch binaries from the master"));
        return;
      }
      self->delegate(st.binary_store, msg);
    },
    [self](const wire<proto::RequestKillDriver>& msg) {
      auto id = str(msg.reader().getDriverId());
      auto user = str(msg.reader().getUser());
      if (auto* d = self->state.logic->driver(id); d && !self->state.acls.can_modify(user, d->desc.user)) {
        self->state.log->warn("user '{}' may not kill driver {} of '{}' (ember.modify.acls)", user, id, d->desc.user);
        return make_wire<proto::KillDriverResponse>([&](proto::KillDriverResponse::Builder b) {
          b.setDriverId(id);
          b.setSuccess(false);
          b.setDenied(true);
          b.setMessage("user '" + user + "' may not kill driver " + id + " (ember.modify.acls)");
        });
      }
      auto [found, out] = self->state.logic->kill_driver(id);
      enact(self, out);
      return make_wire<proto::KillDriverResponse>([&](proto::KillDriverResponse::Builder b) {
        b.setDriverId(id);
        b.setSuccess(found);
        b.setMessage(found ? "Kill request for " + id + " submitted" : "Driver " + id + " not found or already finished");
      });
    },
    [self](const wire<proto::RequestKillApplication>& msg) {
      auto& st = self->state;
      auto id = str(msg.reader().getAppId());
      auto user = str(msg.reader().getUser());
      auto reply = [&](bool success, bool denied, const std::string& message) {
        return make_wire<proto::KillApplicationResponse>([&](proto::KillApplicationResponse::Builder b) {
          b.setAppId(id);
          b.setSuccess(success);
          b.setDenied(denied);
          b.setMessage(message);
        });
      };
      auto* a = st.logic->app(id);
      // One that may not view it learns nothing about it, as with RequestDriverStatus.
      if (a == nullptr || !st.acls.can_view(user, a->desc.user))
        return reply(false, false, "application " + id + " not found or already finished");
      if (!st.acls.can_modify(user, a->desc.user)) {
        st.log->warn("user '{}' may not kill application {} of '{}' (ember.modify.acls)", user, id, a->desc.user);
        return reply(false, true, "user '" + user + "' may not kill application " + id + " (ember.modify.acls)");
      }
      st.log->info("application {} killed by '{}'", id, user);
      auto [found, out] = st.logic->kill_application(id, "killed by user '" + user + "' from the master web UI");
      enact(self, out);
      return reply(found, false, found ? "application " + id + " killed" : "application " + id + " not found");
    },
    [self](const wire<proto::RequestDriverStatus>& msg) {
      auto id = str(msg.reader().getDriverId());
      auto* d = self->state.logic->driver(id);
      if (d && !self->state.acls.can_view(str(msg.reader().getUser()), d->desc.user))
        d = nullptr;  // as if unknown: a user who may not view it learns nothing about it
      return make_wire<proto::DriverStatusResponse>([&](proto::DriverStatusResponse::Builder b) {
        b.setFound(d != nullptr);
        b.setDriverId(id);
        if (!d)
          return;
        b.setState(to_proto(d->state));
        b.setWorkerId(d->worker_id);
        auto w = self->state.logic->workers().find(d->worker_id);
        if (w != self->state.logic->workers().end())
          b.setWorkerHost(w->second.desc.host);
        b.setMessage(d->message);
      });
    },
    // -- state --
    [self](const wire<proto::RequestMasterState>& msg) {
      return master_state_message(self, msg.reader().getIncludeFinished(), str(msg.reader().getUser()));
    },
  };
}

} // namespace

master_options master_options::from(const config::config& c) {
  master_options o;
  o.port = static_cast<std::uint16_t>(c.get(config::keys::master_port));
  o.logic.spread_out = c.get(config::keys::deploy_spread_out);
  o.logic.worker_timeout = c.get(config::keys::worker_timeout);
  o.logic.max_executor_retries = static_cast<std::uint32_t>(c.get(config::keys::deploy_max_executor_retries));
  o.logic.retained_applications = static_cast<std::size_t>(c.get(config::keys::deploy_retained_applications));
  o.logic.retained_drivers = static_cast<std::size_t>(c.get(config::keys::deploy_retained_drivers));
  o.logic.dead_worker_persistence = static_cast<std::uint32_t>(c.get(config::keys::dead_worker_persistence));
  o.logic.default_cores = static_cast<std::uint32_t>(c.get(config::keys::deploy_default_cores));
  o.check_interval = c.get(config::keys::master_worker_check_interval);
  o.recovery_mode = c.get(config::keys::deploy_recovery_mode);
  o.recovery_dir = c.get(config::keys::deploy_recovery_directory);
  o.acls = deploy::acls::from(c);
  if (o.recovery_mode == "FILESYSTEM" && !o.recovery_dir.empty()) {
    o.binary_dir = std::filesystem::path{o.recovery_dir} / filesystem_persistence::binaries_subdir;
  } else {
    o.binary_dir = config::local_dirs(c).front() / ("master-" + std::to_string(::getpid())) / "binaries";
    o.binary_dir_is_scratch = true;
  }
  o.binary_store_max_size = static_cast<std::uint64_t>(c.get(config::keys::master_binary_store_max_size));
  o.max_chunk_size = static_cast<std::uint32_t>(c.get(config::keys::network_max_chunk_size));
  o.ask_timeout = c.get(config::keys::rpc_ask_timeout);
  return o;
}

void master_options::make_persistence() {
  if (recovery_mode != "FILESYSTEM")
    return;
  if (recovery_dir.empty())
    throw std::runtime_error("ember.deploy.recoveryMode=FILESYSTEM needs ember.deploy.recoveryDirectory");
  persistence = std::make_shared<filesystem_persistence>(recovery_dir);
}

caf::expected<started_master> start_master(caf::actor_system& sys, const master_options& given) {
  auto options = given;
  if (!options.binary_dir.empty()) {
    try {
      options.binary_store = spawn_binary_store(
          sys, {options.binary_dir, options.binary_store_max_size, options.max_chunk_size, options.ask_timeout});
    } catch (const std::exception& e) {
      return caf::make_error(caf::sec::runtime_error, std::string{"binary store "} + options.binary_dir.string()
                                                          + ": " + e.what());
    }
  }
  auto actor = sys.spawn(master, options);
  auto port = publish(sys, actor, options.port, options.host.empty() ? nullptr : options.host.c_str(), true);
  if (!port) {
    caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
    return std::move(port.error());
  }
  started_master m;
  m.actor = actor;
  m.port = *port;
  m.url = "ember://" + (options.advertised_host.empty() ? options.host : options.advertised_host) + ":"
          + std::to_string(*port);
  caf::scoped_actor starter{sys};  // a local sender: the master takes its URL from no one else
  starter->send(actor, url_atom::value, m.url);
  return m;
}

} // namespace ember::actors
