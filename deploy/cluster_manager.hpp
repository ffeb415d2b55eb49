// The cluster manager interface (Spark's ExternalClusterManager + SchedulerBackend): which master
// URLs a kind of cluster manager serves, and the driver's handle on one for an application — ask
// for a total of executors, kill some, stop — with its answers coming back through an events sink.
// The driver's cluster_manager_backend actor (actors/cluster_manager_backend.hpp) owns the backend
// chosen by ember.master; the schedulers talk only to that actor. docs/architecture.md, "The
// cluster manager interface", has the flows and a Kubernetes sketch.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "deploy/master_logic.hpp"

namespace ember::config {
class config;
}

namespace ember::deploy {

// -- what a cluster manager reports ---------------------------------------------------------------

struct executor_grant {
  std::string executor_id;
  std::string host;
  std::uint32_t cores = 0;
  std::uint64_t memory_bytes = 0;
};

// The cluster manager's account of an executor's end: authoritative for the exit status, unlike
// what the driver infers from a dropped connection (ember.executor.lossReasonWait waits for it).
struct executor_loss {
  std::string executor_id;
  executor_loss_cause cause = executor_loss_cause::exit_code;
  std::int32_t exit_code = 0;
  std::int32_t signal = 0;
  std::string message; // one line for the user: what ended and why
};

// Where a backend's answers go. Thread-safe: a backend may call it from its own actor or thread,
// at any time between start() and stopped().
class cluster_manager_events {
public:
  virtual ~cluster_manager_events() = default;
  // start() succeeded: the application's id (the manager's, or the driver's own).
  virtual void application_started(const std::string& app_id) = 0;
  // start() failed (refused, unreachable): the driver gives up with this reason.
  virtual void start_failed(const std::string& reason) = 0;
  // An executor was granted; the executor process itself registers with the driver endpoint.
  virtual void executor_granted(const executor_grant& grant) = 0;
  virtual void executor_lost(const executor_loss& loss) = 0;
  // The manager dropped the application after it started: its jobs fail with `reason`.
  virtual void application_removed(const std::string& reason) = 0;
  // stop() is done: the manager has let the application go (or could not be told).
  virtual void stopped() = 0;
};

// The driver's handle on one cluster manager for one application. Every call returns at once;
// results come through the events sink given to start(). Called from one actor only.
class cluster_manager_backend {
public:
  virtual ~cluster_manager_backend() = default;
  // Register the application (`app`: binary, arguments, settings, where executors reach the
  // driver) and start its first executors.
  virtual void start(const app_description& app, std::shared_ptr<cluster_manager_events> events) = 0;
  // Dynamic allocation's target: this many executors in total (0 at the application's end, so
  // that executors stopping are not replaced).
  virtual void request_total_executors(std::uint32_t total) = 0;
  // Release these executors (idle under dynamic allocation, or silent for ember.network.timeout).
  virtual void kill_executors(const std::vector<std::string>& executor_ids) = 0;
  // The application ends (its executors were asked to stop): unregister; stopped() follows.
  virtual void stop() = 0;
};

// -- choosing one by master URL -------------------------------------------------------------------

// What a factory may use to make its backend: the driver's actors and settings. Defined by the
// driver runtime (actors/cluster_manager_backend.hpp), so this interface stays CAF-free.
struct driver_services;

// One kind of cluster manager (Spark's ExternalClusterManager).
struct cluster_manager_kind {
  std::string name;      // "local", "standalone"
  std::string url_forms; // the master URLs it takes, for the error line: "ember://HOST:PORT"
  // Executors run inside the driver's process (local mode): no driver endpoint, no remoting, the
  // driver names the application. Otherwise executors are processes that connect to the driver
  // endpoint, and the application may get its id from the manager.
  bool executors_in_process = false;
  std::function<bool(std::string_view master)> can_create;
  // The cores the application has before any executor registers (ember.default.parallelism's
  // default).
  std::function<std::uint32_t(std::string_view master, const config::config& conf)> default_parallelism;
  // Makes the backend (may block: it runs on the thread creating the context, never in an
  // actor); throws std::runtime_error with one line when the manager cannot be reached. Empty in
  // the CAF-free descriptions below: the driver runtime supplies it.
  std::function<std::unique_ptr<cluster_manager_backend>(driver_services& services)> create;
};

class cluster_manager_registry {
public:
  // Throws std::invalid_argument when two kinds share a name.
  explicit cluster_manager_registry(std::vector<cluster_manager_kind> kinds);

  // The first kind that can serve `master`; null when none can.
  const cluster_manager_kind* find(std::string_view master) const;
  // The error line for a master no kind serves, naming it and every URL form:
  // "'yarn' is not a master (expected local, local[N], local[*] or ember://HOST:PORT)".
  std::string unsupported(std::string_view master) const;
  const std::vector<cluster_manager_kind>& kinds() const { return kinds_; }

private:
  std::vector<cluster_manager_kind> kinds_;
};

// "local" -> 1, "local[4]" -> 4, "local[*]" -> hardware_threads (at least 1); nullopt otherwise.
std::optional<std::uint32_t> parse_local_master(std::string_view master, std::uint32_t hardware_threads);

struct standalone_master {
  std::string host;
  std::uint16_t port = 0;
  std::string url() const { return "ember://" + host + ":" + std::to_string(port); }
};
// "ember://HOST:PORT" (PORT 1..65535) -> {HOST, PORT}; nullopt otherwise.
std::optional<standalone_master> parse_standalone_master(std::string_view master);

// The two built-in kinds, without their factories (`create` is empty).
cluster_manager_kind local_cluster_manager(std::uint32_t hardware_threads);
cluster_manager_kind standalone_cluster_manager();

} // namespace ember::deploy
