#include "actors/block_server.hpp"
#include "actors/remoting.hpp"

#include <xxhash.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>

#include <caf/actor_cast.hpp>
#include <caf/after.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/spawn_options.hpp>

#include "actors/broadcast_executor.hpp"
#include "actors/executor.hpp"
#include "actors/conversions.hpp"
#include "api/task.hpp"
#include "config/fault_injector.hpp"
#include "config/log.hpp"
#include "executor/fetch_limiter.hpp"
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
                           size_t max_chunk_size, size_t max_blocks_per_request,
                           std::shared_ptr<const storage::broadcast_store> broadcasts,
                           std::shared_ptr<storage::block_manager> blocks) {
  return {
    [=](const wire<proto::FetchBlocks>& msg) {
      auto req = msg.reader();
      auto to = caf::actor_cast<caf::actor>(self->current_sender());
      size_t chunk = std::min<size_t>(max_chunk_size, std::max<uint32_t>(req.getMaxChunkSize(), 4096));
      if (req.getBlockIds().size() > max_blocks_per_request) {
        if (req.getBlockIds().size() > 0)
          self->send(to, make_wire<proto::FetchBlockFailed>([&](proto::FetchBlockFailed::Builder b) {
            b.setRequestId(req.getRequestId());
            b.setBlockId(req.getBlockIds()[0]);
            b.setKind(proto::FetchFailureKind::NOT_FOUND);
            b.setMessage("a FetchBlocks names " + std::to_string(req.getBlockIds().size())
                         + " blocks; this block server serves at most " + std::to_string(max_blocks_per_request));
          }));
        return;
      }
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
                              size_t max_chunk_size, size_t max_blocks_per_request,
                              std::shared_ptr<const storage::broadcast_store> broadcasts,
                              std::shared_ptr<storage::block_manager> blocks) {
  return sys.spawn<caf::detached>(block_server, std::move(outputs), max_chunk_size, max_blocks_per_request,
                                  std::move(broadcasts), std::move(blocks));
}

namespace {

// Asks `server` for one block (set_id names it) and collects its chunks into `out`; on failure
// sets `error` (and `corrupt` if the holder answered with bad data). A request that got no answer
// at all within `retry_wait` is sent again (up to `timeout` in all): CAF 0.17 can drop a message
// when two executors open connections to each other at the same moment. Each asking has its own
// request id; the first answer to any of them is the one read (an earlier asking's answer that
// was only late is as good as the latest's), and every other answer is ignored: that of another
// asking, and the second one to a request that went out twice.
void fetch_chunks(caf::actor_system& sys, const caf::actor& server, const std::function<void(proto::BlockId::Builder)>& set_id,
                  size_t max_chunk_size, std::chrono::milliseconds timeout, std::chrono::milliseconds retry_wait,
                  config::fault_injector* faults, std::string& out, std::string& error, bool& corrupt,
                  const std::function<bool()>& holder_lost = {}, std::optional<uint64_t> expected_size = {}) {
  static std::atomic<uint64_t> next_request{1};
  caf::scoped_actor self{sys};
  std::vector<uint64_t> asked;
  uint64_t request_id = 0; // the asking whose answer is being read
  bool done = false, answered = false;
  auto ask = [&] {
    asked.push_back(next_request.fetch_add(1));
    auto msg = make_wire<proto::FetchBlocks>([&](proto::FetchBlocks::Builder b) {
      b.setRequestId(asked.back());
      set_id(b.initBlockIds(1)[0]);
      b.setMaxChunkSize(static_cast<uint32_t>(max_chunk_size));
    });
    // The FetchBlocks send point with injected faults (docs/chaos.md): dropped, doubled, delayed.
    auto d = faults != nullptr && faults->enabled() ? faults->decide(config::fault_kind::fetch_blocks)
                                                    : config::fault_decision{};
    for (unsigned copy = 0; copy < d.copies; ++copy) {
      if (d.delay.count() > 0)
        self->delayed_send(server, d.delay, msg);
      else
        self->send(server, msg);
    }
  };
  auto ours = [&](uint64_t id) {
    if (answered)
      return id == request_id;
    if (std::find(asked.begin(), asked.end(), id) == asked.end())
      return false; // not an asking of this fetch
    request_id = id;
    answered = true;
    return true;
  };
  ask();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done && error.empty()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    auto wait = std::min(left, retry_wait); // answered or not: holder_lost is asked at each tick
    self->receive(
      [&](const wire<proto::BlockChunk>& msg) {
        auto c = msg.reader();
        if (!ours(c.getRequestId()))
          return;
        auto data = view(c.getData());
        // The size the block must have: the map status's for a shuffle block, else what the first
        // chunk declares. Never more is kept, whatever the holder sends.
        if (!expected_size)
          expected_size = c.getTotalSize();
        if (c.getOffset() != out.size())
          error = "chunk at offset " + std::to_string(c.getOffset()) + ", expected " + std::to_string(out.size());
        else if (checksum_of(data) != c.getChecksum())
          error = "checksum mismatch in the chunk at offset " + std::to_string(c.getOffset());
        else if (c.getTotalSize() != *expected_size || data.size() > *expected_size - out.size())
          error = "the holder sends a block of " + std::to_string(c.getTotalSize()) + " bytes (chunk at offset "
                  + std::to_string(c.getOffset()) + "), expected " + std::to_string(*expected_size);
        corrupt = !error.empty();
        if (corrupt)
          return;
        out.append(data);
        done = c.getLast();
      },
      [&](const wire<proto::FetchBlockFailed>& msg) {
        if (!ours(msg.reader().getRequestId()))
          return;
        error = str(msg.reader().getMessage());
        auto kind = msg.reader().getKind();
        corrupt = kind == proto::FetchFailureKind::IO_ERROR || kind == proto::FetchFailureKind::CORRUPT;
      },
      caf::after(std::max(wait, std::chrono::milliseconds{0})) >> [&] {
        if (std::chrono::steady_clock::now() >= deadline) {
          error = "no answer within ember.network.timeout";
        } else if (holder_lost && holder_lost()) {
          error = "its executor was lost (the driver no longer lists this map output there)";
        } else if (!answered) {
          log::get("executor")->info("fetch request {} unanswered after ember.shuffle.io.retryWait ({} ms): asking again",
                                     asked.back(), retry_wait.count());
          ask();
        }
      });
  }
}

} // namespace

std::string fetch_remote_block(caf::actor_system& sys, const scheduler::map_status& s, uint32_t p,
                               size_t max_chunk_size, std::chrono::milliseconds timeout,
                               std::chrono::milliseconds retry_wait, config::fault_injector* faults,
                               const std::function<bool()>& holder_lost, executor::fetch_limiter* limiter) {
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
  // In flight from the request on (connecting included) until the block or the failure is back:
  // the attempt's heartbeats say so (running_tasks, executorMetricsUpdate).
  executor::running_tasks::fetch_scope in_flight;
  const uint64_t expected = p < s.sizes.size() ? s.sizes[p] : 0;
  std::optional<executor::fetch_limiter::permit> permit;
  if (limiter)
    permit.emplace(limiter->acquire(expected));
  // Reuses the connection to that node. A connect that times out is tried again until `timeout`,
  // unless the driver says the holder is gone; other errors (refused: the holder is dead) fail now.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto server = remote_actor(sys, s.host, s.port, retry_wait);
  while (!server) {
    auto& err = server.error();
    bool timed_out = err == caf::sec::request_timeout || err == caf::sec::connection_timeout;
    if (!timed_out || std::chrono::steady_clock::now() >= deadline)
      throw failed(describe(err));
    if (holder_lost && holder_lost())
      throw failed("its executor was lost (the driver no longer lists this map output there)");
    log::get("executor")->info("connecting to the block server at {}:{} timed out ({}): trying again", s.host, s.port,
                               describe(err));
    server = remote_actor(sys, s.host, s.port, retry_wait);
  }
  std::string out, error;
  bool corrupt = false;
  fetch_chunks(sys, *server, [&](proto::BlockId::Builder id) {
    auto sh = id.initShuffle();
    sh.setShuffleId(s.shuffle_id);
    sh.setMapId(s.map_task_id);
    sh.setReduceId(p);
  }, max_chunk_size, timeout, retry_wait, faults, out, error, corrupt, holder_lost, expected);
  if (!error.empty())
    throw failed(error, corrupt);
  return out;
}

std::optional<std::string> fetch_rdd_block(caf::actor_system& sys, const std::string& host, uint16_t port,
                                           uint32_t rdd_id, uint32_t partition, size_t max_chunk_size,
                                           std::chrono::milliseconds timeout, std::chrono::milliseconds retry_wait) {
  auto server = remote_actor(sys, host, port, retry_wait);  // else: recomputed
  if (!server)
    return std::nullopt;
  std::string out, error;
  bool corrupt = false;
  fetch_chunks(sys, *server, [&](proto::BlockId::Builder id) {
    auto r = id.initRdd();
    r.setRddId(rdd_id);
    r.setPartition(partition);
  }, max_chunk_size, timeout, retry_wait, nullptr, out, error, corrupt);
  if (!error.empty()) {
    log::get("executor")->info("cached block rdd_{}_{} not fetched from {}:{}: {}", rdd_id, partition, host, port, error);
    return std::nullopt;
  }
  return out;
}

} // namespace ember::actors
