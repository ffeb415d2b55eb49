// Local mode's cluster manager (ember.master local, local[N], local[*]): one executor inside the
// driver's process with N task threads, registered with the task scheduler directly. Made by the
// registry in actors/cluster_manager_backend.cpp; driven by the cluster_manager_backend actor.
#pragma once

#include <memory>

#include "deploy/cluster_manager.hpp"

namespace ember::actors {

std::unique_ptr<deploy::cluster_manager_backend> make_local_backend(deploy::driver_services& services);

} // namespace ember::actors
