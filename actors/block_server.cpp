#include "actors/block_server.hpp"

#include <xxhash.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/broadcast_executor.hpp"
#include "actors/messages.hpp"
#include "api/task.hpp"
#include "config/log.hpp"
#include "shuffle/shuffle_file.hpp"
#include "storage/block_manager.hpp"

namespace ember::actors {

void map_output_index::add(uint32_t shuffle_id, uint64_t map_task_id, std::string data_path) {
  std::lock_guard guard{mtx_};
  paths_[{shuffle_id, map_task_id}] = std::move(data_path);
}

std::optional<std::string> map_output_index::find(uint32_t shuffle_id, uint64_t map_task_id) const {
  std::lock_guard guard{mtx_};
  if (auto i = paths_.find({shuffle_id, map_task_id}); i != paths_.end())
    return i->second;
  return std::nullopt;
}

namespace {

uint32_t checksum_of(std::string_view data) { return XXH32(data.data(), data.size(), 0); }

// Sends one block's bytes as BlockChunks: no message is larger than ember.network.maxChunkSize.
void send_chunks(caf::event_based_actor* self, const caf::actor& to, uint64_t request_id, proto::BlockId::Reader id,
                 const std::string& data, size_t chunk) {
  size_t off = 0;
  do {
    size_t n = std::min(chunk, data.size() - off);
    std::string_view piece{data.data() + off, n};
    self->send(to, make_wire<proto::BlockChunk>([&](proto::BlockChunk::Builder b) {
      b.setRequestId(request_id);
      b.setBlockId(id);
      b.setOffset(off);
      b.setTotalSize(data.size());
      b.setData(bytes(piece));
      b.setChecksum(checksum_of(piece));
      b.setLast(off + n == data.size());
    }));
    off += n;
  } while (off < data.size());
}

caf::behavior block_server(caf::event_based_actor* self, std::shared_ptr<const map_output_index> outputs,
                           size_t max_chunk_size, std::shared_ptr<const storage::broadcast_store> broadcasts,
                           std::shared_ptr<storage::block_manager> blocks) {
  return {
    [=](const wire<proto::FetchBlocks>& msg) {
      auto req = msg.reader();
      auto to = caf::actor_cast<caf::actor>(self->current_sender());
      size_t chunk = std::min<size_t>(max_chunk_size, std::max<uint32_t>(req.getMaxChunkSize(), 4096));
      std::string data;
      for (auto id : req.getBlockIds()) {
        auto fail = [&](proto::FetchFailureKind kind, const std::string& message) {
          self->send(to, make_wire<proto::FetchBlockFailed>([&](proto::FetchBlockFailed::Builder b) {
            b.setRequestId(req.getRequestId());
            b.setBlockId(id);
            b.setKind(kind);
            b.setMessage(message);
          }));
        };
        if (id.isBroadcast() && broadcasts) {
          serve_broadcast_piece(self, to, req.getRequestId(), id, *broadcasts, chunk);
          continue;
        }
        if (id.isRdd() && blocks) { // a cached partition (api/cached.hpp), in its serialized form
          auto r = id.getRdd();
          auto block = storage::block_id::rdd(r.getRddId(), r.getPartition());
          std::optional<std::string> stored;
          try {
            stored = blocks->get_bytes(block);
          } catch (const std::exception& e) {
            fail(proto::FetchFailureKind::IO_ERROR, e.what());
            continue;
          }
          if (!stored)
            fail(proto::FetchFailureKind::NOT_FOUND, "no cached block " + block.name() + " here");
          else
            send_chunks(self, to, req.getRequestId(), id, *stored, chunk);
          continue;
        }
        if (!id.isShuffle()) {
          fail(proto::FetchFailureKind::NOT_FOUND, "this block server serves shuffle and cached blocks only");
          continue;
        }
        auto sb = id.getShuffle();
        auto path = outputs->find(sb.getShuffleId(), sb.getMapId());
        if (!path) {
          fail(proto::FetchFailureKind::NOT_FOUND, "no map output " + std::to_string(sb.getMapId()) + " of shuffle "
                                                     + std::to_string(sb.getShuffleId()) + " here");
          continue;
        }
        try {
          shuffle::shuffle_file_reader file{*path, index_path_for(*path)};
          file.read_partition_bytes(sb.getReduceId(), data);
        } catch (const std::exception& e) {
          fail(proto::FetchFailureKind::IO_ERROR, e.what());
          continue;
        }
        send_chunks(self, to, req.getRequestId(), id, data, chunk);
      }
    },
  };
}

} // namespace

caf::actor spawn_block_server(caf::actor_system& sys, std::shared_ptr<const map_output_index> outputs,
                              size_t max_chunk_size, std::shared_ptr<const storage::broadcast_store> broadcasts,
                              std::shared_ptr<storage::block_manager> blocks) {
  return sys.spawn<caf::detached>(block_server, std::move(outputs), max_chunk_size, std::move(broadcasts),
                                  std::move(blocks));
}

namespace {

// Asks `server` for one block (set_id names it) and collects its chunks into `out`; on failure
// sets `error` (and `corrupt` if the holder answered with bad data). A request that got no answer
// at all within `retry_wait` is sent again (up to `timeout` in all): CAF 0.17 can drop a message
// when two executors open connections to each other at the same moment.
void fetch_chunks(caf::actor_system& sys, const caf::actor& server, const std::function<void(proto::BlockId::Builder)>& set_id,
                  size_t max_chunk_size, std::chrono::milliseconds timeout, std::chrono::milliseconds retry_wait,
                  std::string& out, std::string& error, bool& corrupt) {
  static std::atomic<uint64_t> next_request{1};
  caf::scoped_actor self{sys};
  uint64_t request_id = 0;
  auto ask = [&] {
    request_id = next_request.fetch_add(1); // chunks of an earlier asking are ignored
    self->send(server, make_wire<proto::FetchBlocks>([&](proto::FetchBlocks::Builder b) {
      b.setRequestId(request_id);
      set_id(b.initBlockIds(1)[0]);
      b.setMaxChunkSize(static_cast<uint32_t>(max_chunk_size));
    }));
  };
  ask();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool done = false, answered = false;
  while (!done && error.empty()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    auto wait = answered ? left : std::min(left, retry_wait);
    self->receive(
      [&](const wire<proto::BlockChunk>& msg) {
        auto c = msg.reader();
        if (c.getRequestId() != request_id)
          return; // a late chunk of an abandoned request
        answered = true;
        auto data = view(c.getData());
        if (c.getOffset() != out.size())
          error = "chunk at offset " + std::to_string(c.getOffset()) + ", expected " + std::to_string(out.size());
        else if (checksum_of(data) != c.getChecksum())
          error = "checksum mismatch in the chunk at offset " + std::to_string(c.getOffset());
        corrupt = !error.empty();
        out.append(data);
        done = c.getLast();
      },
      [&](const wire<proto::FetchBlockFailed>& msg) {
        if (msg.reader().getRequestId() != request_id)
          return;
        error = str(msg.reader().getMessage());
        auto kind = msg.reader().getKind();
        corrupt = kind == proto::FetchFailureKind::IO_ERROR || kind == proto::FetchFailureKind::CORRUPT;
      },
      caf::after(std::max(wait, std::chrono::milliseconds{0})) >> [&] {
        if (answered || std::chrono::steady_clock::now() >= deadline)
          error = "no answer within ember.network.timeout";
        else
          ask();
      });
  }
}

} // namespace

std::string fetch_remote_block(caf::actor_system& sys, const scheduler::map_status& s, uint32_t p,
                               size_t max_chunk_size, std::chrono::milliseconds timeout,
                               std::chrono::milliseconds retry_wait) {
  // corrupt: the holder answered with bad data (or could not read its file), so only this map
  // output is lost; otherwise (unreachable, silent, no such output) all of the holder's are.
  auto failed = [&](const std::string& why, bool corrupt = false) {
    detail::fetch_failed_error e{s.shuffle_id, s.map_id, s.executor_id,
                                 "cannot fetch map output " + std::to_string(s.map_id) + " of shuffle "
                                   + std::to_string(s.shuffle_id) + " from executor " + s.executor_id + " ("
                                   + s.host + ":" + std::to_string(s.port) + "): " + why};
    e.corrupt_block = corrupt;
    return e;
  };
  auto server = sys.middleman().remote_actor(s.host, s.port); // reuses the connection to that node
  if (!server)
    throw failed(describe(server.error()));
  std::string out, error;
  bool corrupt = false;
  fetch_chunks(sys, *server, [&](proto::BlockId::Builder id) {
    auto sh = id.initShuffle();
    sh.setShuffleId(s.shuffle_id);
    sh.setMapId(s.map_task_id);
    sh.setReduceId(p);
  }, max_chunk_size, timeout, retry_wait, out, error, corrupt);
  if (!error.empty())
    throw failed(error, corrupt);
  return out;
}

std::optional<std::string> fetch_rdd_block(caf::actor_system& sys, const std::string& host, uint16_t port,
                                           uint32_t rdd_id, uint32_t partition, size_t max_chunk_size,
                                           std::chrono::milliseconds timeout, std::chrono::milliseconds retry_wait) {
  auto server = sys.middleman().remote_actor(host, port);
  if (!server)
    return std::nullopt;
  std::string out, error;
  bool corrupt = false;
  fetch_chunks(sys, *server, [&](proto::BlockId::Builder id) {
    auto r = id.initRdd();
    r.setRddId(rdd_id);
    r.setPartition(partition);
  }, max_chunk_size, timeout, retry_wait, out, error, corrupt);
  if (!error.empty()) {
    log::get("executor")->info("cached block rdd_{}_{} not fetched from {}:{}: {}", rdd_id, partition, host, port, error);
    return std::nullopt;
  }
  return out;
}

} // namespace ember::actors
