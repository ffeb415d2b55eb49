#include "storage/broadcast.hpp"

#include <lz4.h>
#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <thread>

#include "config/registry.hpp"

namespace ember::storage {

namespace {

enum : uint8_t { codec_raw = 0, codec_lz4 = 1 };
constexpr size_t header_size = 5;

std::string name(uint64_t id) { return "broadcast " + std::to_string(id); }

} // namespace

uint32_t piece_checksum(std::string_view piece) { return XXH32(piece.data(), piece.size(), 0); }

namespace {

std::string make_piece(std::string_view raw, bool compress) {
  std::string piece;
  auto raw_size = static_cast<uint32_t>(raw.size());
  if (compress && !raw.empty()) {
    piece.resize(header_size + static_cast<size_t>(LZ4_compressBound(static_cast<int>(raw.size()))));
    int c = LZ4_compress_default(raw.data(), piece.data() + header_size, static_cast<int>(raw.size()),
                                 static_cast<int>(piece.size() - header_size));
    if (c > 0 && static_cast<size_t>(c) < raw.size()) {
      piece.resize(header_size + static_cast<size_t>(c));
      piece.shrink_to_fit();
      piece[0] = static_cast<char>(codec_lz4);
    } else {
      piece.clear();
    }
  }
  if (piece.empty()) {
    piece.resize(header_size);
    piece[0] = static_cast<char>(codec_raw);
    piece.append(raw);
  }
  std::memcpy(piece.data() + 1, &raw_size, 4);
  return piece;
}

} // namespace

std::vector<std::string> cut_pieces(std::string_view serialized, size_t block_size, bool compress) {
  block_size = std::clamp<size_t>(block_size, 1, LZ4_MAX_INPUT_SIZE);
  size_t count = std::max<size_t>(1, (serialized.size() + block_size - 1) / block_size);
  std::vector<std::string> out(count);
  auto cut = [&](size_t first, size_t step) {
    for (size_t i = first; i < count; i += step)
      out[i] = make_piece(serialized.substr(std::min(i * block_size, serialized.size()), block_size), compress);
  };
  // Pieces compress independently: a large value uses a few cores (ctx.broadcast waits for it).
  size_t threads = compress && serialized.size() >= (16u << 20)
                     ? std::min<size_t>({count, 4, std::max(1u, std::thread::hardware_concurrency())})
                     : 1;
  std::vector<std::thread> helpers;
  for (size_t t = 1; t < threads; ++t)
    helpers.emplace_back(cut, t, threads);
  cut(0, threads);
  for (auto& h : helpers)
    h.join();
  return out;
}

broadcast_manifest manifest_of(uint64_t id, const std::vector<std::string>& pieces, uint64_t total_size) {
  broadcast_manifest m;
  m.id = id;
  m.total_size = total_size;
  for (auto& p : pieces)
    m.checksums.push_back(piece_checksum(p));
  return m;
}

void decode_piece(std::string_view piece, uint64_t id, uint32_t index, std::string& out) {
  auto bad = [&](const std::string& why) {
    return broadcast_error(name(id) + ": piece " + std::to_string(index) + " is malformed (" + why + ")");
  };
  if (piece.size() < header_size)
    throw bad("shorter than its header");
  uint32_t raw_size = 0;
  std::memcpy(&raw_size, piece.data() + 1, 4);
  auto data = piece.substr(header_size);
  if (static_cast<uint8_t>(piece[0]) == codec_raw) {
    if (data.size() != raw_size)
      throw bad("raw size " + std::to_string(data.size()) + ", header says " + std::to_string(raw_size));
    out.append(data);
    return;
  }
  if (static_cast<uint8_t>(piece[0]) != codec_lz4)
    throw bad("unknown codec " + std::to_string(static_cast<int>(piece[0])));
  if (raw_size > LZ4_MAX_INPUT_SIZE)
    throw bad("raw size " + std::to_string(raw_size) + " too large");
  size_t at = out.size();
  out.resize(at + raw_size);
  int n = LZ4_decompress_safe(data.data(), out.data() + at, static_cast<int>(data.size()), static_cast<int>(raw_size));
  if (n != static_cast<int>(raw_size)) {
    out.resize(at);
    throw bad("LZ4 data does not decompress to " + std::to_string(raw_size) + " bytes");
  }
}

std::string reassemble(const broadcast_manifest& m, const std::vector<std::string>& pieces) {
  return reassemble(m, std::vector<std::string_view>(pieces.begin(), pieces.end()));
}

std::string reassemble(const broadcast_manifest& m, const std::vector<std::string_view>& pieces) {
  if (pieces.size() != m.checksums.size())
    throw broadcast_error(name(m.id) + ": " + std::to_string(pieces.size()) + " pieces, the manifest has "
                          + std::to_string(m.checksums.size()));
  std::string out;
  out.reserve(m.total_size);
  for (uint32_t i = 0; i < pieces.size(); ++i) {
    if (piece_checksum(pieces[i]) != m.checksums[i])
      throw broadcast_error(name(m.id) + ": piece " + std::to_string(i) + " fails its checksum");
    decode_piece(pieces[i], m.id, i, out);
  }
  if (out.size() != m.total_size)
    throw broadcast_error(name(m.id) + ": reassembled " + std::to_string(out.size()) + " bytes, the manifest says "
                          + std::to_string(m.total_size));
  return out;
}

std::optional<std::string> too_large(uint64_t id, uint64_t size, uint64_t max_size) {
  if (size <= max_size)
    return std::nullopt;
  return name(id) + " is " + config::human_bytes(size) + " serialized, more than ember.broadcast.maxSize ("
         + config::human_bytes(max_size) + ")";
}

// -- broadcast_store ------------------------------------------------------------------------

void broadcast_store::add(const broadcast_manifest& m, std::vector<std::string> pieces,
                          std::shared_ptr<const void> value, std::string type) {
  auto s = std::make_shared<slot>();
  s->value = std::move(value);
  s->type = std::move(type);
  std::lock_guard guard{mtx_};
  manifests_[m.id] = m;
  for (uint32_t i = 0; i < pieces.size(); ++i)
    pieces_[{m.id, i}] = std::make_shared<const std::string>(std::move(pieces[i]));
  slots_[m.id] = std::move(s);
  destroyed_.erase(m.id);
}

std::optional<broadcast_manifest> broadcast_store::manifest(uint64_t id) const {
  std::lock_guard guard{mtx_};
  if (auto i = manifests_.find(id); i != manifests_.end())
    return i->second;
  return std::nullopt;
}

void broadcast_store::put_piece(uint64_t id, uint32_t piece, piece_ptr bytes) {
  std::lock_guard guard{mtx_};
  pieces_[{id, piece}] = std::move(bytes);
}

broadcast_store::piece_ptr broadcast_store::find_piece(uint64_t id, uint32_t piece) const {
  std::lock_guard guard{mtx_};
  if (auto i = pieces_.find({id, piece}); i != pieces_.end())
    return i->second;
  return nullptr;
}

size_t broadcast_store::pieces_held(uint64_t id) const {
  std::lock_guard guard{mtx_};
  auto b = pieces_.lower_bound({id, 0});
  auto e = pieces_.lower_bound({id + 1, 0});
  return static_cast<size_t>(std::distance(b, e));
}

void broadcast_store::drop(uint64_t id) {
  std::lock_guard guard{mtx_};
  pieces_.erase(pieces_.lower_bound({id, 0}), pieces_.lower_bound({id + 1, 0}));
  slots_.erase(id); // a fetch in progress finishes into the orphaned slot; the next use fetches again
}

void broadcast_store::destroy(uint64_t id) {
  std::lock_guard guard{mtx_};
  pieces_.erase(pieces_.lower_bound({id, 0}), pieces_.lower_bound({id + 1, 0}));
  slots_.erase(id);
  manifests_.erase(id);
  destroyed_.insert(id);
}

bool broadcast_store::destroyed(uint64_t id) const {
  std::lock_guard guard{mtx_};
  return destroyed_.contains(id);
}

std::shared_ptr<const void> broadcast_store::value(uint64_t id, const std::string& type, const fetch_fn& fetch) {
  std::shared_ptr<slot> s;
  {
    std::lock_guard guard{mtx_};
    if (destroyed_.contains(id))
      throw broadcast_error(name(id) + " was destroyed; it cannot be used any more");
    auto& p = slots_[id];
    if (!p)
      p = std::make_shared<slot>();
    s = p;
  }
  std::lock_guard fetching{s->fetching};
  if (!s->value) {
    s->value = fetch();
    s->type = type;
  } else if (!s->type.empty() && s->type != type) {
    throw broadcast_error(name(id) + " holds another type than the one asked for");
  }
  return s->value;
}

std::shared_ptr<const void> broadcast_store::held_value(uint64_t id) const {
  std::shared_ptr<slot> s;
  {
    std::lock_guard guard{mtx_};
    auto i = slots_.find(id);
    if (i == slots_.end())
      return nullptr;
    s = i->second;
  }
  std::unique_lock fetching{s->fetching, std::try_to_lock};
  return fetching ? s->value : nullptr;
}

broadcast_fetch_stats broadcast_store::stats(uint64_t id) const {
  std::lock_guard guard{mtx_};
  if (auto i = stats_.find(id); i != stats_.end())
    return i->second;
  return {};
}

void broadcast_store::count(uint64_t id, const broadcast_fetch_stats& d) {
  std::lock_guard guard{mtx_};
  auto& s = stats_[id];
  s.fetches += d.fetches;
  s.pieces_from_driver += d.pieces_from_driver;
  s.pieces_from_peers += d.pieces_from_peers;
  s.bad_peer_pieces += d.bad_peer_pieces;
}

// -- fetch ----------------------------------------------------------------------------------

std::string fetch_broadcast(uint64_t id, broadcast_transport& transport, broadcast_store& store,
                            const broadcast_settings& settings, std::mt19937_64& rng, broadcast_fetch_stats& stats) {
  auto m = transport.manifest(id);
  if (auto why = too_large(id, m.total_size, settings.max_size))
    throw broadcast_error(*why);
  std::vector<uint32_t> order(m.checksums.size());
  std::iota(order.begin(), order.end(), 0u);
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<broadcast_store::piece_ptr> held(m.checksums.size());
  for (uint32_t p : order) {
    std::string bytes;
    bool ok = false;
    if (auto have = store.find_piece(id, p); have && piece_checksum(*have) == m.checksums[p]) {
      held[p] = std::move(have); // kept from an earlier, interrupted fetch
      continue;
    }
    auto peers = transport.holders(id, p);
    if (!peers.empty()) {
      std::uniform_int_distribution<size_t> pick(0, peers.size() - 1);
      try {
        bytes = transport.fetch_piece(peers[pick(rng)], id, p);
        ok = piece_checksum(bytes) == m.checksums[p];
      } catch (const broadcast_error&) {
        ok = false;
      }
      if (ok)
        ++stats.pieces_from_peers;
      else
        ++stats.bad_peer_pieces;
    }
    if (!ok) {
      bytes = transport.fetch_piece(std::nullopt, id, p);
      if (piece_checksum(bytes) != m.checksums[p])
        throw broadcast_error(name(id) + ": piece " + std::to_string(p) + " from the driver fails its checksum");
      ++stats.pieces_from_driver;
    }
    auto shared = std::make_shared<const std::string>(std::move(bytes));
    store.put_piece(id, p, shared);
    transport.stored(id, p);
    held[p] = std::move(shared);
  }
  ++stats.fetches;
  std::vector<std::string_view> pieces;
  for (auto& h : held)
    pieces.emplace_back(*h);
  return reassemble(m, pieces);
}

} // namespace ember::storage
