// cache()/persist()/unpersist() through the real local runtime: a second action over a cached
// dataset does not recompute it (exact counts of the map function's calls in this process), every
// storage level gives the reference answer, unpersist recomputes, and a small storage budget
// evicts (MEMORY_ONLY recomputes what was dropped, MEMORY_AND_DISK reads what was spilled).
#include <doctest/doctest.h>

#include <atomic>
#include <numeric>
#include <vector>

#include "api/ember.hpp"
#include "tests/integration/engine_test_util.hpp"

using ember_test::make_context;

namespace {

std::atomic<int64_t> calls{0}; // the map function's calls in this (local-mode) process

std::vector<int64_t> squares(int64_t n) {
  std::vector<int64_t> out;
  for (int64_t i = 0; i < n; ++i)
    out.push_back(i * i - 7);
  return out;
}

const ember::storage_level all_levels[] = {
  ember::storage_level::memory_only,         ember::storage_level::memory_only_2,
  ember::storage_level::memory_only_ser,     ember::storage_level::memory_only_ser_2,
  ember::storage_level::memory_and_disk,     ember::storage_level::memory_and_disk_2,
  ember::storage_level::memory_and_disk_ser, ember::storage_level::memory_and_disk_ser_2,
  ember::storage_level::disk_only,           ember::storage_level::disk_only_2,
};

} // namespace

TEST_CASE("a second action over a cached dataset reads the cached blocks, at every storage level") {
  auto ctx = make_context("local[2]");
  std::vector<int64_t> xs(1000);
  std::iota(xs.begin(), xs.end(), 0);
  auto reference = squares(1000);
  for (auto level : all_levels) {
    CAPTURE(level.name());
    calls = 0;
    auto ds = ctx.parallelize(xs, 4).map([](int64_t x) {
      calls.fetch_add(1);
      return x * x - 7;
    });
    ds.persist(level);
    CHECK(ds.storage() == level);
    CHECK(ds.count() == 1000);
    CHECK(calls.load() == 1000);
    CHECK(ds.collect() == reference);
    CHECK(calls.load() == 1000); // from the block manager, not recomputed
    CHECK(ds.reduce([](int64_t a, int64_t b) { return a + b; })
          == std::accumulate(reference.begin(), reference.end(), int64_t{0}));
    // A dataset derived from the cached one reads the cache too.
    auto derived = ds.map([](int64_t x) { return x + 1; });
    CHECK(derived.collect().back() == reference.back() + 1);
    CHECK(calls.load() == 1000);
    ds.unpersist();
    CHECK(ds.storage() == ember::storage_level::none);
  }
}

TEST_CASE("unpersist: later actions recompute and do not cache again") {
  auto ctx = make_context("local[2]");
  calls = 0;
  auto ds = ctx.range(0, 500, 1, 5).map([](int64_t x) {
    calls.fetch_add(1);
    return x * 2;
  });
  auto cached = ds.cache(); // a copy of the handle, made after cache(): the same cached dataset
  CHECK(cached.count() == 500);
  CHECK(ds.count() == 500);
  CHECK(calls.load() == 500);
  cached.unpersist();
  CHECK(ds.count() == 500);
  CHECK(calls.load() == 1000);
  CHECK(ds.count() == 500);
  CHECK(calls.load() == 1500);
  // Caching again works as at first.
  ds.persist(ember::storage_level::memory_and_disk_ser);
  CHECK(ds.count() == 500);
  CHECK(calls.load() == 2000);
  CHECK(ds.collect().back() == 998);
  CHECK(calls.load() == 2000);
  // The level of a persisted dataset cannot change.
  CHECK_THROWS_AS(ds.persist(ember::storage_level::disk_only), std::invalid_argument);
}

TEST_CASE("cached shuffle output: a later job reads the cache instead of the shuffle") {
  auto ctx = make_context("local[2]");
  calls = 0;
  std::vector<int64_t> xs(2000);
  std::iota(xs.begin(), xs.end(), 0);
  auto sums = ctx.parallelize(xs, 4)
                .map([](int64_t x) {
                  calls.fetch_add(1);
                  return std::pair<int64_t, int64_t>{x % 10, x};
                })
                .reduce_by_key([](int64_t a, int64_t b) { return a + b; }, 3)
                .cache();
  auto first = sums.collect();
  REQUIRE(first.size() == 10);
  std::map<int64_t, int64_t> ref;
  for (auto x : xs)
    ref[x % 10] += x;
  for (auto& [k, v] : first)
    CHECK(ref.at(k) == v);
  CHECK(calls.load() == 2000);
  auto doubled = sums.map_values([](int64_t v) { return v * 2; }).collect();
  CHECK(doubled.size() == 10);
  CHECK(calls.load() == 2000);
}

TEST_CASE("a small storage budget evicts: MEMORY_ONLY recomputes what was dropped, MEMORY_AND_DISK spills") {
  // 16 MiB driver memory: unified 9.6 MiB, storage region 4.8 MiB; 8 partitions of 200000 int64
  // (about 1.6 MB each deserialized, 12.8 MB in all) cannot all stay in memory.
  auto ctx = make_context("local[2]", {"ember.driver.memory=16m"});
  const int64_t n = 1'600'000;
  int64_t ref_sum = 0;
  for (int64_t x = 0; x < n; ++x)
    ref_sum += x * 3;
  auto sum = [](int64_t a, int64_t b) { return a + b; };

  calls = 0;
  auto dropped = ctx.range(0, n, 1, 8).map([](int64_t x) {
    calls.fetch_add(1);
    return x * 3;
  });
  dropped.persist(ember::storage_level::memory_only);
  CHECK(dropped.reduce(sum) == ref_sum);
  CHECK(calls.load() == n);
  CHECK(dropped.reduce(sum) == ref_sum);
  auto after_second = calls.load();
  CHECK(after_second > n);      // some partitions were not kept and were recomputed
  CHECK(after_second < 2 * n);  // others were read from memory
  CHECK(after_second % 200000 == 0); // whole partitions, never part of one
  dropped.unpersist();

  calls = 0;
  auto spilled = ctx.range(0, n, 1, 8).map([](int64_t x) {
    calls.fetch_add(1);
    return x * 3;
  });
  spilled.persist(ember::storage_level::memory_and_disk);
  CHECK(spilled.reduce(sum) == ref_sum);
  CHECK(spilled.reduce(sum) == ref_sum);
  CHECK(spilled.collect().size() == static_cast<size_t>(n));
  CHECK(calls.load() == n); // every partition kept, in memory or on disk
}
