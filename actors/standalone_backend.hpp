// The standalone master's cluster manager (ember.master ember://HOST:PORT): the app client
// (actors/cluster_driver.hpp) registers the application with the master, which launches executor
// processes on its workers; those connect to the driver endpoint. Made by the registry in
// actors/cluster_manager_backend.cpp; driven by the cluster_manager_backend actor.
#pragma once

#include <memory>

#include "deploy/cluster_manager.hpp"

namespace ember::actors {

// Connects to the master first (blocking: called on the thread creating the context); throws
// std::runtime_error "cannot reach the master at ember://HOST:PORT: ..." when it cannot.
std::unique_ptr<deploy::cluster_manager_backend> make_standalone_backend(deploy::driver_services& services);

} // namespace ember::actors
