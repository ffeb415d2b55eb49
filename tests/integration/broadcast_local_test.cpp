// Broadcast variables in local mode: a map joining against a broadcast table gives the exact
// result, tasks see the driver's original value (no copy), destroy makes the next job fail with
// the broadcast named, and a value above ember.broadcast.maxSize is refused with one line.
#include <doctest/doctest.h>

#include <map>
#include <string>

#include "api/ember.hpp"
#include "tests/integration/engine_test_util.hpp"

using ember_test::make_context;
using ember_test::temp_dir;

namespace {

using table = std::map<int64_t, std::string>;

table make_table() {
  table t;
  for (int64_t k = 0; k < 100; k += 3)
    t[k] = "name-" + std::to_string(k * 7);
  return t;
}

} // namespace

TEST_CASE("local mode: a map joining against a broadcast table gives the exact result") {
  temp_dir tmp;
  auto ctx = make_context("local[2]", {"ember.local.dir=" + tmp.path.string()});
  auto t = make_table();
  auto b = ctx.broadcast(t);
  CHECK(b.value() == t);
  // Inner join of (x % 100) against the table: only keys the table holds survive.
  auto joined = ctx.range(0, 1000, 1, 4)
                  .filter(ember::bind([](const ember::broadcast<table>& bt, int64_t x) { return bt.value().contains(x % 100); }, b))
                  .map(ember::bind([](const ember::broadcast<table>& bt, int64_t x) {
                    return std::pair{x, bt.value().at(x % 100)};
                  }, b))
                  .collect();
  std::vector<std::pair<int64_t, std::string>> expected;
  for (int64_t x = 0; x < 1000; ++x)
    if (auto i = t.find(x % 100); i != t.end())
      expected.emplace_back(x, i->second);
  CHECK(joined == expected);

  // Tasks read the driver's original value: the same object, not a copy.
  auto addresses = ctx.range(0, 4, 1, 4)
                     .map(ember::bind([](const ember::broadcast<table>& bt, int64_t) {
                       return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(&bt.value()));
                     }, b))
                     .collect();
  for (auto a : addresses)
    CHECK(a == static_cast<uint64_t>(reinterpret_cast<uintptr_t>(&b.value())));

  // unpersist keeps it usable (in local mode the only copy is the driver's).
  b.unpersist();
  CHECK(ctx.range(0, 10, 1, 2)
          .map(ember::bind([](const ember::broadcast<table>& bt, int64_t x) { return static_cast<int64_t>(bt.value().size()) + x; }, b))
          .reduce(std::plus<>{})
        == 10 * static_cast<int64_t>(t.size()) + 45);

  // A second broadcast gets its own id; destroying the first leaves it alone.
  auto b2 = ctx.broadcast(std::vector<int64_t>{5, 6, 7});
  CHECK(b2.id() == b.id() + 1);
  b.destroy();
  CHECK_THROWS_WITH_AS(b.value(), ("broadcast " + std::to_string(b.id()) + " was destroyed; it cannot be used any more").c_str(),
                       ember::storage::broadcast_error);
  std::string error;
  try {
    ctx.range(0, 4, 1, 2)
      .map(ember::bind([](const ember::broadcast<table>& bt, int64_t x) { return static_cast<int64_t>(bt.value().size()) + x; }, b))
      .collect();
  } catch (const ember::detail::job_error& e) {
    error = e.what();
  }
  CHECK_MESSAGE(error.find("broadcast " + std::to_string(b.id()) + " was destroyed; it cannot be used any more") != std::string::npos,
                error);
  CHECK(ctx.range(0, 3, 1, 3)
          .map(ember::bind([](const ember::broadcast<std::vector<int64_t>>& v, int64_t i) { return v.value()[static_cast<size_t>(i)]; }, b2))
          .collect()
        == std::vector<int64_t>{5, 6, 7});
}

TEST_CASE("local mode: a broadcast above ember.broadcast.maxSize is refused with one line") {
  temp_dir tmp;
  auto ctx = make_context("local[1]", {"ember.local.dir=" + tmp.path.string(), "ember.broadcast.maxSize=1"});
  CHECK_THROWS_WITH_AS(ctx.broadcast(std::string(2u << 20, 'x')),
                       "broadcast 0 is 2.0 MiB serialized, more than ember.broadcast.maxSize (1.0 MiB)",
                       ember::storage::broadcast_error);
  auto small = ctx.broadcast(std::string(1000, 'y'));
  CHECK(small.id() == 1);
}
