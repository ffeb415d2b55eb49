// Reduce side (shuffle/external.hpp): aggregation and sorting with tiny memory limits (recursive
// grace hashing, many runs, pre-merges) must equal std::map / std::stable_sort on the same data,
// fail clearly when one key cannot fit, and never leave spill files behind.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <random>

#include "shuffle/external.hpp"
#include "tests/support/files.hpp"
#include "tests/support/temp_dir.hpp"

using namespace ember;
using namespace ember::shuffle;
using ember_test::temp_dir;

namespace {

struct add_u64 {
  void operator()(uint64_t& acc, uint64_t&& v) const { acc += v; }
};
struct append {
  void operator()(std::vector<int32_t>& acc, std::vector<int32_t>&& v) const {
    acc.insert(acc.end(), v.begin(), v.end());
  }
};
struct by_first {
  template <class P> bool operator()(const P& a, const P& b) const { return a.first < b.first; }
};

external_options tiny(const temp_dir& d, size_t limit) {
  external_options o;
  o.spill_dir = d.path.string();
  o.memory_limit = limit;
  o.block_size = 1024;
  o.num_buckets = 4;
  o.max_merge_width = 4;
  return o;
}

} // namespace

TEST_CASE("external_aggregator recursing through several levels equals std::map") {
  temp_dir spill;
  std::mt19937_64 rng(1);
  std::map<uint64_t, uint64_t> ref;
  external_aggregator<uint64_t, uint64_t, add_u64> agg(tiny(spill, 16 << 10));
  for (int i = 0; i < 200000; ++i) {
    uint64_t k = rng() % 30000, v = rng() % 1000;
    ref[k] += v;
    agg.insert(k, uint64_t{v});
  }
  CHECK(agg.metrics().spill_count > 3);
  std::map<uint64_t, uint64_t> got;
  size_t calls = 0;
  agg.for_each([&](const uint64_t& k, uint64_t& v) {
    ++calls;
    CHECK(got.emplace(k, v).second); // each key exactly once
  });
  CHECK(calls == ref.size());
  CHECK(got == ref);
  CHECK(agg.metrics().max_depth >= 2); // 30000 keys * ~24 bytes cannot fit in 16 KiB / 4 buckets
  CHECK(agg.metrics().records_spilled > 30000);
  CHECK(spill.entries() == 0);
}

TEST_CASE("external_aggregator without spilling, and group_by_key with vector values") {
  temp_dir spill;
  external_aggregator<std::string, uint64_t, add_u64> small(tiny(spill, 1 << 20));
  small.insert(std::string_view("a"), uint64_t{1});
  small.insert(std::string("b"), uint64_t{2});
  small.insert(std::string_view("a"), uint64_t{3});
  std::map<std::string, uint64_t> got;
  small.for_each([&](const std::string& k, uint64_t& v) { got[k] = v; });
  CHECK(got == std::map<std::string, uint64_t>{{"a", 4}, {"b", 2}});
  CHECK(small.metrics().spill_count == 0);

  std::map<std::string, std::vector<int32_t>> ref;
  external_aggregator<std::string, std::vector<int32_t>, append> groups(tiny(spill, 8 << 10));
  std::mt19937_64 rng(2);
  for (int32_t i = 0; i < 20000; ++i) {
    std::string k = "key-" + std::to_string(rng() % 700);
    ref[k].push_back(i);
    groups.insert(std::string(k), std::vector<int32_t>{i});
  }
  CHECK(groups.metrics().spill_count > 0);
  std::map<std::string, std::vector<int32_t>> got_groups;
  groups.for_each([&](const std::string& k, std::vector<int32_t>& v) {
    std::sort(v.begin(), v.end()); // group order across spills is not specified
    got_groups[k] = std::move(v);
  });
  CHECK(got_groups == ref);
  CHECK(spill.entries() == 0);
}

TEST_CASE("external_aggregator: one key too large, or too deep, fails clearly and cleans up") {
  temp_dir spill;
  {
    external_aggregator<std::string, std::vector<int32_t>, append> agg(tiny(spill, 4096));
    std::string msg;
    try {
      for (int32_t i = 0; i < 10000; ++i)
        agg.insert(std::string("hot"), std::vector<int32_t>{i});
    } catch (const std::runtime_error& e) {
      msg = e.what();
    }
    CHECK(msg.find("the aggregate of a single key needs") != std::string::npos);
  }
  CHECK(spill.entries() == 0);
  {
    auto o = tiny(spill, 4096);
    o.max_depth = 1;
    external_aggregator<uint64_t, uint64_t, add_u64> agg(o);
    for (uint64_t i = 0; i < 100000; ++i)
      agg.insert(i, uint64_t{1});
    CHECK(spill.entries() > 0);
    std::string msg;
    try {
      agg.for_each([](const uint64_t&, uint64_t&) {});
    } catch (const std::runtime_error& e) {
      msg = e.what();
    }
    CHECK(msg.find("after 1 levels of re-partitioning") != std::string::npos);
  }
  CHECK(spill.entries() == 0);
}

TEST_CASE("external_sorter with many runs equals std::stable_sort (ties in insertion order)") {
  temp_dir spill;
  using rec = std::pair<uint64_t, uint64_t>; // (key, insertion index)
  std::mt19937_64 rng(3);
  std::vector<rec> ref;
  external_sorter<rec, by_first> sorter(tiny(spill, 4096));
  for (uint64_t i = 0; i < 50000; ++i) {
    rec r{rng() % 5000, i};
    ref.push_back(r);
    sorter.add(rec(r));
  }
  CHECK(sorter.run_count() > 4); // more than max_merge_width: pre-merges happen
  std::stable_sort(ref.begin(), ref.end(), by_first{});
  std::vector<rec> got;
  got.reserve(ref.size());
  sorter.for_each([&](rec&& r) { got.push_back(r); });
  CHECK(got == ref);
  CHECK(sorter.metrics().records_spilled > 40000);
  CHECK(spill.entries() == 0);
}

TEST_CASE("external_sorter of strings, in memory and spilled") {
  for (size_t limit : {size_t{1} << 30, size_t{2048}}) {
    temp_dir spill;
    std::mt19937_64 rng(4);
    std::vector<std::string> ref;
    external_sorter<std::string> sorter(tiny(spill, limit));
    for (int i = 0; i < 10000; ++i) {
      std::string s(rng() % 40, 'a');
      for (auto& c : s)
        c = static_cast<char>('a' + rng() % 26);
      ref.push_back(s);
      sorter.add(s);
    }
    std::sort(ref.begin(), ref.end());
    std::vector<std::string> got;
    sorter.for_each([&](std::string&& s) { got.push_back(std::move(s)); });
    CHECK(got == ref);
    CHECK((sorter.metrics().spill_count > 0) == (limit == 2048));
    CHECK(spill.entries() == 0);
  }
}

TEST_CASE("an exception in the consumer still removes every run file") {
  temp_dir spill;
  {
    external_sorter<uint64_t> sorter(tiny(spill, 1024));
    for (uint64_t i = 0; i < 20000; ++i)
      sorter.add(uint64_t{20000 - i});
    CHECK(spill.entries() > 0);
    uint64_t seen = 0;
    CHECK_THROWS_AS(sorter.for_each([&](uint64_t&& v) {
      CHECK(v == seen + 1);
      if (++seen == 500)
        throw std::runtime_error("consumer failed");
    }),
                    std::runtime_error);
  }
  CHECK(spill.entries() == 0);
}
