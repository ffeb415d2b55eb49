// Many tiny tasks through the real local runtime: the paths that only matter at high task rates
// (deep executor queues for short task sets, held and batched status updates, TaskEndedBatch)
// must give exact results, with retries, and when a stage mixes short and long tasks.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "api/ember.hpp"
#include "tests/integration/engine_test_util.hpp"

using ember_test::make_context;

namespace {

std::vector<int64_t> iota_times(int64_t n, int64_t factor) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    v[static_cast<size_t>(i)] = i * factor;
  return v;
}

// Busy for `ms` of wall time: a long task, not a synchronisation.
void spin(std::chrono::milliseconds ms) {
  auto until = std::chrono::steady_clock::now() + ms;
  while (std::chrono::steady_clock::now() < until) {
  }
}

std::atomic<int> failures_left{0};

} // namespace

TEST_CASE("thousands of one-element partitions give exact results at local[1] and local[2]") {
  for (const char* master : {"local[1]", "local[2]"}) {
    CAPTURE(master);
    auto ctx = make_context(master);
    constexpr int64_t n = 3000;
    CHECK(ctx.range(0, n, 1, n).count() == static_cast<uint64_t>(n));
    auto doubled = ctx.range(0, n, 1, n).map([](int64_t x) { return x * 2; }).collect();
    CHECK(doubled == iota_times(n, 2));
    // Queue depth for short tasks off: the same results with the normal slots only.
    auto plain = make_context(master, {"ember.executor.shortTaskQueueDepth=0"});
    CHECK(plain.range(0, n, 1, n).map([](int64_t x) { return x * 3; }).collect() == iota_times(n, 3));
  }
}

TEST_CASE("a stage mixing short and long tasks, and a retried failure among short tasks, stay exact") {
  auto ctx = make_context("local[2]");
  constexpr int64_t n = 2000;
  // Every 250th task runs 5 ms: the set turns long (extra slots stop) and short again.
  auto mixed = ctx.range(0, n, 1, n)
                 .map([](int64_t x) {
                   if (x % 250 == 249)
                     spin(std::chrono::milliseconds{5});
                   return x;
                 })
                 .collect();
  CHECK(mixed == iota_times(n, 1));

  failures_left = 2;
  auto retried = ctx.range(0, n, 1, n)
                   .map([](int64_t x) {
                     if (x == 1500 && failures_left.fetch_sub(1) > 0)
                       throw std::runtime_error("transient");
                     return x + 1;
                   })
                   .collect();
  CHECK(failures_left.load() < 0); // the task failed twice, then succeeded
  std::vector<int64_t> expected(static_cast<size_t>(n));
  std::iota(expected.begin(), expected.end(), 1);
  CHECK(retried == expected);
}
