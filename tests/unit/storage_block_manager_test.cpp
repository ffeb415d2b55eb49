// The executor's block manager (storage/block_manager.hpp): storage levels, memory accounting,
// LRU order, spill to disk vs drop, the same-RDD rule, execution memory reclaiming borrowed
// storage, and serialized round trips.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "storage/block_manager.hpp"
#include "storage/serde.hpp"
#include "tests/support/temp_dir.hpp"

using namespace ember;
using namespace ember::storage;

namespace {

std::string ser(const std::vector<int64_t>& v) {
  byte_writer w;
  serialize(w, v);
  return std::string{w.view()};
}

std::vector<int64_t> de(const std::string& bytes) {
  byte_reader r{bytes};
  return deserialize<std::vector<int64_t>>(r);
}

// A deserialized block of `n` values 0..n-1 whose accounted size is `size`.
block_values values_block(size_t n, size_t size) {
  auto v = std::make_shared<std::vector<int64_t>>();
  for (size_t i = 0; i < n; ++i)
    v->push_back(static_cast<int64_t>(i));
  return block_values{v, size, [v] { return ser(*v); }};
}

const std::vector<int64_t>& as_values(const block_data& d) {
  return *static_cast<const std::vector<int64_t>*>(d.values.get());
}

} // namespace

TEST_CASE("storage levels have Spark's names and flags") {
  CHECK(storage_level::memory_only.name() == "MEMORY_ONLY");
  CHECK(storage_level::memory_only_2.name() == "MEMORY_ONLY_2");
  CHECK(storage_level::memory_only_ser.name() == "MEMORY_ONLY_SER");
  CHECK(storage_level::memory_and_disk.name() == "MEMORY_AND_DISK");
  CHECK(storage_level::memory_and_disk_ser_2.name() == "MEMORY_AND_DISK_SER_2");
  CHECK(storage_level::disk_only.name() == "DISK_ONLY");
  CHECK(storage_level::disk_only_2.name() == "DISK_ONLY_2");
  CHECK(storage_level::none.name() == "NONE");
  CHECK_FALSE(storage_level::none.valid());
  CHECK(storage_level::memory_and_disk.use_memory);
  CHECK(storage_level::memory_and_disk.use_disk);
  CHECK(storage_level::memory_and_disk.deserialized);
  CHECK_FALSE(storage_level::memory_and_disk_ser.deserialized);
  CHECK(storage_level::memory_only_ser_2.replication == 2);
  CHECK(block_id::rdd(3, 1).name() == "rdd_3_1");
  CHECK(block_id::broadcast(7, 0).name() == "broadcast_7_piece0");
}

TEST_CASE("deserialized, serialized and disk blocks round trip and are accounted") {
  ember_test::temp_dir tmp;
  block_manager bm{{1000, 0.5}, tmp.path / "blocks"};

  auto s = bm.put_values(block_id::rdd(1, 0), storage_level::memory_only, values_block(5, 100));
  CHECK(s.mem_size == 100);
  CHECK(s.disk_size == 0);
  auto d = bm.get(block_id::rdd(1, 0));
  REQUIRE(d);
  REQUIRE(d->values);
  CHECK(as_values(*d) == std::vector<int64_t>{0, 1, 2, 3, 4});

  // *_SER: the serialized bytes are kept in memory, sized by their length.
  auto bytes = ser({7, 8, 9});
  s = bm.put_values(block_id::rdd(2, 0), storage_level::memory_only_ser,
                    block_values{nullptr, 999, [&] { return bytes; }});
  CHECK(s.mem_size == bytes.size());
  d = bm.get(block_id::rdd(2, 0));
  REQUIRE(d);
  CHECK_FALSE(d->values);
  REQUIRE(d->bytes);
  CHECK(de(*d->bytes) == std::vector<int64_t>{7, 8, 9});
  CHECK(bm.storage_memory_used() == 100 + bytes.size());

  // DISK_ONLY: a file under the store's directory, no memory.
  s = bm.put_bytes(block_id::rdd(3, 4), storage_level::disk_only, ser({42}));
  CHECK(s.mem_size == 0);
  CHECK(s.disk_size == ser({42}).size());
  CHECK(std::filesystem::exists(tmp.path / "blocks" / "rdd_3_4"));
  d = bm.get(block_id::rdd(3, 4));
  REQUIRE(d);
  CHECK(d->from_disk);
  CHECK(de(*d->bytes) == std::vector<int64_t>{42});
  CHECK(bm.storage_memory_used() == 100 + bytes.size());

  // get_bytes serializes values for serving them elsewhere.
  CHECK(de(*bm.get_bytes(block_id::rdd(1, 0))) == std::vector<int64_t>{0, 1, 2, 3, 4});

  CHECK(bm.remove(block_id::rdd(1, 0)));
  CHECK_FALSE(bm.remove(block_id::rdd(1, 0)));
  CHECK_FALSE(bm.get(block_id::rdd(1, 0)));
  CHECK(bm.storage_memory_used() == bytes.size());
  CHECK(bm.remove_rdd(3) == std::vector<block_id>{block_id::rdd(3, 4)});
  CHECK_FALSE(std::filesystem::exists(tmp.path / "blocks" / "rdd_3_4"));
}

TEST_CASE("LRU eviction: MEMORY_AND_DISK spills, MEMORY_ONLY drops, reads refresh the order") {
  ember_test::temp_dir tmp;
  // No execution reserved: storage may use all 1000 bytes.
  block_manager bm{{1000, 0.5}, tmp.path};
  bm.put_values(block_id::rdd(1, 0), storage_level::memory_only, values_block(1, 300));
  bm.put_values(block_id::rdd(2, 0), storage_level::memory_and_disk, values_block(2, 300));
  bm.put_values(block_id::rdd(3, 0), storage_level::memory_only, values_block(3, 300));
  CHECK(bm.memory_blocks_lru() == std::vector<block_id>{block_id::rdd(1, 0), block_id::rdd(2, 0), block_id::rdd(3, 0)});
  REQUIRE(bm.get(block_id::rdd(1, 0))); // now most recently used
  CHECK(bm.memory_blocks_lru() == std::vector<block_id>{block_id::rdd(2, 0), block_id::rdd(3, 0), block_id::rdd(1, 0)});

  // 500 more bytes: the two least recently used go (rdd 2 spilled, rdd 3 dropped); evicting
  // stops as soon as there is room.
  auto s = bm.put_values(block_id::rdd(4, 0), storage_level::memory_only, values_block(4, 500));
  CHECK(s.mem_size == 500);
  CHECK(bm.memory_blocks_lru() == std::vector<block_id>{block_id::rdd(1, 0), block_id::rdd(4, 0)});
  CHECK(bm.storage_memory_used() == 800);
  auto evicted = bm.take_evicted();
  REQUIRE(evicted.size() == 2);
  CHECK(evicted[0].id == block_id::rdd(2, 0));
  CHECK(evicted[0].mem_size == 0);
  CHECK(evicted[0].disk_size > 0);
  CHECK(evicted[1].id == block_id::rdd(3, 0));
  CHECK_FALSE(evicted[1].stored());
  CHECK(bm.take_evicted().empty());

  auto spilled = bm.get(block_id::rdd(2, 0));
  REQUIRE(spilled);
  CHECK(spilled->from_disk);
  CHECK(de(*spilled->bytes) == std::vector<int64_t>{0, 1});
  CHECK_FALSE(bm.get(block_id::rdd(3, 0)));
  CHECK_FALSE(bm.contains(block_id::rdd(3, 0)));

  // 300 more: only the least recently used (rdd 1) goes.
  bm.put_values(block_id::rdd(5, 0), storage_level::memory_only, values_block(1, 300));
  CHECK(bm.memory_blocks_lru() == std::vector<block_id>{block_id::rdd(4, 0), block_id::rdd(5, 0)});
  CHECK(bm.storage_memory_used() == 800);
}

TEST_CASE("a block is never evicted for a block of the same RDD") {
  ember_test::temp_dir tmp;
  block_manager bm{{1000, 0.5}, tmp.path};
  bm.put_values(block_id::rdd(1, 0), storage_level::memory_only, values_block(1, 600));
  // Partition 1 of the same RDD does not fit without evicting partition 0: not cached.
  auto s = bm.put_values(block_id::rdd(1, 1), storage_level::memory_only, values_block(1, 600));
  CHECK_FALSE(s.stored());
  CHECK(bm.contains(block_id::rdd(1, 0)));
  CHECK_FALSE(bm.contains(block_id::rdd(1, 1)));
  // At MEMORY_AND_DISK it goes straight to disk instead.
  s = bm.put_values(block_id::rdd(1, 1), storage_level::memory_and_disk, values_block(3, 600));
  CHECK(s.mem_size == 0);
  CHECK(s.disk_size > 0);
  CHECK(de(*bm.get(block_id::rdd(1, 1))->bytes) == std::vector<int64_t>{0, 1, 2});
  CHECK(bm.memory_blocks_lru() == std::vector<block_id>{block_id::rdd(1, 0)});
  // Another RDD may evict it.
  s = bm.put_values(block_id::rdd(2, 0), storage_level::memory_only, values_block(1, 600));
  CHECK(s.mem_size == 600);
  CHECK_FALSE(bm.contains(block_id::rdd(1, 0)));
  // A block larger than storage may ever use is not cached, and evicts nothing.
  s = bm.put_values(block_id::rdd(3, 0), storage_level::memory_only, values_block(1, 1001));
  CHECK_FALSE(s.stored());
  CHECK(bm.contains(block_id::rdd(2, 0)));
}

TEST_CASE("execution reclaims borrowed storage, never below the storage region") {
  ember_test::temp_dir tmp;
  block_manager bm{{1000, 0.4}, tmp.path}; // storage region 400
  for (uint32_t p = 0; p < 4; ++p)
    bm.put_values(block_id::rdd(1, p), storage_level::memory_only, values_block(1, 200));
  CHECK(bm.storage_memory_used() == 800);
  bm.take_evicted();

  bm.acquire_execution(300); // storage may now use 700: the least recently used block goes
  CHECK(bm.storage_memory_limit() == 700);
  CHECK(bm.storage_memory_used() == 600);
  CHECK(bm.memory_blocks_lru() == std::vector<block_id>{block_id::rdd(1, 1), block_id::rdd(1, 2), block_id::rdd(1, 3)});

  bm.acquire_execution(700); // unified fully reserved: storage keeps its region (400)
  CHECK(bm.storage_memory_limit() == 400);
  CHECK(bm.storage_memory_used() == 400);
  CHECK(bm.memory_blocks_lru() == std::vector<block_id>{block_id::rdd(1, 2), block_id::rdd(1, 3)});
  CHECK(bm.take_evicted().size() == 2);

  bm.release_execution(1000);
  CHECK(bm.execution_memory_used() == 0);
  CHECK(bm.storage_memory_limit() == 1000);
  auto s = bm.put_values(block_id::rdd(2, 0), storage_level::memory_only, values_block(1, 600));
  CHECK(s.mem_size == 600);
  CHECK(bm.storage_memory_used() == 1000);
}

TEST_CASE("replacing a block frees its old memory and disk") {
  ember_test::temp_dir tmp;
  block_manager bm{{1000, 0.5}, tmp.path};
  bm.put_values(block_id::rdd(1, 0), storage_level::memory_only, values_block(1, 300));
  bm.put_values(block_id::rdd(1, 0), storage_level::memory_only, values_block(2, 200));
  CHECK(bm.storage_memory_used() == 200);
  CHECK(as_values(*bm.get(block_id::rdd(1, 0))).size() == 2);
  bm.put_bytes(block_id::rdd(1, 0), storage_level::disk_only, ser({5}));
  CHECK(bm.storage_memory_used() == 0);
  CHECK(bm.memory_blocks_lru().empty());
  CHECK(de(*bm.get(block_id::rdd(1, 0))->bytes) == std::vector<int64_t>{5});
}
