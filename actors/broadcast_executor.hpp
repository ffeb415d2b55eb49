// An executor's half of broadcast variables: the broadcast source its task threads reach values
// through (fetching a missing one once per process, pieces from peers or the driver, on the task
// thread), and the piece serving shared by executors' block servers and the driver's broadcast
// master. The executor's block manager actor (actors/block_manager_actor.hpp) registers fetched
// pieces with the driver and drops copies on RemoveBroadcast. Flow: actors/broadcast_driver.hpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

#include "api/broadcast.hpp"
#include "protocol/shuffle.capnp.h"
#include "storage/broadcast.hpp"

namespace ember::actors {

// Sends broadcast piece `id` (a BlockId.broadcast) from `store` to `to` in BlockChunks of at most
// `max_chunk` bytes, or FetchBlockFailed(notFound) when the store does not hold it.
void serve_broadcast_piece(caf::event_based_actor* self, const caf::actor& to, uint64_t request_id,
                           proto::BlockId::Reader id, const storage::broadcast_store& store, size_t max_chunk);

struct executor_broadcast_config {
  std::string executor_id;
  std::string host;           // where this executor's block server serves its pieces
  uint16_t block_port = 0;
  storage::broadcast_settings settings;
  size_t max_chunk_size = 1 << 20;                  // ember.network.maxChunkSize
  std::chrono::milliseconds ask_timeout{120000};    // manifests and holders
  std::chrono::milliseconds fetch_timeout{120000};  // one piece: ember.network.timeout
  std::chrono::milliseconds retry_wait{5000};       // ember.shuffle.io.retryWait
};

// An executor process's broadcasts: values fetched once, shared by its task threads. Each piece
// stored is announced (BroadcastPiecesStored) to `block_manager`, which tells the driver.
class executor_broadcast_source : public detail::broadcast_source {
public:
  executor_broadcast_source(caf::actor_system& sys, executor_broadcast_config cfg,
                            std::shared_ptr<storage::broadcast_store> store, caf::actor driver, caf::actor block_manager);
  std::shared_ptr<const void> value(uint64_t id, const std::string& type, detail::broadcast_decoder decode) override;
  broadcast_stats stats(uint64_t id) const override;

private:
  caf::actor_system& sys_;
  executor_broadcast_config cfg_;
  std::shared_ptr<storage::broadcast_store> store_;
  caf::actor driver_, block_manager_;
};

} // namespace ember::actors
