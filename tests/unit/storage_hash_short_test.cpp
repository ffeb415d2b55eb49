// storage/hash.hpp hashes byte ranges of up to 16 bytes through XXH3's short-input step directly:
// the values must equal XXH3_64bits_withSeed's for every length around the 16-byte switch and
// for any seed, as the shuffle's partitioning across processes depends on them.
#include <doctest/doctest.h>

#include <string>

#include "storage/hash.hpp"

TEST_CASE("stable_hash of strings equals XXH3_64bits_withSeed at every length from 0 to 80") {
  std::string s;
  for (size_t n = 0; n <= 80; ++n) {
    CAPTURE(n);
    for (uint64_t seed : {uint64_t{0}, uint64_t{1}, uint64_t{7}, uint64_t{0x9e3779b97f4a7c15}}) {
      CHECK(ember::stable_hash(s, seed) == XXH3_64bits_withSeed(s.data(), s.size(), seed));
      CHECK(ember::stable_hash(std::string_view(s), seed) == XXH3_64bits_withSeed(s.data(), s.size(), seed));
    }
    s.push_back(static_cast<char>(n * 37 % 251 + 1)); // every byte value but 0 over the lengths
  }
  CHECK(ember::stable_hash(std::string("a")) != ember::stable_hash(std::string("b")));
  CHECK(ember::stable_hash(std::string("")) == XXH3_64bits_withSeed("", 0, 0));
}
