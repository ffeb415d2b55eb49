// Broadcast variables below the actors (Spark's TorrentBroadcast): the driver cuts a value's
// serialized bytes into pieces; each process keeps the pieces it holds and the decoded values in
// a broadcast_store; an executor's task thread fetches a missing value once per process through a
// broadcast_transport (the actors' half, actors/broadcast_client.cpp) from the driver or from
// peers. No CAF here: the cutting, checking and fetch order are tested directly.
//
//   piece := codec:u8 (0 raw, 1 LZ4 block)  raw_size:u32 LE  data   checksum = xxh32(piece, 0)
#pragma once

#include <functional>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ember::storage {

// A broadcast that cannot be used: destroyed, unknown, too large, a piece that cannot be fetched.
// The message is one line naming the broadcast id.
class broadcast_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

struct broadcast_settings {
  size_t block_size = 4 << 20;          // ember.broadcast.blockSize: raw bytes per piece
  bool compress = true;                 // ember.broadcast.compress
  uint64_t max_size = 8ull << 30;       // ember.broadcast.maxSize: serialized bytes
};

struct broadcast_manifest {
  uint64_t id = 0;
  uint64_t total_size = 0;              // serialized (uncompressed) bytes of the value
  std::vector<uint32_t> checksums;      // one per piece
};

// -- pieces ------------------------------------------------------------------------------

uint32_t piece_checksum(std::string_view piece);

// Cuts `serialized` into pieces of at most block_size raw bytes (at least one piece, even for an
// empty value), LZ4-compressed when `compress` (a piece LZ4 cannot shrink stays raw).
std::vector<std::string> cut_pieces(std::string_view serialized, size_t block_size, bool compress);

broadcast_manifest manifest_of(uint64_t id, const std::vector<std::string>& pieces, uint64_t total_size);

// Appends piece `index`'s raw bytes to `out`; throws broadcast_error on a malformed piece.
void decode_piece(std::string_view piece, uint64_t id, uint32_t index, std::string& out);

// The serialized value from all its pieces: checks each against the manifest's checksum and the
// total size. Throws broadcast_error naming the broadcast and the bad piece.
std::string reassemble(const broadcast_manifest& m, const std::vector<std::string>& pieces);
std::string reassemble(const broadcast_manifest& m, const std::vector<std::string_view>& pieces);

// "broadcast 3 is 12.0 GiB, more than ember.broadcast.maxSize (8.0 GiB)" or nothing.
std::optional<std::string> too_large(uint64_t id, uint64_t size, uint64_t max_size);

// -- the per-process store ------------------------------------------------------------------

// How one executor got one broadcast (exposed to tasks through broadcast<T>::local_stats()).
struct broadcast_fetch_stats {
  uint64_t fetches = 0;            // whole-value fetches by this process (1 after first use)
  uint64_t pieces_from_driver = 0;
  uint64_t pieces_from_peers = 0;
  uint64_t bad_peer_pieces = 0;    // checksum mismatch or failure at a peer: refetched from the driver
};

// Pieces and decoded values held by one process. On the driver: every piece, the manifest and the
// original value of each live broadcast. On an executor: the pieces it fetched (served to peers by
// its block server) and the decoded values. Thread-safe: task threads, the block server and the
// broadcast actors use it concurrently.
class broadcast_store {
public:
  using piece_ptr = std::shared_ptr<const std::string>;

  // Driver: a new broadcast with its pieces and its original value.
  void add(const broadcast_manifest& m, std::vector<std::string> pieces, std::shared_ptr<const void> value,
           std::string type);
  std::optional<broadcast_manifest> manifest(uint64_t id) const;

  void put_piece(uint64_t id, uint32_t piece, piece_ptr bytes);
  piece_ptr find_piece(uint64_t id, uint32_t piece) const;
  size_t pieces_held(uint64_t id) const;

  // Executor: forget the pieces and the value (unpersist); the next use fetches again.
  void drop(uint64_t id);
  // Driver: forget everything and remember that `id` was destroyed (later uses fail clearly).
  void destroy(uint64_t id);
  bool destroyed(uint64_t id) const;

  // The value of `id`, fetched at most once by concurrent first users: `fetch` (called with no
  // lock of the store held, but with the broadcast's own slot locked) returns the decoded value.
  // Throws what fetch throws (the next use tries again), or broadcast_error when destroyed.
  using fetch_fn = std::function<std::shared_ptr<const void>()>;
  std::shared_ptr<const void> value(uint64_t id, const std::string& type, const fetch_fn& fetch);
  // The value if held, without fetching.
  std::shared_ptr<const void> held_value(uint64_t id) const;

  broadcast_fetch_stats stats(uint64_t id) const;
  void count(uint64_t id, const broadcast_fetch_stats& delta);

private:
  struct slot {
    std::mutex fetching; // held while one thread fetches; the others wait on it
    std::shared_ptr<const void> value;
    std::string type;
  };
  mutable std::mutex mtx_;
  std::map<std::pair<uint64_t, uint32_t>, piece_ptr> pieces_;
  std::map<uint64_t, broadcast_manifest> manifests_;
  std::map<uint64_t, std::shared_ptr<slot>> slots_;
  std::map<uint64_t, broadcast_fetch_stats> stats_;
  std::set<uint64_t> destroyed_;
};

// -- fetching on an executor ------------------------------------------------------------------

struct piece_holder {
  std::string executor_id;
  std::string host;
  uint16_t port = 0;
};

// What a fetch needs from the outside world (actors/broadcast_client.cpp over CAF; a fake in the
// unit tests). Every call runs on the fetching task thread and may block; failures throw
// broadcast_error.
class broadcast_transport {
public:
  virtual ~broadcast_transport() = default;
  virtual broadcast_manifest manifest(uint64_t id) = 0;
  // Peers (never this executor) that registered piece `piece` with the driver.
  virtual std::vector<piece_holder> holders(uint64_t id, uint32_t piece) = 0;
  // The piece's bytes from `from` (a peer), or from the driver when `from` is empty.
  virtual std::string fetch_piece(const std::optional<piece_holder>& from, uint64_t id, uint32_t piece) = 0;
  // This executor now holds the piece (it is in the store): tell the driver, so peers may ask here.
  virtual void stored(uint64_t id, uint32_t piece) = 0;
};

// Fetches broadcast `id`'s serialized bytes: the manifest from the driver, then every piece in
// random order from a random peer holding it or, when none does (or the peer's copy fails its
// checksum or cannot be fetched), from the driver. Each piece goes into `store` as it arrives and
// is announced through transport.stored. Adds to `stats`.
std::string fetch_broadcast(uint64_t id, broadcast_transport& transport, broadcast_store& store,
                            const broadcast_settings& settings, std::mt19937_64& rng, broadcast_fetch_stats& stats);

} // namespace ember::storage
