// The driver's one actor in front of the cluster manager (Spark's SchedulerBackend, executor side).
// The task scheduler's dynamic allocation (RequestExecutors / KillExecutors), the heartbeat
// receiver's kills of silent executors and the runtime's start and stop all come here, and the
// manager's answers leave from here: executor granted and executor lost to the task scheduler,
// application removed to the dag scheduler. Which manager serves them it does not know: it drives
// the deploy::cluster_manager_backend that the registry below chose by ember.master. Owned by
// the driver runtime (actors/runtime.cpp).
#pragma once

#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/atom.hpp>

#include "deploy/cluster_manager.hpp"
#include "protocol/common.capnp.h"

namespace ember::config {
class config;
}

namespace ember::storage {
class broadcast_store;
}

namespace ember::actors {
struct data_file_catalog;
}

namespace ember::deploy {

// What the driver runtime gives a factory (declared CAF-free in deploy/cluster_manager.hpp).
struct driver_services {
  caf::actor_system& system;
  const config::config& conf;
  std::string master;   // ember.master, which the kind said it can create
  caf::actor task_scheduler; // an in-process executor registers here
  caf::actor driver_handle;  // ... and asks this one for map outputs and blocks (the tracker's
                             // and the block manager master's stand-in for a driver endpoint)
  // Executors in the driver's process: the application's id (the driver's own), its local dir,
  // and the driver's broadcast store, which such an executor reads directly.
  std::string app_id;
  std::string app_dir;
  std::shared_ptr<storage::broadcast_store> broadcasts;
  // Executors elsewhere: where a manager that knows its hosts' data files reports them (may be null).
  std::shared_ptr<actors::data_file_catalog> data_files;
};

} // namespace ember::deploy

namespace ember::actors {

// register_atom -> the application's id, or an error with the manager's reason.
using register_atom = caf::atom_constant<caf::atom("register")>;

// The kinds of cluster manager this driver can run on (local, standalone), with their factories.
const deploy::cluster_manager_registry& cluster_managers();

// Starts the application with `backend` when asked (register_atom), relays the schedulers'
// requests to it and its events to the schedulers; (caf::close_atom) stops it and answers once it
// has stopped. Dies with the task scheduler.
caf::actor spawn_cluster_manager_backend(caf::actor_system& sys, std::unique_ptr<deploy::cluster_manager_backend> backend,
                                         deploy::app_description app, caf::actor task_scheduler,
                                         caf::actor dag_scheduler);

} // namespace ember::actors
