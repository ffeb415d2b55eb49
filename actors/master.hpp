// The standalone master actor (`ember master`): published on host:port, it turns worker,
// application and submit-client messages into calls on deploy::master_logic and the logic's
// decisions into messages. Monitors workers and drivers (their down_msg = lost/finished) and
// ticks every ember.master.workerCheckInterval to expire silent workers. With a persistence engine
// (ember.deploy.recoveryMode=FILESYSTEM) it records every change and, started again, recovers:
// MasterChanged to every recovered worker, WorkerSchedulerState / re-registrations back, and
// completion once all answered or ember.worker.timeout passed (docs/cluster.md, Recovery).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "deploy/acls.hpp"
#include "deploy/master_logic.hpp"
#include "deploy/persistence.hpp"

namespace ember::config {
class config;
}

namespace ember::actors {

struct master_options {
  std::string host = "127.0.0.1";   // address to listen on; empty = every interface
  std::string advertised_host;      // host in the master URL; empty = host
  std::uint16_t port = 7077;  // 0 = any free port
  deploy::master_settings logic;
  std::chrono::milliseconds check_interval{5000};  // ember.master.workerCheckInterval
  std::string recovery_mode = "NONE";               // ember.deploy.recoveryMode: NONE | FILESYSTEM
  std::string recovery_dir;                         // ember.deploy.recoveryDirectory
  /// Set by the caller for FILESYSTEM (make_persistence); the master reads it back at start.
  std::shared_ptr<deploy::filesystem_persistence> persistence;
  deploy::acls acls;  // ember.acls.enable and the lists
  // The store of binaries submitted for cluster-mode drivers (actors/binary_store.hpp): in the
  // recovery directory under FILESYSTEM recovery (a recovered driver can start again), else in a
  // directory of this master process under ember.local.dir.
  std::filesystem::path binary_dir;         // empty: none (the master refuses drivers)
  bool binary_dir_is_scratch = false;       // removed when the master stops
  std::uint64_t binary_store_max_size = 0;  // ember.master.binaryStore.maxSize
  std::uint32_t max_chunk_size = 1 << 20;   // ember.network.maxChunkSize
  std::chrono::milliseconds ask_timeout{120000};  // ember.rpc.askTimeout
  caf::actor binary_store;                  // spawned by start_master

  /// From ember.deploy.spreadOut, ember.worker.timeout, ember.deploy.maxExecutorRetries,
  /// ember.deploy.defaultCores, ember.master.workerCheckInterval, ember.master.port, the
  /// recovery, ACL and binary store keys.
  static master_options from(const config::config& c);

  /// FILESYSTEM: the engine on recovery_dir (created if missing). Throws std::runtime_error with
  /// one line naming the key when the directory is missing or cannot be created.
  void make_persistence();
};

struct started_master {
  caf::actor actor;
  std::uint16_t port = 0;
  std::string url;  // ember://host:port
};

/// Spawns the master and publishes it on options.host:options.port (the middleman must be loaded).
caf::expected<started_master> start_master(caf::actor_system& sys, const master_options& options);

} // namespace ember::actors
