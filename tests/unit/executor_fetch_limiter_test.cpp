// fetch_limiter: an executor's remote shuffle fetches in flight, bounded in count and bytes.
#include <doctest/doctest.h>

#include <atomic>
#include <optional>
#include <thread>

#include "executor/fetch_limiter.hpp"
#include "tests/support/eventually.hpp"

using ember::executor::fetch_limiter;

TEST_CASE("fetch_limiter: bytes in flight stay under the limit; a larger block goes alone") {
  fetch_limiter l{0, 100};
  std::optional<fetch_limiter::permit> a{l.acquire(60)};
  std::optional<fetch_limiter::permit> b{l.acquire(40)};
  CHECK(l.bytes_in_flight() == 100);
  std::atomic<bool> got{false};
  std::thread t{[&] {
    auto c = l.acquire(1);
    got = true;
  }};
  // The third waits while 100 bytes are out; one release lets it in.
  CHECK_FALSE(ember_test::eventually([&] { return got.load(); }, std::chrono::milliseconds{200}));
  a.reset();
  t.join();
  CHECK(got);
  b.reset();
  CHECK(l.bytes_in_flight() == 0);
  {
    auto big = l.acquire(1000);  // alone: admitted although over the limit
    CHECK(l.requests_in_flight() == 1);
  }
  CHECK(l.requests_in_flight() == 0);
}

TEST_CASE("fetch_limiter: requests in flight stay under maxReqsInFlight") {
  fetch_limiter l{2, 1 << 30};
  std::optional<fetch_limiter::permit> a{l.acquire(1)};
  std::optional<fetch_limiter::permit> b{l.acquire(1)};
  std::atomic<int> in{0};
  std::atomic<int> most{0};
  std::thread t{[&] {
    auto c = l.acquire(1);
    most = static_cast<int>(l.requests_in_flight());
    in = 1;
  }};
  CHECK_FALSE(ember_test::eventually([&] { return in.load() == 1; }, std::chrono::milliseconds{200}));
  b.reset();
  t.join();
  CHECK(most == 2);
  CHECK(l.requests_in_flight() == 1);
}
