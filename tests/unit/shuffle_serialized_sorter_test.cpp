// serialized_sorter (shuffle/serialized_sorter.hpp): sorting serialized (K, V) blocks by prefix
// entries must equal std::stable_sort by key (ascending and descending, equal keys in insertion
// order) for every supported key kind, in memory and with spilled runs; sort_key prefixes agree
// with operator< (signed chars, strings sharing 8-byte prefixes, negative integers).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "shuffle/serialized_sorter.hpp"
#include "tests/support/files.hpp"
#include "tests/support/temp_dir.hpp"

using namespace ember;
using namespace ember::shuffle;
using ember_test::temp_dir;

namespace {

external_options opts(const temp_dir& d, size_t limit) {
  external_options o;
  o.spill_dir = d.path.string();
  o.memory_limit = limit;
  o.block_size = 1024;
  o.max_merge_width = 3;
  return o;
}

// Feeds recs in blocks of `per_block` records, returns what for_each emits.
template <class K, class V>
std::vector<std::pair<K, V>> run_sorter(serialized_sorter<K, V>& s, const std::vector<std::pair<K, V>>& recs,
                                        size_t per_block) {
  byte_writer w;
  for (size_t i = 0; i < recs.size(); ++i) {
    serialize(w, recs[i]);
    if ((i + 1) % per_block == 0 || i + 1 == recs.size()) {
      s.add_block(w.view());
      w.clear();
    }
  }
  std::vector<std::pair<K, V>> out;
  s.for_each([&](std::pair<K, V>&& kv) { out.push_back(std::move(kv)); });
  return out;
}

template <class K, class V>
std::vector<std::pair<K, V>> expected(std::vector<std::pair<K, V>> recs, bool ascending) {
  std::stable_sort(recs.begin(), recs.end(), [&](const auto& a, const auto& b) {
    return ascending ? a.first < b.first : b.first < a.first;
  });
  return recs;
}

template <class K, class V>
void check_all_ways(const std::vector<std::pair<K, V>>& recs) {
  temp_dir spill;
  for (bool asc : {true, false})
    for (size_t limit : {size_t{64} << 20, size_t{2048}}) {
      CAPTURE(asc);
      CAPTURE(limit);
      serialized_sorter<K, V> s(opts(spill, limit), asc);
      auto got = run_sorter(s, recs, 7);
      CHECK(s.records_added() == recs.size());
      CHECK(got == expected(recs, asc));
      if (limit == 2048 && !recs.empty())
        CHECK(s.metrics().spill_count > 0);
      else
        CHECK(s.metrics().spill_count == 0);
      CHECK(spill.entries() == 0);
    }
}

} // namespace

TEST_CASE("sort_key prefixes agree with operator<") {
  auto pre = [](const auto& k) {
    byte_writer w;
    serialize(w, k);
    byte_reader r{w.view()};
    return sort_key<std::decay_t<decltype(k)>>::prefix(r);
  };
  // char is signed here: '\x90' < 'a' for std::array<char, N>, but not for unsigned char.
  CHECK(pre(std::array<char, 3>{'\x90', 0, 0}) < pre(std::array<char, 3>{'a', 0, 0}));
  CHECK(pre(std::array<unsigned char, 3>{0x90, 0, 0}) > pre(std::array<unsigned char, 3>{'a', 0, 0}));
  // std::string compares bytes as unsigned char; shorter sorts first on a shared prefix.
  CHECK(pre(std::string("\x90")) > pre(std::string("a")));
  CHECK(pre(std::string("ab")) < pre(std::string("abc")));
  CHECK(pre(std::string("abcdefgh1")) == pre(std::string("abcdefgh2")));
  CHECK(pre(int64_t{-5}) < pre(int64_t{3}));
  CHECK(pre(int32_t{-7}) < pre(int32_t{-6}));
  CHECK(pre(uint64_t{1} << 40) > pre(uint64_t{7}));
}

TEST_CASE("serialized_sorter: 10-byte char keys with string payloads, ties and shared prefixes") {
  std::mt19937_64 rng(42);
  std::vector<std::pair<std::array<char, 10>, std::string>> recs;
  for (int i = 0; i < 3000; ++i) { // over 1024: the radix sort path
    std::array<char, 10> k{};
    for (auto& c : k)
      c = static_cast<char>(rng() % 4 == 0 ? 0x80 + rng() % 3 : 'A' + rng() % 3); // many ties, negative chars
    if (i % 5 == 0)
      std::fill(k.begin(), k.begin() + 8, 'Z'); // equal 8-byte prefixes, differing tails
    recs.emplace_back(k, "payload " + std::to_string(i));
  }
  check_all_ways(recs);
}

TEST_CASE("serialized_sorter: string keys, integer keys, empty input") {
  std::mt19937_64 rng(7);
  std::vector<std::pair<std::string, int32_t>> by_string;
  for (int i = 0; i < 2500; ++i) {
    std::string k = "prefix__" + std::string(rng() % 3, static_cast<char>('a' + rng() % 3));
    if (i % 4 == 0)
      k = std::string(1, static_cast<char>(rng() % 256));
    by_string.emplace_back(k, i);
  }
  check_all_ways(by_string);

  std::vector<std::pair<int64_t, std::vector<uint64_t>>> by_int;
  for (int i = 0; i < 2500; ++i)
    by_int.emplace_back(static_cast<int64_t>(rng() % 41) - 20, std::vector<uint64_t>(rng() % 3, static_cast<uint64_t>(i)));
  check_all_ways(by_int);

  check_all_ways(std::vector<std::pair<uint32_t, std::string>>{});
}

TEST_CASE("serialized_sorter: a truncated block is a serde_error") {
  temp_dir spill;
  serialized_sorter<std::array<char, 10>, std::string> s(opts(spill, 1 << 20), true);
  byte_writer w;
  serialize(w, std::pair<std::array<char, 10>, std::string>{{}, "abcdef"});
  CHECK_THROWS_AS(s.add_block(w.view().substr(0, w.size() - 2)), serde_error);
}

TEST_CASE("sort_arena: a released arena is the thread's next sort's, a huge one is freed") {
  { sort_arena drained = sort_arena::take_spare(); } // whatever earlier tests left: freed
  sort_arena a;
  std::memcpy(a.extend(5), "hello", 5);
  const char* mem = a.data();
  a.release();
  CHECK(a.data() == nullptr);
  CHECK(a.size() == 0);
  sort_arena b = sort_arena::take_spare();
  CHECK(b.data() == mem); // the same mapping, no fresh pages
  CHECK(b.size() == 0);
  CHECK(sort_arena::take_spare().data() == nullptr); // only one spare, and b holds it
  b.release();
  sort_arena big;
  big.reserve(sort_arena::max_spare + 1); // address space only: never touched
  big.release();
  sort_arena c = sort_arena::take_spare();
  CHECK(c.data() == mem); // the big one was not kept in place of b's
  sort_arena none = sort_arena::take_spare();
  CHECK(none.data() == nullptr);
}
