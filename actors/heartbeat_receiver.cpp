#include "actors/heartbeat_receiver.hpp"

#include <caf/all.hpp>

#include "actors/conversions.hpp"
#include "config/log.hpp"

namespace ember::actors {

// -- liveness_table -----------------------------------------------------------------------------

void liveness_table::registered(const std::string& id, const std::string& host, clock::time_point now) {
  lost_.erase(id);
  last_[id] = {host, now};
}

liveness_table::beat liveness_table::heartbeat(const std::string& id, clock::time_point now) {
  if (auto i = last_.find(id); i != last_.end()) {
    i->second.last = std::max(i->second.last, now);
    return beat::alive;
  }
  return lost_.count(id) != 0 ? beat::reregister : beat::unknown;
}

std::vector<liveness_table::expired> liveness_table::expire(clock::time_point now) {
  std::vector<expired> out;
  for (auto i = last_.begin(); i != last_.end();) {
    auto silent = std::chrono::duration_cast<std::chrono::milliseconds>(now - i->second.last);
    if (silent <= timeout_) {
      ++i;
      continue;
    }
    out.push_back({i->first, i->second.host, silent});
    lost_.insert(i->first);
    i = last_.erase(i);
  }
  return out;
}

std::optional<liveness_table::expired> liveness_table::forget(const std::string& id, clock::time_point now) {
  auto i = last_.find(id);
  if (i == last_.end())
    return std::nullopt;
  expired out{id, i->second.host, std::chrono::duration_cast<std::chrono::milliseconds>(now - i->second.last)};
  last_.erase(i);
  lost_.insert(id);
  return out;
}

std::chrono::milliseconds liveness_table::silence(const std::string& id, clock::time_point now) const {
  auto i = last_.find(id);
  if (i == last_.end())
    return std::chrono::milliseconds{0};
  return std::chrono::duration_cast<std::chrono::milliseconds>(now - i->second.last);
}

// -- the actor ----------------------------------------------------------------------------------

namespace {

// Time comes from the actor system's clock (virtual under CAF's test coordinator: tests/actor).
using check_atom = caf::atom_constant<caf::atom("hbcheck")>;

struct heartbeat_receiver_state {
  std::unique_ptr<liveness_table> table;
  std::map<caf::actor_addr, std::string> by_address; // executor actor -> id
  caf::actor kill_target;                            // the app client (cluster)
  std::shared_ptr<spdlog::logger> log;
  static inline const char* name = "heartbeat_receiver";
};

std::string seconds_text(std::chrono::milliseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(d.count()) / 1000.0);
  return buf;
}

caf::behavior heartbeat_receiver(caf::stateful_actor<heartbeat_receiver_state>* self, heartbeat_receiver_config cfg,
                                 caf::actor tasks) {
  self->state.table = std::make_unique<liveness_table>(cfg.timeout);
  self->state.log = log::get("heartbeat_receiver");
  self->link_to(tasks); // the driver's schedulers and their receiver end together

  // Lost for silence: the task scheduler resubmits its tasks and unregisters its outputs; the
  // master kills the process (SIGSTOPped or hung: nothing else would end it).
  auto declare_lost = [self, cfg, tasks](const liveness_table::expired& e) {
    auto& st = self->state;
    auto message = "executor " + e.id + (e.host.empty() ? "" : " on " + e.host) + ": no heartbeat for "
                   + seconds_text(e.silent) + " (ember.network.timeout " + seconds_text(cfg.timeout) + ")";
    st.log->warn("{}; declared lost{}", message, st.kill_target ? ", its process killed" : "");
    self->send(tasks, make_wire<proto::ExecutorLost>([&](proto::ExecutorLost::Builder b) {
      b.setExecutorId(e.id);
      b.setHost(e.host);
      b.setCause(proto::ExecutorLossCause::HEARTBEAT_TIMEOUT);
      b.setMessage(message);
      b.setWorkerView(false);
    }));
    if (st.kill_target)
      self->send(st.kill_target, make_wire<proto::KillExecutors>([&](proto::KillExecutors::Builder b) {
        b.initExecutorIds(1).set(0, e.id);
      }));
  };

  self->set_down_handler([self, cfg, declare_lost](const caf::down_msg& dm) {
    auto& st = self->state;
    auto i = st.by_address.find(dm.source);
    if (i == st.by_address.end())
      return;
    auto id = i->second;
    st.by_address.erase(i);
    auto now = self->clock().now();
    // A connection that ends after a long silence was closed by CAF's connection timeout: the
    // process hangs (a crashed one resets its connection at once, and its worker reports why).
    // Declare it lost now, as the next expiry check would, so that it is killed.
    auto e = st.table->forget(id, now);
    if (e && e->silent * 2 >= cfg.timeout)
      declare_lost(*e);
  });

  self->delayed_send(self, cfg.check_interval, check_atom::value);
  return {
    [=](executor_registered_atom, const std::string& id, const std::string& host, caf::actor handle) {
      auto& st = self->state;
      st.table->registered(id, host, self->clock().now());
      st.by_address[handle.address()] = id;
      self->monitor(handle);
    },
    [=](kill_target_atom, caf::actor target) { self->state.kill_target = std::move(target); },
    [=](const wire<proto::Heartbeat>& msg) {
      auto id = str(msg.reader().getExecutorId());
      auto seen = self->state.table->heartbeat(id, self->clock().now());
      if (seen == liveness_table::beat::reregister)
        self->state.log->warn("heartbeat from executor {}, which was declared lost: it is told so", id);
      // Its running tasks' progress: the task scheduler learns their real starts (speculation)
      // and posts it as an executorMetricsUpdate event. Only from executors alive here.
      if (seen == liveness_table::beat::alive && msg.reader().getTasks().size() > 0)
        self->send(tasks, msg);
      return make_wire<proto::HeartbeatResponse>(
        [&](proto::HeartbeatResponse::Builder b) { b.setReregister(seen == liveness_table::beat::reregister); });
    },
    [=](check_atom) {
      for (auto& e : self->state.table->expire(self->clock().now()))
        declare_lost(e);
      self->delayed_send(self, cfg.check_interval, check_atom::value);
    },
  };
}

} // namespace

caf::actor spawn_heartbeat_receiver(caf::actor_system& sys, heartbeat_receiver_config cfg, caf::actor task_scheduler) {
  return sys.spawn(heartbeat_receiver, cfg, std::move(task_scheduler));
}

} // namespace ember::actors
