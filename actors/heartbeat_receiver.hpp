// The driver's heartbeat_receiver (design.md flow 2): executors send Heartbeat every
// ember.executor.heartbeatInterval (through the driver endpoint); one silent for
// ember.network.timeout is declared lost (ExecutorLost{heartbeatTimeout} to the task scheduler)
// and its process killed through the master (KillExecutors via the app client), so a hung
// (SIGSTOPped) executor neither holds tasks nor lingers. Heartbeats listing running tasks go on
// to the task scheduler (real starts, progress events). liveness_table is the plain logic.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/atom.hpp>

namespace ember::actors {

// Who was heard of when. No CAF, no clock of its own: time is passed in.
class liveness_table {
public:
  using clock = std::chrono::steady_clock;

  explicit liveness_table(std::chrono::milliseconds timeout) : timeout_(timeout) {}

  enum class beat { alive, unknown, reregister };

  // A registered executor counts as heard of at registration (its first heartbeat comes one
  // interval later).
  void registered(const std::string& id, const std::string& host, clock::time_point now);
  // alive: known, deadline moved; reregister: declared lost or forgotten (the driver no longer
  // knows it); unknown: never registered here (e.g. a heartbeat overtaking its registration).
  beat heartbeat(const std::string& id, clock::time_point now);
  struct expired {
    std::string id;
    std::string host;
    std::chrono::milliseconds silent{0};
  };
  // Executors silent for longer than the timeout: removed and remembered as lost.
  std::vector<expired> expire(clock::time_point now);
  // Removed for another reason (its connection ended): forgotten, remembered as lost; what it
  // was (with its silence so far), if tracked.
  std::optional<expired> forget(const std::string& id, clock::time_point now);
  // How long `id` has been silent (0 if unknown).
  std::chrono::milliseconds silence(const std::string& id, clock::time_point now) const;
  bool tracks(const std::string& id) const { return last_.count(id) != 0; }
  size_t size() const { return last_.size(); }

private:
  struct entry {
    std::string host;
    clock::time_point last;
  };
  std::chrono::milliseconds timeout_;
  std::map<std::string, entry> last_;
  std::set<std::string> lost_;
};

struct heartbeat_receiver_config {
  std::chrono::milliseconds timeout{120000};        // ember.network.timeout
  std::chrono::milliseconds check_interval{10000};  // ember.network.timeoutInterval
};

// (executor_registered_atom, id, host, handle): the driver endpoint saw RegisterExecutor.
using executor_registered_atom = caf::atom_constant<caf::atom("execreg")>;
// (kill_target_atom, app_client): where KillExecutors for lost executors go (cluster only).
using kill_target_atom = caf::atom_constant<caf::atom("killtgt")>;

// Answers wire<Heartbeat> with wire<HeartbeatResponse>; ExecutorLost goes to task_scheduler, and
// so does every Heartbeat listing running tasks of an executor alive here (as it came).
caf::actor spawn_heartbeat_receiver(caf::actor_system& sys, heartbeat_receiver_config cfg, caf::actor task_scheduler);

} // namespace ember::actors
