#include "actors/broadcast_executor.hpp"
#include "actors/remoting.hpp"

#include <algorithm>
#include <atomic>
#include <random>

#include <caf/after.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "actors/conversions.hpp"
#include "config/log.hpp"

namespace ember::actors {

void serve_broadcast_piece(caf::event_based_actor* self, const caf::actor& to, uint64_t request_id,
                           proto::BlockId::Reader id, const storage::broadcast_store& store, size_t max_chunk) {
  auto b = id.getBroadcast();
  auto piece = store.find_piece(b.getBroadcastId(), b.getPiece());
  if (!piece) {
    self->send(to, make_wire<proto::FetchBlockFailed>([&](proto::FetchBlockFailed::Builder f) {
      f.setRequestId(request_id);
      f.setBlockId(id);
      f.setKind(proto::FetchFailureKind::NOT_FOUND);
      f.setMessage("no piece " + std::to_string(b.getPiece()) + " of broadcast " + std::to_string(b.getBroadcastId())
                   + " here");
    }));
    return;
  }
  const std::string& data = *piece;
  size_t off = 0;
  do {
    size_t n = std::min(max_chunk, data.size() - off);
    std::string_view part{data.data() + off, n};
    self->send(to, make_wire<proto::BlockChunk>([&](proto::BlockChunk::Builder c) {
      c.setRequestId(request_id);
      c.setBlockId(id);
      c.setOffset(off);
      c.setTotalSize(data.size());
      c.setData(bytes(part));
      c.setChecksum(storage::piece_checksum(part));
      c.setLast(off + n == data.size());
    }));
    off += n;
  } while (off < data.size());
}

namespace {

std::string piece_name(uint64_t id, uint32_t piece) {
  return "broadcast " + std::to_string(id) + ": piece " + std::to_string(piece);
}

// The fetch's view of the world over CAF, on the fetching task thread.
class caf_transport : public storage::broadcast_transport {
public:
  caf_transport(caf::actor_system& sys, const executor_broadcast_config& cfg, caf::actor driver, caf::actor block_manager)
    : sys_(sys), cfg_(cfg), self_(sys), driver_(std::move(driver)), block_manager_(std::move(block_manager)) {}

  storage::broadcast_manifest manifest(uint64_t id) override {
    storage::broadcast_manifest m;
    std::string error;
    self_->request(driver_, cfg_.ask_timeout, make_wire<proto::GetBroadcastManifest>([&](auto b) { b.setBroadcastId(id); }))
      .receive(
        [&](const wire<proto::BroadcastManifest>& reply) {
          auto r = reply.reader();
          m.id = r.getBroadcastId();
          m.total_size = r.getTotalSize();
          for (auto c : r.getPieceChecksums())
            m.checksums.push_back(c);
          if (m.checksums.size() != r.getNumPieces() || m.id != id)
            error = "broadcast " + std::to_string(id) + ": the driver sent an inconsistent manifest";
        },
        [&](const caf::error& err) { error = describe(err); });
    if (!error.empty())
      throw storage::broadcast_error(error.starts_with("broadcast ") ? error
                                                                      : "broadcast " + std::to_string(id)
                                                                          + ": cannot get its manifest from the driver: " + error);
    return m;
  }

  std::vector<storage::piece_holder> holders(uint64_t id, uint32_t piece) override {
    std::vector<storage::piece_holder> out;
    std::string error;
    self_->request(driver_, cfg_.ask_timeout, make_wire<proto::GetBroadcastPieceHolders>([&](auto b) {
      b.setBroadcastId(id);
      b.setPiece(piece);
    }))
      .receive(
        [&](const wire<proto::BroadcastPieceHolders>& reply) {
          for (auto h : reply.reader().getHolders())
            if (str(h.getExecutorId()) != cfg_.executor_id)
              out.push_back({str(h.getExecutorId()), str(h.getHost()), h.getPort()});
        },
        [&](const caf::error& err) { error = describe(err); });
    if (!error.empty()) // no peers then: the driver serves the piece
      log::get("executor")->warn("{}: no holders from the driver: {}", piece_name(id, piece), error);
    return out;
  }

  std::string fetch_piece(const std::optional<storage::piece_holder>& from, uint64_t id, uint32_t piece) override {
    std::string who = from ? "executor " + from->executor_id + " (" + from->host + ":" + std::to_string(from->port) + ")"
                           : std::string{"the driver"};
    auto failed = [&](const std::string& why) {
      return storage::broadcast_error(piece_name(id, piece) + " cannot be fetched from " + who + ": " + why);
    };
    caf::actor server = driver_;
    if (from) {
      auto peer = remote_actor(sys_, from->host, from->port); // reuses the connection
      if (!peer)
        throw failed(describe(peer.error()));
      server = *peer;
    }
    static std::atomic<uint64_t> next_request{1};
    uint64_t request_id = 0;
    auto ask = [&] {
      request_id = next_request.fetch_add(1); // chunks of an earlier asking are ignored
      self_->send(server, make_wire<proto::FetchBlocks>([&](proto::FetchBlocks::Builder b) {
        b.setRequestId(request_id);
        auto bid = b.initBlockIds(1)[0].initBroadcast();
        bid.setBroadcastId(id);
        bid.setPiece(piece);
        b.setMaxChunkSize(static_cast<uint32_t>(cfg_.max_chunk_size));
      }));
    };
    ask();
    // A request with no answer at all is asked again after retry_wait (CAF 0.17 can drop a
    // message when two processes connect to each other at the same moment), up to fetch_timeout.
    const auto deadline = std::chrono::steady_clock::now() + cfg_.fetch_timeout;
    std::string out, error;
    bool done = false, answered = false;
    while (!done && error.empty()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      auto wait = answered ? left : std::min(left, cfg_.retry_wait);
      self_->receive(
        [&](const wire<proto::BlockChunk>& msg) {
          auto c = msg.reader();
          if (c.getRequestId() != request_id)
            return;
          answered = true;
          auto data = view(c.getData());
          if (c.getOffset() != out.size())
            error = "chunk at offset " + std::to_string(c.getOffset()) + ", expected " + std::to_string(out.size());
          else if (storage::piece_checksum(data) != c.getChecksum())
            error = "checksum mismatch in the chunk at offset " + std::to_string(c.getOffset());
          out.append(data);
          done = c.getLast();
        },
        [&](const wire<proto::FetchBlockFailed>& msg) {
          if (msg.reader().getRequestId() == request_id)
            error = str(msg.reader().getMessage());
        },
        caf::after(std::max(wait, std::chrono::milliseconds{0})) >> [&] {
          if (answered || std::chrono::steady_clock::now() >= deadline)
            error = "no answer within ember.network.timeout";
          else
            ask();
        });
    }
    if (!error.empty())
      throw failed(error);
    return out;
  }

  void stored(uint64_t id, uint32_t piece) override {
    caf::anon_send(block_manager_, make_wire<proto::BroadcastPiecesStored>([&](proto::BroadcastPiecesStored::Builder b) {
      b.setBroadcastId(id);
      auto h = b.initHolder();
      h.setExecutorId(cfg_.executor_id);
      h.setHost(cfg_.host);
      h.setPort(cfg_.block_port);
      b.initPieces(1).set(0, piece);
    }));
  }

private:
  caf::actor_system& sys_;
  const executor_broadcast_config& cfg_;
  caf::scoped_actor self_;
  caf::actor driver_, block_manager_;
};

} // namespace

executor_broadcast_source::executor_broadcast_source(caf::actor_system& sys, executor_broadcast_config cfg,
                                                     std::shared_ptr<storage::broadcast_store> store, caf::actor driver,
                                                     caf::actor block_manager)
  : sys_(sys), cfg_(std::move(cfg)), store_(std::move(store)), driver_(std::move(driver)),
    block_manager_(std::move(block_manager)) {}

std::shared_ptr<const void> executor_broadcast_source::value(uint64_t id, const std::string& type,
                                                             detail::broadcast_decoder decode) {
  return store_->value(id, type, [&] {
    caf_transport transport{sys_, cfg_, driver_, block_manager_};
    std::mt19937_64 rng{std::random_device{}() ^ id};
    storage::broadcast_fetch_stats stats;
    auto start = std::chrono::steady_clock::now();
    std::string bytes;
    try {
      bytes = storage::fetch_broadcast(id, transport, *store_, cfg_.settings, rng, stats);
    } catch (...) {
      store_->count(id, stats);
      throw;
    }
    store_->count(id, stats);
    auto value = decode(bytes);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    log::get("executor")->info("broadcast {} fetched by executor {}: {} bytes, {} pieces from the driver, {} from peers "
                               "({} bad peer pieces refetched) in {} ms",
                               id, cfg_.executor_id, bytes.size(), stats.pieces_from_driver, stats.pieces_from_peers,
                               stats.bad_peer_pieces, ms);
    return value;
  });
}

broadcast_stats executor_broadcast_source::stats(uint64_t id) const {
  auto s = store_->stats(id);
  return {cfg_.executor_id, s.fetches, s.pieces_from_driver, s.pieces_from_peers, s.bad_peer_pieces};
}

} // namespace ember::actors
