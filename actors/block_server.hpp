// An executor's block server: serves the shuffle blocks this executor wrote to reducers on other
// hosts (FetchBlocks -> BlockChunk..., or FetchBlockFailed), and the client half a reducer's task
// thread uses to fetch one. Reads are blocking file I/O, so the server is a detached actor (its
// own thread), never one on CAF's scheduler threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "scheduler/map_output_registry.hpp"

namespace ember::storage {
class broadcast_store;
class block_manager;
}
namespace ember::config {
class fault_injector;
}
namespace ember::executor {
class fetch_limiter;
}

namespace ember::actors {

// The map outputs this executor wrote, by (shuffle id, map task id): filled by task threads as
// map tasks finish, read by the block server.
class map_output_index {
public:
  void add(uint32_t shuffle_id, uint64_t map_task_id, std::string data_path);
  std::optional<std::string> find(uint32_t shuffle_id, uint64_t map_task_id) const;

private:
  mutable std::mutex mtx_;
  std::map<std::pair<uint32_t, uint64_t>, std::string> paths_;
};

// `broadcasts`, if given: the broadcast pieces this executor holds, served to peers. `blocks`, if
// given: the executor's block manager, whose cached partitions (rdd BlockIds) it serves.
// `max_blocks_per_request` (ember.blockManager.maxBlocksPerRequest): the most block ids one
// FetchBlocks may name; the server answers a request in one go, so this bounds what one message
// of a peer makes it read and send (Ember's own clients name one).
caf::actor spawn_block_server(caf::actor_system& sys, std::shared_ptr<const map_output_index> outputs,
                              size_t max_chunk_size, size_t max_blocks_per_request,
                              std::shared_ptr<const storage::broadcast_store> broadcasts = nullptr,
                              std::shared_ptr<storage::block_manager> blocks = nullptr);

// Fetches cached partition `partition` of rdd `rdd_id` (its serialized bytes) from the block
// server at host:port, on the calling (task) thread; nullopt if that server does not have it or
// cannot be reached within `timeout` (the caller then tries another holder or recomputes).
std::optional<std::string> fetch_rdd_block(caf::actor_system& sys, const std::string& host, uint16_t port,
                                           uint32_t rdd_id, uint32_t partition, size_t max_chunk_size,
                                           std::chrono::milliseconds timeout, std::chrono::milliseconds retry_wait);

// Fetches reduce partition p of map output s from its owner's block server (s.host, s.port), on the
// calling (task) thread. Returns the partition's framed bytes; throws fetch_failed_error naming
// the executor and the cause (unreachable, not found, bad checksum, timeout). A request that got
// no answer at all within `retry_wait` is sent again (up to `timeout` in all): CAF 0.17 can drop
// a message when two executors open connections to each other at the same moment. `faults`, if
// enabled, drops, duplicates or delays each request (ember.test.faults.FetchBlocks.*).
// `holder_lost`, asked every `retry_wait` while the block is not all in, says whether the driver
// has meanwhile declared its holder lost: a holder killed mid-fetch may never answer nor close
// (CAF 0.17 keeps the node's proxy while it is reachable through another node), and waiting for
// `timeout` (ember.network.timeout, 120 s) would stall the reducer for nothing.
// `limiter`, if given, bounds this executor's fetches in flight (ember.reducer.maxReqsInFlight,
// maxSizeInFlight); a holder that sends more bytes than the map status says is refused as corrupt.
std::string fetch_remote_block(caf::actor_system& sys, const scheduler::map_status& s, uint32_t p,
                               size_t max_chunk_size, std::chrono::milliseconds timeout,
                               std::chrono::milliseconds retry_wait, config::fault_injector* faults = nullptr,
                               const std::function<bool()>& holder_lost = {},
                               executor::fetch_limiter* limiter = nullptr);

} // namespace ember::actors
