// Locality levels as executors (with racks from the topology) come and go.
#include <doctest/doctest.h>

#include "scheduler/task_set_manager.hpp"

using namespace ember::scheduler;
using namespace std::chrono_literals;

namespace {

const clock_time t0{};

} // namespace

TEST_CASE("a task set submitted before any executor registered still waits for its preferred host") {
  auto execs = std::make_shared<executor_table>();
  auto ids = std::make_shared<task_id_allocator>();
  task_set_settings settings;
  settings.locality_wait_node = 30s;
  settings.locality_wait_rack = 30s;
  stage_submission sub;
  sub.stage_id = 0;
  sub.partitions = {0, 1, 2};
  sub.preferred_hosts = {{"h1"}, {"h1"}, {"h1"}};
  task_set_manager tsm{sub, settings, execs, ids, t0};
  CHECK(tsm.valid_levels() == std::vector<locality_level>{locality_level::any});
  // The executors register (the rack of h1 comes with its executor), in any order.
  execs->add({"e3", "h3", "rackB", 1, 1});
  tsm.executors_changed();
  execs->add({"e1", "h1", "rackA", 1, 1});
  tsm.executors_changed();
  execs->add({"e2", "h2", "rackA", 1, 1});
  tsm.executors_changed();
  CHECK(tsm.valid_levels()
        == std::vector<locality_level>{locality_level::node_local, locality_level::rack_local, locality_level::any});
  CHECK(tsm.allowed_locality(t0 + 1s) == locality_level::node_local);
  auto a = tsm.resource_offer("e1", "h1", "rackA", locality_level::any, t0 + 1s);
  REQUIRE(a);
  CHECK(a->locality == locality_level::node_local);
  CHECK_FALSE(tsm.resource_offer("e2", "h2", "rackA", locality_level::any, t0 + 1s));
  CHECK_FALSE(tsm.resource_offer("e3", "h3", "rackB", locality_level::any, t0 + 1s));
  // The launch at 1 s restarted the node wait; after it: RACK_LOCAL on h2 (h1's rack), not h3.
  CHECK_FALSE(tsm.resource_offer("e2", "h2", "rackA", locality_level::any, t0 + 30s));
  auto b = tsm.resource_offer("e2", "h2", "rackA", locality_level::any, t0 + 31s);
  REQUIRE(b);
  CHECK(b->locality == locality_level::rack_local);
  CHECK_FALSE(tsm.resource_offer("e3", "h3", "rackB", locality_level::any, t0 + 31s));
  auto c = tsm.resource_offer("e3", "h3", "rackB", locality_level::any, t0 + 61s);
  REQUIRE(c);
  CHECK(c->locality == locality_level::any);
}

TEST_CASE("once a task set launched, a new executor does not pull it back to a more local level") {
  auto execs = std::make_shared<executor_table>();
  auto ids = std::make_shared<task_id_allocator>();
  task_set_settings settings;
  settings.locality_wait_node = 1s;
  settings.locality_wait_rack = 1s;
  stage_submission sub;
  sub.partitions = {0, 1, 2};
  sub.preferred_hosts = {{"h1"}, {"h1"}, {"h1"}};
  execs->add({"e1", "h1", "rackA", 1, 1});
  execs->add({"e3", "h3", "rackB", 1, 1});
  task_set_manager tsm{sub, settings, execs, ids, t0};
  REQUIRE(tsm.resource_offer("e1", "h1", "rackA", locality_level::any, t0));
  CHECK_FALSE(tsm.resource_offer("e3", "h3", "rackB", locality_level::any, t0));
  auto any = tsm.resource_offer("e3", "h3", "rackB", locality_level::any, t0 + 2s);
  REQUIRE(any);
  CHECK(any->locality == locality_level::any);
  execs->add({"e2", "h2", "rackA", 1, 1});
  tsm.executors_changed();
  CHECK(tsm.allowed_locality(t0 + 2s) == locality_level::any);
}

TEST_CASE("a host without a rack gets no RACK_LOCAL level") {
  auto execs = std::make_shared<executor_table>();
  auto ids = std::make_shared<task_id_allocator>();
  task_set_settings settings;
  stage_submission sub;
  sub.partitions = {0};
  sub.preferred_hosts = {{"h1"}};
  execs->add({"e1", "h1", "", 1, 1});
  execs->add({"e2", "h2", "", 1, 1});
  task_set_manager tsm{sub, settings, execs, ids, t0};
  CHECK(tsm.valid_levels() == std::vector<locality_level>{locality_level::node_local, locality_level::any});
}
