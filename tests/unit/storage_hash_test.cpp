// stable_hash (storage/hash.hpp): determinism, equal hashes for equal values across string
// types, even spread of consecutive ints under `% n`, independence of seeds, user types.
#include <doctest/doctest.h>

#include <cmath>
#include <set>
#include <unordered_map>

#include "storage/hash.hpp"

namespace geo {
struct cell {
  int32_t row = 0;
  int32_t col = 0;
  std::string tag;
};
template <class Inspector>
auto inspect(Inspector& f, cell& c) {
  return f(c.row, c.col, c.tag);
}
} // namespace geo

namespace {

// Pearson chi-square statistic of bucket counts against a uniform expectation.
double chi_square(const std::vector<uint64_t>& counts, double total) {
  double expected = total / static_cast<double>(counts.size());
  double chi = 0;
  for (uint64_t c : counts)
    chi += (static_cast<double>(c) - expected) * (static_cast<double>(c) - expected) / expected;
  return chi;
}

// df + 6 standard deviations: a correct mixer stays far below, a weak one (identity,
// multiplicative hash with n a power of two) goes far above.
double bound(size_t buckets) {
  double df = static_cast<double>(buckets - 1);
  return df + 6 * std::sqrt(2 * df);
}

} // namespace

TEST_CASE("strings hash alike across string types; long ones with XXH3") {
  std::string s = "hello world";
  CHECK(ember::stable_hash(s) == ember::stable_hash(std::string_view(s)));
  CHECK(ember::stable_hash(s) == ember::stable_hash("hello world"));
  CHECK(ember::stable_hash(s) != ember::stable_hash(s, 7));
  CHECK(ember::stable_hash(std::string("a")) != ember::stable_hash(std::string("b")));
  std::string long_s = "a string of more than sixteen bytes";
  CHECK(ember::stable_hash(long_s) == XXH3_64bits_withSeed(long_s.data(), long_s.size(), 0));
  CHECK(ember::stable_hash(long_s, 7) == XXH3_64bits_withSeed(long_s.data(), long_s.size(), 7));
  // Fixed values: a change of the function re-partitions shuffle data, so it must be deliberate
  // (all processes of one application run the same binary, so any one function is consistent).
  CHECK(ember::stable_hash(std::string("")) == ember::stable_hash(std::string_view("")));
  CHECK(ember::stable_hash(std::string("word")) == 14149410573318120476ULL);
}

TEST_CASE("integer hashes are deterministic, width-independent and distinct") {
  // Fixed values: a change of the function would re-partition existing shuffle data silently.
  CHECK(ember::stable_hash(uint64_t{0}) == ember::detail::mix64(0));
  CHECK(ember::stable_hash(int32_t{-1}) == ember::stable_hash(int64_t{-1}));
  CHECK(ember::stable_hash(uint16_t{77}) == ember::stable_hash(uint64_t{77}));
  std::set<uint64_t> seen;
  for (uint64_t i = 0; i < 100000; ++i)
    seen.insert(ember::stable_hash(i));
  CHECK(seen.size() == 100000);
  CHECK(ember::stable_hash(0.0) == ember::stable_hash(-0.0));
  CHECK(ember::stable_hash(1.0) != ember::stable_hash(2.0));
}

TEST_CASE("consecutive ints spread evenly under hash % n") {
  for (size_t n : {2, 3, 7, 16, 64, 200, 1024}) {
    const uint64_t total = 200000;
    std::vector<uint64_t> counts(n, 0);
    for (uint64_t i = 0; i < total; ++i)
      ++counts[ember::stable_hash(i) % n];
    INFO("n = " << n);
    CHECK(chi_square(counts, total) < bound(n));
    std::vector<uint64_t> scounts(n, 0);
    for (int64_t i = -100000; i < 100000; ++i)
      ++scounts[ember::stable_hash(static_cast<int32_t>(i)) % n];
    CHECK(chi_square(scounts, total) < bound(n));
  }
}

TEST_CASE("short numbered strings spread evenly too") {
  const size_t n = 64;
  std::vector<uint64_t> counts(n, 0);
  for (int i = 0; i < 100000; ++i)
    ++counts[ember::stable_hash("word" + std::to_string(i)) % n];
  CHECK(chi_square(counts, 100000) < bound(n));
}

TEST_CASE("short strings spread evenly in the bits the hash table and tags use") {
  // hash_map takes its home slot from bits 33.. and its tag from bits 32..63; partitions use the
  // low bits. Distinct words of every length from 3 to 16 bytes (base-26 numerals, so they
  // differ in few bits), so each of the masked loads is exercised.
  for (int shift : {0, 33, 40, 56}) {
    const size_t n = 256;
    std::vector<uint64_t> counts(n, 0);
    uint64_t total = 0;
    for (size_t len = 3; len <= 16; ++len)
      for (uint64_t i = 0; i < 8000; ++i, ++total) {
        std::string w(len, 'a');
        for (uint64_t v = i, k = 0; v > 0; v /= 26, ++k)
          w[len - 1 - k] = static_cast<char>('a' + v % 26);
        ++counts[(ember::stable_hash(w) >> shift) % n];
      }
    INFO("shift = " << shift);
    CHECK(chi_square(counts, static_cast<double>(total)) < bound(n));
  }
}

TEST_CASE("a different seed is an independent hash (grace-hash buckets within a partition)") {
  // Keys of one reduce partition (hash % 16 == 3) must still spread over spill buckets.
  const size_t n = 16;
  std::vector<uint64_t> buckets(n, 0);
  uint64_t total = 0;
  for (uint64_t i = 0; total < 50000; ++i) {
    if (ember::stable_hash(i) % n != 3)
      continue;
    ++total;
    ++buckets[ember::stable_hash(i, 1) % n];
  }
  CHECK(chi_square(buckets, static_cast<double>(total)) < bound(n));
  CHECK(ember::stable_hash(uint64_t{5}, 1) != ember::stable_hash(uint64_t{5}, 2));
}

TEST_CASE("composite and user types combine their parts in order") {
  CHECK(ember::stable_hash(std::pair{1, 2}) == ember::stable_hash(std::pair{1, 2}));
  CHECK(ember::stable_hash(std::pair{1, 2}) != ember::stable_hash(std::pair{2, 1}));
  CHECK(ember::stable_hash(std::tuple{std::string("a"), 1}) != ember::stable_hash(std::tuple{std::string("a"), 2}));
  CHECK(ember::stable_hash(std::vector<int>{1, 2, 3}) != ember::stable_hash(std::vector<int>{1, 2}));
  geo::cell a{1, 2, "x"}, b{1, 2, "x"}, c{2, 1, "x"};
  CHECK(ember::stable_hash(a) == ember::stable_hash(b));
  CHECK(ember::stable_hash(a) != ember::stable_hash(c));
  CHECK(ember::stable_hash(std::optional<int>{}) != ember::stable_hash(std::optional<int>{0}));
  // unordered_map: independent of insertion history
  std::unordered_map<int, int> m1, m2;
  for (int i = 0; i < 100; ++i)
    m1[i] = i * 3;
  for (int i = 99; i >= 0; --i)
    m2[i] = i * 3;
  m2.rehash(1000);
  CHECK(ember::stable_hash(m1) == ember::stable_hash(m2));
  ember::stable_hasher h{};
  CHECK(h(std::string("k")) == ember::stable_hash(std::string_view("k")));
}
