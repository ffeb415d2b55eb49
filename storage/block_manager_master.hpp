// The driver's block_manager_master: where every block of every executor is, from the
// executors' UpdateBlockInfo reports. Plain C++ owned by the dag_scheduler actor
// (actors/dag_scheduler.cpp), which answers GetBlockLocations with it, feeds the DAG planner's
// cache locator (cached partitions -> PROCESS_LOCAL preferences), forgets a lost executor's
// blocks and sends RemoveRdd for unpersist.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "storage/block_manager.hpp"

namespace ember::storage {

// One executor holding a block, and how to reach its block server.
struct block_holder {
  std::string executor_id;
  std::string host;
  uint16_t port = 0;
  storage_level level;
  uint64_t mem_size = 0;
  uint64_t disk_size = 0;
};

class block_manager_master {
public:
  // A block stored, moved (spilled) or gone (both sizes 0) on `executor_id`.
  void update(const std::string& executor_id, const std::string& host, uint16_t port, const block_status& status);
  // Holders of the block, in the order they reported it.
  std::vector<block_holder> locations(const block_id& id) const;
  // Forgets everything the executor held; returns how many blocks it held.
  size_t executor_lost(const std::string& executor_id);
  // Forgets every block of the RDD; returns the executors that held any.
  std::vector<std::string> remove_rdd(uint32_t rdd_id);
  size_t num_blocks() const { return blocks_.size(); }
  // Replication (the _2 levels): where the next copy of the block goes, if its holders are fewer
  // than the level's replication: the executor of `live` holding it not, with the fewest blocks
  // (ties: the smallest id). nullopt if it has enough holders, or nobody to take a copy.
  std::optional<std::string> replica_target(const block_id& id, const std::vector<std::string>& live) const;

private:
  std::map<block_id, std::vector<block_holder>> blocks_;
};

} // namespace ember::storage
