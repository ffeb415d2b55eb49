// The driver's side of a standalone cluster (docs/cluster.md):
//  - the driver endpoint, published on ember.driver.host:port — what executors and workers reach:
//    RegisterExecutor goes on to the task scheduler, GetMapOutputs to the map output tracker,
//    UpdateBlockInfo and GetBlockLocations to the block manager master,
//    FetchBinary to a detached binary server that ships this very executable in chunks,
//    Heartbeat to the heartbeat receiver (told of every registration);
//  - the app client, the standalone cluster manager backend's link to the master:
//    RegisterApplication, ExecutorAdded / ExecutorUpdated (an executor that ended becomes an
//    executor loss with the worker's cause), RequestExecutors / KillExecutors,
//    UnregisterApplication at the end; it reports to the cluster manager events sink.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/atom.hpp>

#include "actors/heartbeat_receiver.hpp"
#include "api/narrow.hpp"
#include "deploy/cluster_manager.hpp"
#include "scheduler/topology.hpp"

namespace ember::actors {

// The files workers hold in their data dirs (RegisteredApplication.hostFiles), written by the app
// client, read by the user's threads building text_file datasets.
struct data_file_catalog {
  mutable std::mutex mtx;
  detail::declared_files files;
  detail::declared_files snapshot() const {
    std::lock_guard guard{mtx};
    return files;
  }
};

// The app client's side of the standalone master: where it is, and what the app client fills in.
struct app_client_options {
  // When its connection drops the app client reconnects every reconnect_interval and registers
  // again under its id (docs/cluster.md, Recovery).
  std::string master_host;
  uint16_t master_port = 0;
  std::chrono::milliseconds reconnect_interval{1000}; // ember.worker.registrationRetryInterval
  std::shared_ptr<data_file_catalog> data_files;      // filled at every RegisteredApplication (may be null)
};

// Heartbeats go to a heartbeat_receiver it spawns (actors/heartbeat_receiver.hpp); send it
// (kill_target_atom, cluster manager backend) so executors lost for silence are killed through
// the cluster manager.
// With a `topology`, a registering executor's rack is resolved from its host before the task
// scheduler hears of it (a script runs in a detached resolver actor, never on the endpoint).
caf::actor spawn_driver_endpoint(caf::actor_system& sys, caf::actor task_scheduler, caf::actor map_output_tracker,
                                 caf::actor block_manager_master,
                                 std::string binary_path, std::string binary_hash, size_t max_chunk_size,
                                 heartbeat_receiver_config heartbeats,
                                 std::shared_ptr<scheduler::topology> topology = nullptr);

// The standalone backend's (actors/standalone_backend.hpp) link to `master`: registers `app` when
// sent register_atom and reports the master's answers to `events` (application started or start
// failed, executors granted and lost, application removed); forwards RequestExecutors /
// KillExecutors; on caf::close_atom unregisters, then reports stopped. Dies with the task scheduler.
caf::actor spawn_app_client(caf::actor_system& sys, caf::actor master, deploy::app_description app,
                            app_client_options options, caf::actor task_scheduler,
                            std::shared_ptr<deploy::cluster_manager_events> events);

} // namespace ember::actors
