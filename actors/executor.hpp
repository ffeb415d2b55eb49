// The executor: registers with the driver's task scheduler, runs each LaunchTask on one of its
// `cores` task threads (never on CAF's scheduler threads), and reports StatusUpdates. Reducers
// ask the map output tracker where map outputs are, from their task thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

namespace ember::actors {

struct executor_config {
  std::string executor_id;
  std::string host;
  uint32_t cores = 1;
  std::string app_dir;     // <ember.local.dir>/<app id>: every executor of the host below it
  size_t task_memory = 0;  // execution memory per task before spilling
  bool compress = true;
  size_t block_size = 64 << 10;
  std::chrono::milliseconds ask_timeout{120000};
};

caf::actor spawn_executor(caf::actor_system& sys, executor_config cfg, caf::actor task_scheduler,
                          caf::actor map_output_tracker);

} // namespace ember::actors
