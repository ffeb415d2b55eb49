// The executor's block manager: the cached partitions (and other blocks) of one executor, in a
// memory store accounted against the executor's unified memory and a disk store under its local
// dir. Owned by the executor (actors/executor.cpp); task threads call it concurrently (one mutex).
//
// Memory model (Spark's unified memory manager, simplified — docs/architecture.md § Storage):
//
//   unified = ember.executor.memory * ember.memory.fraction
//   +---------------------------- unified ----------------------------+
//   | storage region (storageFraction)  | execution region            |
//   +-----------------------------------+-----------------------------+
//   storage always has its region, and may borrow the part of `unified` that running tasks have
//   not reserved; when tasks reserve more (acquire_execution), blocks are evicted until storage
//   fits in unified - execution, but never below the storage region: storage there is safe.
//   Execution memory is accounted, not enforced: a task reserves its fixed budget (the
//   executor's task memory) for its run and spills by that budget, as before.
//
// Eviction is LRU over memory blocks; a MEMORY_AND_DISK* block is spilled to the disk store, a
// MEMORY_ONLY* block is dropped (recomputed from lineage when needed again). A block is never
// evicted to make room for another block of the same RDD (Spark's rule: no thrashing within one
// RDD). A block that cannot get room goes to disk if its level allows, else is not stored.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "storage/storage_level.hpp"

namespace ember::storage {

// A deserialized block: the values (type-erased; the API knows their type), an estimate of their
// memory size, and how to turn them into the serialized form (LZ4-framed records) when the block
// is spilled to disk or served to another executor.
struct block_values {
  std::shared_ptr<const void> values;
  size_t size = 0;
  std::function<std::string()> serialize;
};

// What get() finds: values (a deserialized memory block) or serialized bytes (a *_SER memory
// block, or a block read from the disk store).
struct block_data {
  std::shared_ptr<const void> values;
  std::shared_ptr<const std::string> bytes;
  bool from_disk = false;
};

// Where a block is now, as reported to the block_manager_master (UpdateBlockInfo). Both sizes 0:
// the block is gone from this executor.
struct block_status {
  block_id id;
  storage_level level;
  uint64_t mem_size = 0;
  uint64_t disk_size = 0;
  bool stored() const { return mem_size > 0 || disk_size > 0; }
};

struct memory_settings {
  size_t unified = 0;            // ember.executor.memory * ember.memory.fraction
  double storage_fraction = 0.5; // ember.memory.storageFraction: the storage region, safe from eviction by execution
};

class block_manager {
public:
  // `dir` is the disk store (created on first use, removed with the block manager).
  block_manager(memory_settings settings, std::filesystem::path dir);
  ~block_manager();
  block_manager(const block_manager&) = delete;
  block_manager& operator=(const block_manager&) = delete;

  // -- blocks --------------------------------------------------------------------------------

  // Stores a computed block. Deserialized memory levels keep `v`; otherwise (or when it must go
  // to disk) v.serialize() is called. Returns where the block ended up (nowhere if it fit
  // neither in memory nor, for its level, on disk). Replaces an existing block of that id.
  block_status put_values(const block_id& id, const storage_level& level, block_values v);
  // Stores serialized bytes (*_SER, DISK_ONLY, or a block fetched from another executor).
  block_status put_bytes(const block_id& id, const storage_level& level, std::string bytes);
  // The block, from memory (marked most recently used) or disk; nullopt if not here.
  std::optional<block_data> get(const block_id& id);
  // The block's serialized bytes (serializing values), for serving it to another executor.
  std::optional<std::string> get_bytes(const block_id& id);
  bool contains(const block_id& id) const;
  std::optional<block_status> status(const block_id& id) const;
  // Removes the block from memory and disk; false if it was not here.
  bool remove(const block_id& id);
  // Removes every block of the RDD; returns their ids.
  std::vector<block_id> remove_rdd(uint32_t rdd_id);

  // -- memory --------------------------------------------------------------------------------

  // A task starting (finishing) reserves (returns) its execution memory. Reserving may evict
  // storage borrowed from execution, never below the storage region.
  void acquire_execution(size_t bytes);
  void release_execution(size_t bytes);

  // Status changes caused by eviction since the last call (spilled: now on disk; dropped: gone),
  // for the block_manager_master.
  std::vector<block_status> take_evicted();

  size_t storage_memory_used() const;
  size_t execution_memory_used() const;
  // Memory storage may use now: max(storage region, unified - execution reserved).
  size_t storage_memory_limit() const;
  // Memory blocks, least recently used first (tests, diagnostics).
  std::vector<block_id> memory_blocks_lru() const;
  const std::filesystem::path& dir() const { return dir_; }

private:
  struct entry {
    storage_level level;
    // memory part
    bool in_memory = false;
    block_values values;                          // deserialized
    std::shared_ptr<const std::string> mem_bytes; // serialized
    size_t mem_size = 0;
    std::list<block_id>::iterator lru;
    // disk part
    bool on_disk = false;
    size_t disk_size = 0;
  };

  size_t limit_locked() const;
  // Frees memory for `size` bytes of a block of `for_id` by evicting LRU blocks not of its RDD;
  // false (nothing evicted) if even evicting all of them would not make room.
  bool make_room_locked(size_t size, const block_id& for_id);
  // Evicts LRU blocks (any RDD) until storage fits in `target`.
  void shrink_to_locked(size_t target);
  void evict_locked(const block_id& id, entry& e);
  void drop_memory_locked(entry& e);
  void write_disk_locked(const block_id& id, entry& e, const std::string& bytes);
  void remove_disk_locked(const block_id& id, entry& e);
  std::filesystem::path path_of(const block_id& id) const;
  block_status status_of(const block_id& id, const entry& e) const;
  void put_memory_locked(const block_id& id, entry& e, size_t size);

  memory_settings settings_;
  std::filesystem::path dir_;
  mutable std::mutex mtx_;
  std::unordered_map<block_id, entry, block_id_hash> blocks_;
  std::list<block_id> lru_; // front = least recently used
  size_t storage_used_ = 0;
  size_t execution_used_ = 0;
  std::vector<block_status> evicted_;
};

} // namespace ember::storage
