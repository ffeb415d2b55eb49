// The standalone worker actor (`ember worker`): a thin shell around deploy::worker_logic, which
// decides registration with the master (backoff, ReconnectWorker, a lost or recovered master),
// executor and cluster-mode driver processes, kills, exit reports and shutdown. The actor turns
// messages, timers and reaped children into logic calls and enacts the decisions: messages to
// the master, delayed self-messages, fork/exec with a memory limit (deploy/process), FetchBinary
// from the driver endpoint into the binary cache, signals, directory removal. A shutdown_atom
// kills every child process group (SIGTERM, SIGKILL after the grace period) and quits once all
// are reaped.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/atom.hpp>

#include "deploy/process.hpp"

namespace ember::config {
class config;
}

namespace ember::actors {

/// Ask the worker to stop: it kills its children and quits when they are reaped.
using shutdown_atom = caf::atom_constant<caf::atom("shutdown")>;
/// (start_atom, uint16_t port): the worker actor is published on `port`; name it and register.
using start_atom = caf::atom_constant<caf::atom("wstart")>;

struct worker_options {
  std::string master_host;
  std::uint16_t master_port = 0;
  std::string id;                  // empty: "worker-<timestamp>-<host>-<port>" at start
  std::string host;                // how executors and the master reach this host
  std::uint16_t port = 0;          // the worker actor's published port (set by start_atom)
  std::uint32_t cores = 1;
  std::uint64_t memory = 0;        // bytes offered to executors
  std::filesystem::path work_dir;  // absolute
  std::string local_dir;           // ember.worker.localDir: executors' ember.local.dir; empty = the app's
  std::vector<std::string> data_dirs; // ember.worker.dataDirs + --data-dir: files declared at registration
  std::chrono::milliseconds heartbeat_interval{15000};
  std::chrono::milliseconds retry_interval{1000};
  std::chrono::milliseconds kill_grace{5000};
  std::chrono::milliseconds driver_restart_backoff{1000};
  std::chrono::milliseconds ask_timeout{120000};
  std::uint32_t max_chunk_size = 1 << 20;
  std::uint64_t binary_cache_max_size = std::uint64_t{1} << 30;  // ember.worker.binaryCache.maxSize
  deploy::memory_limiter limiter;
  std::vector<std::string> child_conf;  // security settings every child gets (deploy::worker_settings)
  std::string secret;                   // the shared secret children inherit; empty = none
  /// Called once (on the actor's thread) when the master first accepts the registration.
  std::function<void(const std::string& worker_id, const std::string& master_url)> on_registered;

  /// Durations, chunk size and the memory limiter from the configuration; the rest is the caller's.
  static worker_options from(const config::config& c);
};

/// Spawns the worker; it does nothing until (start_atom, port) arrives, sent once the caller has
/// published it (see cli/worker_command.cpp). The middleman must be loaded.
caf::actor spawn_worker(caf::actor_system& sys, worker_options options);

} // namespace ember::actors
