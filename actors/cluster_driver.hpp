// The driver's side of a standalone cluster (docs/cluster.md):
//  - the driver endpoint, published on ember.driver.host:port — what executors and workers reach:
//    RegisterExecutor goes on to the task scheduler, GetMapOutputs to the map output tracker,
//    UpdateBlockInfo and GetBlockLocations to the block manager master,
//    FetchBinary to a detached binary server that ships this very executable in chunks,
//    Heartbeat to the heartbeat receiver (told of every registration);
//  - the app client, the driver's link to the master: RegisterApplication, ExecutorAdded /
//    ExecutorUpdated (an executor that ended becomes ExecutorLost for the task scheduler, with the
//    worker's cause), RequestExecutors / KillExecutors, UnregisterApplication at the end.
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
#include "scheduler/topology.hpp"

namespace ember::actors {

using register_atom = caf::atom_constant<caf::atom("register")>;

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

struct app_description {
  std::string name;
  uint32_t max_cores = 0; // 0 = no limit
  uint32_t executor_cores = 1;
  uint64_t executor_memory = 0;
  std::string binary_path;
  std::string binary_hash; // "xxh64:<16 hex digits>"
  uint64_t binary_size = 0;
  std::vector<std::string> args;                          // the application's own arguments
  std::vector<std::pair<std::string, std::string>> conf;  // every key not at its default
  std::string driver_host;
  uint16_t driver_port = 0;
  uint32_t initial_executors = 0;
  // Where the master is: when its connection drops the app client reconnects every
  // reconnect_interval and registers again under its id (docs/cluster.md, Recovery).
  std::string master_host;
  uint16_t master_port = 0;
  std::chrono::milliseconds reconnect_interval{1000}; // ember.worker.registrationRetryInterval
  std::shared_ptr<data_file_catalog> data_files;      // filled at every RegisteredApplication (may be null)
};

// Heartbeats go to a heartbeat_receiver it spawns (actors/heartbeat_receiver.hpp); send it
// (kill_target_atom, app_client) so executors lost for silence are killed through the master.
// With a `topology`, a registering executor's rack is resolved from its host before the task
// scheduler hears of it (a script runs in a detached resolver actor, never on the endpoint).
caf::actor spawn_driver_endpoint(caf::actor_system& sys, caf::actor task_scheduler, caf::actor map_output_tracker,
                                 caf::actor block_manager_master,
                                 std::string binary_path, std::string binary_hash, size_t max_chunk_size,
                                 heartbeat_receiver_config heartbeats,
                                 std::shared_ptr<scheduler::topology> topology = nullptr);

// Registers with `master` when asked (register_atom -> the application id, or an error with the
// master's reason). Until then it does nothing.
caf::actor spawn_app_client(caf::actor_system& sys, caf::actor master, app_description app,
                            caf::actor task_scheduler, caf::actor dag_scheduler);

} // namespace ember::actors
