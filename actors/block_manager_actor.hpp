// The executor's BlockManager as an actor: the one address the driver knows for this executor's
// blocks. It passes block reports on to the driver's block_manager_master (UpdateBlockInfo) and
// broadcast pieces to its broadcast master (BroadcastPiecesStored) as itself, so RemoveRdd and
// RemoveBroadcast come back here; it replicates blocks (ReplicateBlock) and drops removed ones.
// The store stays a plain class (storage/block_manager.hpp, storage/broadcast.hpp) that task
// threads read and write directly: only what involves another process goes through this actor.
//
//   task thread --UpdateBlockInfo (request)--> block_manager_actor --request--> block_manager_master
//   task thread --BroadcastPiecesStored-------> block_manager_actor ----------> broadcast master
//   driver --RemoveRdd / RemoveBroadcast / ReplicateBlock--> block_manager_actor (acknowledged)
//
// Spawned by executor_process.cpp (an executor process) or by the executor actor (local mode).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

namespace ember::storage {
class block_manager;
class broadcast_store;
struct block_status;
}

namespace ember::actors {

struct block_manager_actor_config {
  std::string executor_id;
  std::string host;
  uint16_t block_port = 0;                        // this executor's block server; 0 = none (local mode)
  size_t max_chunk_size = 1 << 20;                // ember.network.maxChunkSize (replica fetches)
  std::chrono::milliseconds ask_timeout{120000};  // ember.rpc.askTimeout
  std::chrono::milliseconds fetch_timeout{120000};
  std::chrono::milliseconds fetch_retry_wait{5000};
  // Replication (ReplicateBlock) runs on this many detached actors; beyond max_pending queued, a
  // request is answered at once, unserved (ember.storage.replication.threads / .maxPending).
  std::size_t replication_threads = 2;
  std::size_t max_pending_replications = 256;
};

// `master` answers UpdateBlockInfo (the block_manager_master: the dag scheduler in local mode,
// the driver endpoint in a cluster); `broadcast_master` receives BroadcastPiecesStored. `pieces`
// is the broadcast store whose copies RemoveBroadcast drops (null: local mode, none).
caf::actor spawn_block_manager_actor(caf::actor_system& sys, block_manager_actor_config cfg,
                                     std::shared_ptr<storage::block_manager> blocks,
                                     std::shared_ptr<storage::broadcast_store> pieces, caf::actor master,
                                     caf::actor broadcast_master);

// Reports block status changes to the block_manager_master through `block_manager` (the actor
// above), one acknowledged request each: returns once the master knows (a task's StatusUpdate
// goes out only after that, so the next job already prefers this executor for its blocks).
// Blocking: call it from a task thread or a detached actor, never a CAF scheduler thread.
void report_blocks(caf::actor_system& sys, const caf::actor& block_manager, const block_manager_actor_config& cfg,
                   const std::vector<storage::block_status>& changes);

} // namespace ember::actors
