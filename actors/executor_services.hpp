// The executor's task_services over CAF (executor/task_runner.hpp): what a task thread asks
// other processes for (the driver's map output tracker and block_manager_master, other
// executors' block servers). Owned by the executor actor's task context (actors/executor.cpp).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "actors/block_manager_actor.hpp"
#include "actors/executor.hpp"
#include "executor/task_runner.hpp"

namespace ember::actors {

// Every call blocks its task thread (a scoped_actor per call), never a CAF scheduler thread.
class caf_task_services : public executor::task_services {
public:
  // `cfg` must outlive this. `tracker` answers GetMapOutputs and GetBlockLocations; block
  // reports go through `block_manager` (the block manager actor); `outputs`, if given, learns
  // the map outputs written here.
  caf_task_services(caf::actor_system& sys, const executor_config& cfg, caf::actor tracker, caf::actor block_manager,
                    std::shared_ptr<map_output_index> outputs);

  std::vector<scheduler::map_status> map_outputs(uint32_t shuffle) override;
  void report_blocks(const std::vector<storage::block_status>& changes) override;
  void map_output_written(const scheduler::map_status& s) override;
  std::string fetch_remote(const scheduler::map_status& s, uint32_t p) override;
  std::optional<std::string> fetch_cached(const storage::block_id& id) override;

private:
  caf::actor_system& sys_;
  const executor_config& cfg_; // the task context's, which outlives this
  caf::actor tracker_;
  caf::actor block_manager_;
  block_manager_actor_config bm_cfg_;
  std::shared_ptr<map_output_index> outputs_;
};

} // namespace ember::actors
