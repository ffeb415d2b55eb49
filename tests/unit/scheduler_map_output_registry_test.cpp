#include <doctest/doctest.h>

#include "scheduler/map_output_registry.hpp"

using namespace ember::scheduler;

namespace {
map_status out(uint32_t shuffle, uint32_t map, std::string exec, std::string host, std::vector<uint64_t> sizes = {}) {
  map_status s;
  s.shuffle_id = shuffle;
  s.map_id = map;
  s.executor_id = std::move(exec);
  s.host = std::move(host);
  s.sizes = std::move(sizes);
  s.data_path = "/d";
  s.index_path = "/i";
  return s;
}
} // namespace

TEST_CASE("registry tracks completeness, missing maps and the epoch") {
  map_output_registry reg;
  CHECK(reg.register_shuffle(7, 3));
  CHECK(reg.register_shuffle(7, 3));  // idempotent
  CHECK(!reg.register_shuffle(7, 4)); // conflicting map count
  CHECK(reg.missing_maps(7) == std::vector<uint32_t>{0, 1, 2});
  CHECK(!reg.register_output(out(7, 3, "e1", "h1"))); // map id out of range
  CHECK(!reg.register_output(out(8, 0, "e1", "h1"))); // unknown shuffle
  CHECK(reg.register_output(out(7, 0, "e1", "h1")));
  CHECK(reg.register_output(out(7, 2, "e2", "h2")));
  CHECK(!reg.is_complete(7));
  CHECK(!reg.outputs(7).has_value());
  CHECK(reg.missing_maps(7) == std::vector<uint32_t>{1});
  CHECK(reg.register_output(out(7, 1, "e1", "h1")));
  CHECK(reg.register_output(out(7, 1, "e3", "h3"))); // replacing does not double-count
  CHECK(reg.num_available(7) == 3);
  REQUIRE(reg.is_complete(7));
  auto all = reg.outputs(7);
  REQUIRE(all.has_value());
  CHECK(all->size() == 3);
  CHECK((*all)[1].executor_id == "e3");
  CHECK(reg.epoch() == 0);

  std::string other = "e9";
  CHECK(!reg.unregister_output(7, 1, &other).has_value()); // held by e3, not e9
  CHECK(reg.epoch() == 0);
  auto removed = reg.unregister_output(7, 1);
  REQUIRE(removed.has_value());
  CHECK(removed->executor_id == "e3");
  CHECK(reg.epoch() == 1);
  CHECK(reg.missing_maps(7) == std::vector<uint32_t>{1});
}

TEST_CASE("registry removes outputs by executor and by host") {
  map_output_registry reg;
  reg.register_shuffle(1, 2);
  reg.register_shuffle(2, 2);
  reg.register_output(out(1, 0, "e1", "h1"));
  reg.register_output(out(1, 1, "e2", "h1"));
  reg.register_output(out(2, 0, "e1", "h1"));
  reg.register_output(out(2, 1, "e3", "h2"));
  auto gone = reg.remove_outputs_on_executor("e1");
  REQUIRE(gone.size() == 2);
  CHECK(gone[0].shuffle_id == 1);
  CHECK(gone[1].shuffle_id == 2);
  CHECK(reg.epoch() == 1);
  CHECK(reg.remove_outputs_on_executor("e1").empty());
  CHECK(reg.epoch() == 1); // nothing removed, no bump
  auto on_host = reg.remove_outputs_on_host("h1");
  REQUIRE(on_host.size() == 1);
  CHECK(on_host[0].executor_id == "e2");
  CHECK(reg.epoch() == 2);
  CHECK(reg.missing_maps(1) == std::vector<uint32_t>{0, 1});
  CHECK(reg.missing_maps(2) == std::vector<uint32_t>{0});
}

TEST_CASE("hosts holding a large share of a reduce partition") {
  map_output_registry reg;
  reg.register_shuffle(0, 3);
  reg.register_output(out(0, 0, "e1", "h1", {10, 0}));
  CHECK(reg.hosts_with_largest_outputs(0, 0, 0.2).empty()); // incomplete
  reg.register_output(out(0, 1, "e2", "h2", {85, 5}));
  reg.register_output(out(0, 2, "e3", "h3", {5, 5}));
  CHECK(reg.hosts_with_largest_outputs(0, 0, 0.2) == std::vector<std::string>{"h2"});
  CHECK(reg.hosts_with_largest_outputs(0, 0, 0.1) == std::vector<std::string>{"h2", "h1"});
  CHECK(reg.hosts_with_largest_outputs(0, 1, 0.2) == std::vector<std::string>{"h2", "h3"});
}
