// The driver's block location table (storage/block_manager_master.hpp): updates, drops,
// executor loss and RDD removal.
#include <doctest/doctest.h>

#include "storage/block_manager_master.hpp"

using namespace ember;
using namespace ember::storage;

namespace {
block_status in_memory(block_id id, uint64_t size) { return {id, storage_level::memory_only, size, 0}; }
} // namespace

TEST_CASE("locations follow stores, spills and drops per executor") {
  block_manager_master m;
  m.update("1", "h1", 7001, in_memory(block_id::rdd(4, 0), 100));
  m.update("2", "h2", 7002, in_memory(block_id::rdd(4, 0), 100));
  m.update("2", "h2", 7002, in_memory(block_id::rdd(4, 1), 50));
  auto l = m.locations(block_id::rdd(4, 0));
  REQUIRE(l.size() == 2);
  CHECK(l[0].executor_id == "1");
  CHECK(l[0].host == "h1");
  CHECK(l[0].port == 7001);
  CHECK(l[1].executor_id == "2");
  CHECK(m.num_blocks() == 2);

  // Spilled on executor 1: still held there, now on disk.
  m.update("1", "h1", 7001, block_status{block_id::rdd(4, 0), storage_level::memory_and_disk, 0, 80});
  l = m.locations(block_id::rdd(4, 0));
  REQUIRE(l.size() == 2);
  CHECK(l[0].mem_size == 0);
  CHECK(l[0].disk_size == 80);

  // Dropped on executor 2.
  m.update("2", "h2", 7002, block_status{block_id::rdd(4, 0), storage_level::memory_only, 0, 0});
  l = m.locations(block_id::rdd(4, 0));
  REQUIRE(l.size() == 1);
  CHECK(l[0].executor_id == "1");
  CHECK(m.locations(block_id::rdd(4, 7)).empty());
  // A drop of a block never reported is ignored.
  m.update("3", "h3", 7003, block_status{block_id::rdd(9, 0), storage_level::memory_only, 0, 0});
  CHECK(m.num_blocks() == 2);
}

TEST_CASE("a lost executor's blocks are forgotten; remove_rdd names the holders") {
  block_manager_master m;
  m.update("1", "h1", 1, in_memory(block_id::rdd(4, 0), 10));
  m.update("1", "h1", 1, in_memory(block_id::rdd(4, 1), 10));
  m.update("2", "h2", 2, in_memory(block_id::rdd(4, 1), 10));
  m.update("2", "h2", 2, in_memory(block_id::rdd(5, 0), 10));
  m.update("3", "h3", 3, in_memory(block_id::rdd(3, 0), 10));
  m.update("3", "h3", 3, in_memory(block_id::broadcast(4, 0), 10));

  CHECK(m.executor_lost("1") == 2);
  CHECK(m.locations(block_id::rdd(4, 0)).empty());
  REQUIRE(m.locations(block_id::rdd(4, 1)).size() == 1);
  CHECK(m.locations(block_id::rdd(4, 1))[0].executor_id == "2");
  CHECK(m.executor_lost("1") == 0);

  m.update("3", "h3", 3, in_memory(block_id::rdd(4, 3), 10));
  auto holders = m.remove_rdd(4);
  CHECK(holders == std::vector<std::string>{"2", "3"});
  CHECK(m.locations(block_id::rdd(4, 1)).empty());
  CHECK(m.locations(block_id::rdd(4, 3)).empty());
  // Other RDDs and broadcast pieces with the same number stay.
  CHECK(m.locations(block_id::rdd(5, 0)).size() == 1);
  CHECK(m.locations(block_id::rdd(3, 0)).size() == 1);
  CHECK(m.locations(block_id::broadcast(4, 0)).size() == 1);
  CHECK(m.num_blocks() == 3);
}

TEST_CASE("replica_target: a _2 block with one holder goes to the live non-holder with the fewest blocks") {
  block_manager_master m;
  auto two = [](block_id id) { return block_status{id, storage_level::memory_only_2, 100, 0}; };
  // A level without replication never asks for a copy.
  m.update("1", "h1", 7001, in_memory(block_id::rdd(4, 0), 100));
  CHECK_FALSE(m.replica_target(block_id::rdd(4, 0), {"1", "2", "3"}).has_value());
  CHECK_FALSE(m.replica_target(block_id::rdd(4, 9), {"1", "2"}).has_value()); // unknown block

  m.update("2", "h2", 7002, two(block_id::rdd(5, 0)));
  m.update("2", "h2", 7002, two(block_id::rdd(5, 1)));
  m.update("3", "h3", 7003, two(block_id::rdd(5, 2)));
  // rdd_5_0 is on 2; candidates 1 (1 block) and 3 (1 block): the tie goes to the smaller id.
  CHECK(m.replica_target(block_id::rdd(5, 0), {"1", "2", "3"}) == std::optional<std::string>{"1"});
  m.update("1", "h1", 7001, two(block_id::rdd(5, 0)));
  CHECK_FALSE(m.replica_target(block_id::rdd(5, 0), {"1", "2", "3"}).has_value()); // two holders now
  // rdd_5_1 is on 2; 1 holds 2 blocks, 3 holds 1: executor 3.
  CHECK(m.replica_target(block_id::rdd(5, 1), {"1", "2", "3"}) == std::optional<std::string>{"3"});
  // Only live executors take copies; none left but the holder: nowhere.
  CHECK(m.replica_target(block_id::rdd(5, 1), {"1", "2"}) == std::optional<std::string>{"1"});
  CHECK_FALSE(m.replica_target(block_id::rdd(5, 1), {"2"}).has_value());
  // The holder lost: the copy elsewhere is the only one and asks for another.
  m.executor_lost("2");
  CHECK(m.replica_target(block_id::rdd(5, 0), {"1", "3"}) == std::optional<std::string>{"3"});
}
