// Storage levels and block ids: how a persisted partition is kept (Spark's StorageLevel) and the
// name of one block in a block manager. Plain values shared by the API (persist), the executor's
// block manager and the driver's block_manager_master.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace ember {

// Where a cached block may live: memory (values or LZ4-compressed serialized bytes), disk
// (always serialized bytes), or both (memory first, spilled to disk on eviction); replication
// is the number of executors holding a copy (1 or 2).
struct storage_level {
  bool use_memory = false;
  bool use_disk = false;
  bool deserialized = false;
  uint8_t replication = 1;

  bool valid() const { return (use_memory || use_disk) && replication >= 1; }
  bool operator==(const storage_level&) const = default;
  // "MEMORY_ONLY", "MEMORY_AND_DISK_SER_2", "NONE", ... (Spark's names).
  std::string name() const {
    if (!valid())
      return "NONE";
    std::string n = use_memory && use_disk ? "MEMORY_AND_DISK" : use_memory ? "MEMORY_ONLY" : "DISK_ONLY";
    if (use_memory && !deserialized)
      n += "_SER";
    if (replication == 2)
      n += "_2";
    else if (replication > 2)
      n.append(1, '_').append(std::to_string(replication));
    return n;
  }

  static const storage_level none;
  static const storage_level memory_only;
  static const storage_level memory_only_2;
  static const storage_level memory_only_ser;
  static const storage_level memory_only_ser_2;
  static const storage_level memory_and_disk;
  static const storage_level memory_and_disk_2;
  static const storage_level memory_and_disk_ser;
  static const storage_level memory_and_disk_ser_2;
  static const storage_level disk_only;
  static const storage_level disk_only_2;
};

inline constexpr storage_level storage_level::none{false, false, false, 1};
inline constexpr storage_level storage_level::memory_only{true, false, true, 1};
inline constexpr storage_level storage_level::memory_only_2{true, false, true, 2};
inline constexpr storage_level storage_level::memory_only_ser{true, false, false, 1};
inline constexpr storage_level storage_level::memory_only_ser_2{true, false, false, 2};
inline constexpr storage_level storage_level::memory_and_disk{true, true, true, 1};
inline constexpr storage_level storage_level::memory_and_disk_2{true, true, true, 2};
inline constexpr storage_level storage_level::memory_and_disk_ser{true, true, false, 1};
inline constexpr storage_level storage_level::memory_and_disk_ser_2{true, true, false, 2};
inline constexpr storage_level storage_level::disk_only{false, true, false, 1};
inline constexpr storage_level storage_level::disk_only_2{false, true, false, 2};

namespace storage {

// One block of a block manager. kind rdd: (rdd id, partition); kind broadcast: (broadcast id,
// piece). Mirrors protocol/common.capnp's BlockId for the kinds a block manager stores.
struct block_id {
  enum class kind : uint8_t { rdd = 0, broadcast = 1 };
  kind what = kind::rdd;
  uint64_t id = 0;   // rdd id or broadcast id
  uint32_t index = 0; // partition or piece

  static block_id rdd(uint32_t rdd_id, uint32_t partition) { return {kind::rdd, rdd_id, partition}; }
  static block_id broadcast(uint64_t broadcast_id, uint32_t piece) { return {kind::broadcast, broadcast_id, piece}; }
  bool is_rdd() const { return what == kind::rdd; }
  // "rdd_3_1", "broadcast_7_piece0" (Spark's names; also the disk store's file names).
  std::string name() const {
    if (what == kind::rdd)
      return "rdd_" + std::to_string(id) + "_" + std::to_string(index);
    return "broadcast_" + std::to_string(id) + "_piece" + std::to_string(index);
  }
  bool operator==(const block_id&) const = default;
  auto operator<=>(const block_id&) const = default;
};

struct block_id_hash {
  size_t operator()(const block_id& b) const noexcept {
    return std::hash<uint64_t>{}(b.id * 0x9E3779B97F4A7C15ull ^ (uint64_t{b.index} << 8) ^ static_cast<uint64_t>(b.what));
  }
};

} // namespace storage
} // namespace ember
