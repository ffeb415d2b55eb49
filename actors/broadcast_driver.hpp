// The driver's half of broadcast variables: broadcast_driver (what ctx.broadcast, unpersist and
// destroy call, from the user's thread) and the broadcast master, a detached actor reached through
// the driver endpoint that serves manifests and pieces, knows which executors hold which pieces
// (their broadcast agents registered them) and tells those executors to drop their copies.
//
//   executor task thread            driver endpoint -> broadcast master          peer block server
//     GetBroadcastManifest ------------------------> BroadcastManifest
//     GetBroadcastPieceHolders --------------------> BroadcastPieceHolders (peers holding piece p)
//     FetchBlocks{broadcast p} -----------------------------------------------------> BlockChunk...
//       (no peer, or its copy fails the checksum)  -> BlockChunk... from the driver
//     agent: BroadcastPiecesStored ----------------> holders[p] += executor
//   unpersist/destroy: master -> RemoveBroadcast -> every holder's agent (acknowledged)
#pragma once

#include <atomic>
#include <chrono>
#include <memory>

#include <caf/actor.hpp>
#include <caf/actor_control_block.hpp>
#include <caf/actor_system.hpp>

#include "api/broadcast.hpp"
#include "storage/broadcast.hpp"

namespace ember::actors {

// The broadcast master of this actor system (registered under an atom when spawned), or an invalid
// handle: the driver endpoint routes executors' broadcast messages to it.
caf::actor broadcast_master_of(caf::actor_system& sys);

// Spawns the master (cluster mode), linked to `linked_to` (it ends with the driver's schedulers).
caf::actor spawn_broadcast_master(caf::actor_system& sys, std::shared_ptr<storage::broadcast_store> store,
                                  size_t max_chunk_size, std::chrono::milliseconds ask_timeout, caf::actor linked_to);

class broadcast_driver : public detail::broadcast_control {
public:
  // `master` is invalid in local mode: there the only executor shares `store` with the driver.
  broadcast_driver(caf::actor_system& sys, std::shared_ptr<storage::broadcast_store> store,
                   storage::broadcast_settings settings, caf::actor master, std::chrono::milliseconds ask_timeout);

  uint64_t create(std::string_view serialized, std::shared_ptr<const void> value, const char* type) override;
  void unpersist(uint64_t id) override;
  void destroy(uint64_t id) override;
  bool destroyed(uint64_t id) const override { return store_->destroyed(id); }

  const std::shared_ptr<storage::broadcast_store>& store() const { return store_; }

private:
  void remove(uint64_t id, bool destroy);

  caf::actor_system& sys_;
  std::shared_ptr<storage::broadcast_store> store_;
  storage::broadcast_settings settings_;
  caf::weak_actor_ptr master_; // weak: the master ends with the application, not with the last handle
  bool local_;
  std::chrono::milliseconds ask_timeout_;
  std::atomic<uint64_t> next_id_{0};
};

// Local mode: tasks read the driver's store, where every live broadcast's original value is.
class local_broadcast_source : public detail::broadcast_source {
public:
  explicit local_broadcast_source(std::shared_ptr<storage::broadcast_store> store) : store_(std::move(store)) {}
  std::shared_ptr<const void> value(uint64_t id, const std::string& type, detail::broadcast_decoder decode) override;
  broadcast_stats stats(uint64_t id) const override;

private:
  std::shared_ptr<storage::broadcast_store> store_;
};

} // namespace ember::actors
