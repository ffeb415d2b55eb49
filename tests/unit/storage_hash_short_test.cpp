// storage/hash.hpp hashes up to 16 bytes without a branch on the length, by masking two 8-byte
// loads of a buffer with 16 readable bytes. The value must depend on the bytes and the length
// only: whatever lies past the end, whichever string type holds them (the map-side combine
// hashes a std::string, lookups hash string_views and short copies), at every length.
#include <doctest/doctest.h>

#include <cstring>
#include <set>
#include <string>

#include "storage/hash.hpp"

TEST_CASE("short strings hash by their bytes and length only, at every length from 0 to 40") {
  std::string s;
  std::set<uint64_t> seen;
  for (size_t n = 0; n <= 40; ++n) {
    CAPTURE(n);
    for (uint64_t seed : {uint64_t{0}, uint64_t{1}, uint64_t{7}, uint64_t{0x9e3779b97f4a7c15}}) {
      uint64_t h = ember::stable_hash(s, seed);
      CHECK(ember::stable_hash(std::string_view(s), seed) == h);
      CHECK(ember::stable_hash(s.c_str(), seed) == h);
      std::string heap = s;
      heap.reserve(100); // the same bytes in a heap buffer instead of the small-string buffer
      CHECK(ember::stable_hash(heap, seed) == h);
      if (n <= 16) {
        char garbage[16], zeros[16] = {};
        std::memset(garbage, 0xA5, sizeof garbage);
        std::memcpy(garbage, s.data(), n);
        std::memcpy(zeros, s.data(), n);
        CHECK(ember::detail::hash_short16(garbage, n, seed) == h);
        CHECK(ember::detail::hash_short16(zeros, n, seed) == h);
      } else {
        CHECK(h == XXH3_64bits_withSeed(s.data(), s.size(), seed));
      }
      seen.insert(h);
    }
    s.push_back(static_cast<char>(n * 37 % 251 + 1)); // every byte value but 0 over the lengths
  }
  CHECK(seen.size() == 41 * 4); // lengths and seeds all differ
  // A trailing zero byte is part of the key: the length is hashed, not just the masked bytes.
  CHECK(ember::stable_hash(std::string("ab")) != ember::stable_hash(std::string("ab\0", 3)));
  CHECK(ember::stable_hash(std::string("")) != ember::stable_hash(std::string("\0", 1)));
}
