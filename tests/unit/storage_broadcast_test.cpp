// Broadcast pieces: cutting and reassembly, checksums, malformed and bad pieces, the fetch order
// (peers first, the driver when a peer's copy is bad) and the once-per-process value slot.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "storage/broadcast.hpp"

using namespace ember::storage;

namespace {

std::string pattern(size_t n, bool compressible) {
  std::string s(n, '\0');
  std::mt19937_64 rng{42};
  for (size_t i = 0; i < n; ++i)
    s[i] = compressible ? static_cast<char>('a' + (i / 7) % 5) : static_cast<char>(rng());
  return s;
}

// The driver's pieces and a set of peers, some of which hand out corrupt copies.
class fake_transport : public broadcast_transport {
public:
  fake_transport(broadcast_manifest m, std::vector<std::string> pieces) : m_(std::move(m)), pieces_(std::move(pieces)) {}
  broadcast_manifest manifest(uint64_t id) override {
    if (id != m_.id)
      throw broadcast_error("broadcast " + std::to_string(id) + " is unknown to the driver");
    return m_;
  }
  std::vector<piece_holder> holders(uint64_t, uint32_t piece) override {
    if (piece < peer_from)
      return {};
    return {{"peer", "10.0.0.9", 7}};
  }
  std::string fetch_piece(const std::optional<piece_holder>& from, uint64_t, uint32_t piece) override {
    if (!from) {
      ++from_driver;
      return pieces_.at(piece);
    }
    ++from_peer;
    if (peer_unreachable)
      throw broadcast_error("peer unreachable");
    auto bytes = pieces_.at(piece);
    if (corrupt_peer)
      bytes.back() ^= 1;
    return bytes;
  }
  void stored(uint64_t, uint32_t piece) override { announced.push_back(piece); }

  uint32_t peer_from = UINT32_MAX; // pieces >= this one are held by the peer
  bool corrupt_peer = false;
  bool peer_unreachable = false;
  int from_driver = 0, from_peer = 0;
  std::vector<uint32_t> announced;

private:
  broadcast_manifest m_;
  std::vector<std::string> pieces_;
};

} // namespace

TEST_CASE("pieces: cut at the block size, compressed when it helps, reassembled exactly") {
  for (bool compressible : {true, false})
    for (bool compress : {true, false}) {
      auto value = pattern(10'000, compressible);
      auto pieces = cut_pieces(value, 3'000, compress);
      REQUIRE(pieces.size() == 4);
      if (compress && compressible)
        CHECK(pieces[0].size() < 3'000);
      else
        CHECK(pieces[0].size() == 3'005); // header + raw bytes
      CHECK(pieces[3].size() <= 1'005);
      auto m = manifest_of(7, pieces, value.size());
      CHECK(m.checksums.size() == 4);
      CHECK(reassemble(m, pieces) == value);
    }
}

TEST_CASE("pieces: a large value is cut on several threads, pieces in order") {
  auto value = pattern(20u << 20, true);
  for (size_t i = 0; i < value.size(); i += 4096)
    value[i] = static_cast<char>(i >> 12); // pieces differ from each other
  auto pieces = cut_pieces(value, 1u << 20, true);
  REQUIRE(pieces.size() == 20);
  std::string second;
  decode_piece(pieces[1], 1, 1, second);
  CHECK(second == value.substr(1u << 20, 1u << 20));
  CHECK(reassemble(manifest_of(1, pieces, value.size()), pieces) == value);
}

TEST_CASE("pieces: an empty value is one empty piece") {
  auto pieces = cut_pieces("", 4096, true);
  REQUIRE(pieces.size() == 1);
  auto m = manifest_of(1, pieces, 0);
  CHECK(reassemble(m, pieces).empty());
}

TEST_CASE("pieces: a piece failing its checksum names the broadcast and the piece") {
  auto value = pattern(9'000, true);
  auto pieces = cut_pieces(value, 3'000, true);
  auto m = manifest_of(5, pieces, value.size());
  pieces[1][pieces[1].size() / 2] ^= 0x40;
  CHECK_THROWS_WITH_AS(reassemble(m, pieces), "broadcast 5: piece 1 fails its checksum", broadcast_error);
  pieces.pop_back();
  CHECK_THROWS_AS(reassemble(m, pieces), broadcast_error);
}

TEST_CASE("pieces: malformed pieces are refused, not decoded") {
  std::string out;
  CHECK_THROWS_AS(decode_piece("\x01\x02", 3, 0, out), broadcast_error);
  std::string bad_codec = std::string("\x07\x01\x00\x00\x00", 5) + "x";
  CHECK_THROWS_WITH_AS(decode_piece(bad_codec, 3, 2, out), "broadcast 3: piece 2 is malformed (unknown codec 7)",
                       broadcast_error);
  auto pieces = cut_pieces(pattern(4'000, true), 4'000, true);
  auto lying = pieces[0];
  lying[1] = static_cast<char>(lying[1] + 1); // raw size one more than the data decompresses to
  CHECK_THROWS_AS(decode_piece(lying, 3, 0, out), broadcast_error);
  CHECK(out.empty());
}

TEST_CASE("too large: one line with both sizes") {
  CHECK_FALSE(too_large(1, 100, 100));
  CHECK(too_large(4, 3ull << 30, 1ull << 30).value()
        == "broadcast 4 is 3.0 GiB serialized, more than ember.broadcast.maxSize (1.0 GiB)");
}

TEST_CASE("fetch: every piece from the driver when no peer holds one; each is stored and announced") {
  auto value = pattern(20'000, false);
  auto pieces = cut_pieces(value, 4'000, true);
  fake_transport t{manifest_of(9, pieces, value.size()), pieces};
  broadcast_store store;
  broadcast_fetch_stats stats;
  std::mt19937_64 rng{1};
  CHECK(fetch_broadcast(9, t, store, {}, rng, stats) == value);
  CHECK(stats.fetches == 1);
  CHECK(stats.pieces_from_driver == 5);
  CHECK(stats.pieces_from_peers == 0);
  CHECK(t.announced.size() == 5);
  CHECK(store.pieces_held(9) == 5);
  CHECK(*store.find_piece(9, 3) == pieces[3]);
}

TEST_CASE("fetch: pieces a peer holds come from the peer") {
  auto value = pattern(20'000, true);
  auto pieces = cut_pieces(value, 4'000, true);
  fake_transport t{manifest_of(9, pieces, value.size()), pieces};
  t.peer_from = 2; // pieces 2, 3, 4
  broadcast_store store;
  broadcast_fetch_stats stats;
  std::mt19937_64 rng{2};
  CHECK(fetch_broadcast(9, t, store, {}, rng, stats) == value);
  CHECK(stats.pieces_from_peers == 3);
  CHECK(stats.pieces_from_driver == 2);
  CHECK(stats.bad_peer_pieces == 0);
}

TEST_CASE("fetch: a bad piece from a peer is fetched again from the driver") {
  auto value = pattern(20'000, true);
  auto pieces = cut_pieces(value, 4'000, true);
  for (bool unreachable : {false, true}) {
    fake_transport t{manifest_of(9, pieces, value.size()), pieces};
    t.peer_from = 0;
    t.corrupt_peer = !unreachable;
    t.peer_unreachable = unreachable;
    broadcast_store store;
    broadcast_fetch_stats stats;
    std::mt19937_64 rng{3};
    CHECK(fetch_broadcast(9, t, store, {}, rng, stats) == value);
    CHECK(stats.bad_peer_pieces == 5);
    CHECK(stats.pieces_from_driver == 5);
    CHECK(stats.pieces_from_peers == 0);
    CHECK(t.from_peer == 5);
  }
}

TEST_CASE("fetch: too large for this executor, or unknown to the driver, fails with one line") {
  auto value = pattern(5'000, false);
  auto pieces = cut_pieces(value, 4'000, false);
  fake_transport t{manifest_of(9, pieces, value.size()), pieces};
  broadcast_store store;
  broadcast_fetch_stats stats;
  std::mt19937_64 rng{4};
  broadcast_settings small;
  small.max_size = 1'000;
  CHECK_THROWS_WITH_AS(fetch_broadcast(9, t, store, small, rng, stats),
                       "broadcast 9 is 4.9 KiB serialized, more than ember.broadcast.maxSize (1000 B)", broadcast_error);
  CHECK(t.from_driver == 0);
  CHECK_THROWS_WITH_AS(fetch_broadcast(8, t, store, {}, rng, stats), "broadcast 8 is unknown to the driver",
                       broadcast_error);
}

TEST_CASE("store: concurrent first uses fetch once; drop fetches again; destroy fails clearly") {
  broadcast_store store;
  std::atomic<int> fetches{0};
  auto fetch = [&] {
    ++fetches;
    std::this_thread::yield();
    return std::shared_ptr<const void>(std::make_shared<const int>(41 + fetches.load()));
  };
  std::vector<std::thread> threads;
  std::atomic<int> sum{0};
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&] { sum += *static_cast<const int*>(store.value(3, "i", fetch).get()); });
  for (auto& t : threads)
    t.join();
  CHECK(fetches == 1);
  CHECK(sum == 8 * 42);
  CHECK(store.held_value(3) != nullptr);
  store.drop(3);
  CHECK(store.held_value(3) == nullptr);
  CHECK(*static_cast<const int*>(store.value(3, "i", fetch).get()) == 43);
  CHECK(fetches == 2);
  CHECK_THROWS_AS(store.value(3, "other type", fetch), broadcast_error);
  store.destroy(3);
  CHECK(store.destroyed(3));
  CHECK_THROWS_WITH_AS(store.value(3, "i", fetch), "broadcast 3 was destroyed; it cannot be used any more",
                       broadcast_error);
  CHECK(fetches == 2);
}

TEST_CASE("store: a failed fetch leaves the slot empty for the next use") {
  broadcast_store store;
  int calls = 0;
  auto failing = [&]() -> std::shared_ptr<const void> {
    ++calls;
    throw broadcast_error("broadcast 2: piece 0 cannot be fetched");
  };
  CHECK_THROWS_AS(store.value(2, "i", failing), broadcast_error);
  auto ok = [&] {
    ++calls;
    return std::shared_ptr<const void>(std::make_shared<const int>(5));
  };
  CHECK(*static_cast<const int*>(store.value(2, "i", ok).get()) == 5);
  CHECK(calls == 2);
}
