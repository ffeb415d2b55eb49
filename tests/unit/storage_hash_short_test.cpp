// storage/hash.hpp hashes up to 16 bytes by reading two words at the ends of the range (or three
// bytes). The value must depend on the bytes and the length only: not on what lies around them,
// nor on which string type holds them (the map-side combine hashes a std::string, lookups hash
// string_views and short copies), at every length.
#include <doctest/doctest.h>

#include <cstring>
#include <set>
#include <string>

#include "storage/hash.hpp"

TEST_CASE("strings hash by their bytes and length only, at every length from 0 to 40") {
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
      // The same bytes inside a larger buffer, with other bytes before and after them.
      char framed[64];
      std::memset(framed, 0xA5, sizeof framed);
      std::memcpy(framed + 7, s.data(), n);
      CHECK(ember::detail::hash_bytes(framed + 7, n, seed) == h);
      if (n > 16)
        CHECK(h == XXH3_64bits_withSeed(s.data(), s.size(), seed));
      seen.insert(h);
    }
    s.push_back(static_cast<char>(n * 37 % 251 + 1)); // every byte value but 0 over the lengths
  }
  CHECK(seen.size() == 41 * 4); // lengths and seeds all differ
  // A trailing zero byte is part of the key: the length is hashed, not just the bytes read.
  CHECK(ember::stable_hash(std::string("ab")) != ember::stable_hash(std::string("ab\0", 3)));
  CHECK(ember::stable_hash(std::string("")) != ember::stable_hash(std::string("\0", 1)));
}

TEST_CASE("every byte of a short string counts") {
  // The words read at both ends overlap or meet: changing any one byte changes the hash.
  for (size_t n = 1; n <= 16; ++n)
    for (size_t i = 0; i < n; ++i) {
      std::string a(n, 'q'), b = a;
      b[i] = 'r';
      CAPTURE(n);
      CAPTURE(i);
      CHECK(ember::stable_hash(a) != ember::stable_hash(b));
    }
}
