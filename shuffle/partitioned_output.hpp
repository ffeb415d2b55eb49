// The map side of a shuffle task: records go to partitions (hash or range partitioner), are
// serialized into per-partition blocks, LZ4-framed as blocks fill, spilled to disk when the
// task's memory budget is exceeded, and finally written as one partitioned file + index
// (shuffle_file.hpp). combining_output adds map-side combine (reduce_by_key, aggregate_by_key).
// Owned by the executor's task runner; plain C++, settings passed in.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "shuffle/hash_map.hpp"
#include "shuffle/shuffle_file.hpp"
#include "storage/hash.hpp"
#include "storage/serde.hpp"

namespace ember::shuffle {

// -- partitioners ----------------------------------------------------------------

/// partition = stable_hash(key) % n.
struct hash_partitioner {
  size_t n = 1;
  static constexpr bool uses_stable_hash = true;
  size_t num_partitions() const noexcept { return n; }
  size_t of_hash(uint64_t h) const noexcept {
    // Same value as h % n; a power of two (the common local[2^k] case) skips the division.
    return (n & (n - 1)) == 0 ? static_cast<size_t>(h & (n - 1)) : static_cast<size_t>(h % n);
  }
  template <class K> size_t operator()(const K& key) const { return of_hash(stable_hash(key)); }
};

/// Partition i holds keys in (bounds[i-1], bounds[i]]; the last one keys above bounds.back().
/// bounds must be sorted by Less (computed from a sample by the planner).
template <class K, class Less = std::less<>>
struct range_partitioner {
  std::vector<K> bounds;
  [[no_unique_address]] Less less{};
  static constexpr bool uses_stable_hash = false;
  size_t num_partitions() const noexcept { return bounds.size() + 1; }
  template <class KL> size_t operator()(const KL& key) const {
    return static_cast<size_t>(std::lower_bound(bounds.begin(), bounds.end(), key, less) - bounds.begin());
  }
};

// -- options and results -----------------------------------------------------------

struct output_options {
  size_t num_partitions = 1;
  std::string spill_dir = "/tmp";
  /// Budget for buffered records; above it everything buffered is spilled.
  size_t memory_limit = size_t{64} << 20;
  shuffle::codec codec = codec::lz4;
  size_t block_size = default_block_size;
  /// Spill files kept before they are merged into one (bounds open file descriptors).
  size_t max_spill_files = 64;
};

struct write_metrics {
  uint64_t records_written = 0; // records handed to the output (after combining)
  uint64_t bytes_written = 0;   // size of the final data file
  uint64_t spill_count = 0;
  uint64_t spill_bytes = 0;     // framed bytes written to spill files
  uint64_t records_spilled = 0;
};

struct map_output {
  std::vector<uint64_t> partition_lengths; // the MapStatus sizes
  write_metrics metrics;
};

// -- partitioned_output ----------------------------------------------------------

/// Records of type T to partitions, in any partition order. A record is serialized once into its
/// partition's open block; a full block is compressed right away, so memory holds mostly
/// compressed frames. Spills are files in the final format; commit copies their frames.
template <class T>
class partitioned_output {
public:
  explicit partitioned_output(output_options opts) : opts_(std::move(opts)), parts_(opts_.num_partitions) {
    if (opts_.max_spill_files < 2)
      opts_.max_spill_files = 2;
    // Keep the open blocks of all partitions within a quarter of the budget.
    size_t per_part = opts_.memory_limit / (4 * std::max<size_t>(1, opts_.num_partitions));
    block_ = std::clamp<size_t>(per_part, 4096, std::max<size_t>(opts_.block_size, 1));
  }

  void add(size_t partition, const T& record) {
    part& pt = at(partition);
    size_t before = pt.raw.size();
    serialize(pt.raw, record);
    account(partition, pt, before);
  }

  /// Appends one record whose wire form is the concatenation of the fields (so add_fields(p, k, v)
  /// equals add(p, std::pair{k, v}) without building the pair).
  template <class... Fields>
  void add_fields(size_t partition, const Fields&... fields) {
    part& pt = at(partition);
    size_t before = pt.raw.size();
    (serialize(pt.raw, fields), ...);
    account(partition, pt, before);
  }

  /// Bytes currently buffered (open blocks + compressed frames).
  size_t memory_bytes() const noexcept { return mem_; }
  const write_metrics& metrics() const noexcept { return metrics_; }
  size_t num_partitions() const noexcept { return parts_.size(); }

  /// Spills everything buffered now.
  void spill() {
    if (mem_ == 0)
      return;
    temp_shuffle_file f = temp_shuffle_file::create(opts_.spill_dir, "ember-spill");
    shuffle_file_writer w(f.data.path(), f.index.path(), parts_.size(), opts_.codec, opts_.block_size);
    for (size_t p = 0; p < parts_.size(); ++p) {
      seal(parts_[p]);
      w.append_frames(p, parts_[p].framed.data(), parts_[p].framed.size());
      parts_[p].framed.clear();
    }
    w.commit();
    metrics_.spill_count += 1;
    metrics_.spill_bytes += w.bytes_written();
    metrics_.records_spilled += buffered_records_;
    buffered_records_ = 0;
    mem_ = 0;
    spills_.push_back(std::move(f));
    if (spills_.size() >= opts_.max_spill_files)
      merge_spills();
  }

  /// Writes the final data + index files (spilled frames first, then buffered ones).
  map_output commit(const std::string& data_path, const std::string& index_path) {
    for (auto& pt : parts_)
      seal(pt);
    shuffle_file_writer w(data_path, index_path, parts_.size(), opts_.codec, opts_.block_size);
    copy_into(w, true);
    map_output out;
    out.partition_lengths = w.commit();
    spills_.clear(); // deletes the spill files
    for (auto& pt : parts_) {
      pt.raw.release();
      pt.framed.release();
    }
    mem_ = 0;
    buffered_records_ = 0;
    for (uint64_t len : out.partition_lengths)
      metrics_.bytes_written += len;
    out.metrics = metrics_;
    return out;
  }

private:
  struct part {
    byte_writer raw;    // the open block: serialized records not yet framed
    byte_writer framed; // finished frames
  };

  part& at(size_t partition) {
    if (partition >= parts_.size())
      throw std::out_of_range("partitioned_output: partition " + std::to_string(partition) +
                              " out of range (" + std::to_string(parts_.size()) + " partitions)");
    return parts_[partition];
  }

  void account(size_t, part& pt, size_t before) {
    ++metrics_.records_written;
    ++buffered_records_;
    mem_ += pt.raw.size() - before;
    if (pt.raw.size() >= block_)
      seal(pt);
    if (mem_ > opts_.memory_limit)
      spill();
  }

  void seal(part& pt) {
    if (pt.raw.empty())
      return;
    size_t before = pt.framed.size();
    encode_frame(codec_, pt.raw.data(), pt.raw.size(), pt.framed);
    size_t stored = pt.framed.size() - before;
    // Data LZ4 barely shrinks (random keys, already compressed values) costs compression time
    // for little: after a few blocks that saved under a quarter, store the rest uncompressed.
    // LZ4 compresses at ~0.3-0.5 GB/s per core, slower than writing to the page cache or a
    // 1-10 Gbit/s link, so a 10 % saving costs far more than the bytes it saves (terasort's
    // records: 11 %, 3+ CPU-s per GB); text shrinks by half and stays compressed. Frames name
    // their codec, so readers take mixed files as they come.
    if (codec_ != codec::none && ++blocks_sealed_ <= adapt_after_blocks) {
      raw_sealed_ += pt.raw.size();
      stored_sealed_ += stored;
      if (blocks_sealed_ == adapt_after_blocks && stored_sealed_ * 4 > raw_sealed_ * 3)
        codec_ = codec::none;
    }
    mem_ -= pt.raw.size();
    mem_ += stored;
    pt.raw.clear();
  }


  /// Copies, per partition, the frames of every spill and (if with_memory) the buffered ones.
  void copy_into(shuffle_file_writer& w, bool with_memory) {
    std::vector<shuffle_file_reader> readers;
    readers.reserve(spills_.size());
    for (auto& s : spills_)
      readers.emplace_back(s.data.path(), s.index.path());
    std::string bytes;
    for (size_t p = 0; p < parts_.size(); ++p) {
      for (auto& r : readers) {
        r.read_partition_bytes(p, bytes);
        w.append_frames(p, bytes);
      }
      if (with_memory)
        w.append_frames(p, parts_[p].framed.data(), parts_[p].framed.size());
    }
  }

  /// Too many spill files: concatenate them (per partition, in order) into one.
  void merge_spills() {
    temp_shuffle_file f = temp_shuffle_file::create(opts_.spill_dir, "ember-spill");
    shuffle_file_writer w(f.data.path(), f.index.path(), parts_.size(), opts_.codec, opts_.block_size);
    copy_into(w, false);
    w.commit();
    spills_.clear();
    spills_.push_back(std::move(f));
  }

  output_options opts_;
  // Compression adapts to the data (seal): declared after opts_, which initializes it.
  static constexpr uint64_t adapt_after_blocks = 8;
  codec codec_ = opts_.codec;
  uint64_t blocks_sealed_ = 0, raw_sealed_ = 0, stored_sealed_ = 0;
  std::vector<part> parts_;
  size_t block_ = default_block_size;
  size_t mem_ = 0;
  uint64_t buffered_records_ = 0;
  std::vector<temp_shuffle_file> spills_;
  write_metrics metrics_;
};

// -- combining_output ----------------------------------------------------------------

/// Map-side combine: per partition an aggregation_map merging values with
/// combine(V& acc, V&& v). When the maps outgrow half the budget they are flushed as (K, V)
/// records (wire-identical to std::pair<K, V>) into a partitioned_output, which may spill.
/// Correct because reducers merge partial aggregates of the same key anyway.
template <class K, class V, class Combine, class Partitioner = hash_partitioner>
class combining_output {
public:
  combining_output(output_options opts, Combine combine = {}, Partitioner partitioner = {})
    : limit_(std::max<size_t>(opts.memory_limit / 2, 1)),
      combine_(std::move(combine)),
      partitioner_(std::move(partitioner)),
      maps_(opts.num_partitions),
      out_(with_limit(std::move(opts))) {
    if constexpr (std::is_same_v<Partitioner, hash_partitioner>)
      if (partitioner_.n != maps_.size())
        partitioner_.n = maps_.size();
  }

  /// Merges (key, value) into the key's partition. KL may be a lighter key type that compares
  /// and hashes like K (e.g. std::string_view for std::string): K is only built for new keys.
  template <class KL>
  void add(KL&& key, V&& value) {
    if (maps_.empty())
      throw std::out_of_range("combining_output: add() on an output with 0 partitions");
    uint64_t h = stable_hash(key);
    size_t p;
    if constexpr (Partitioner::uses_stable_hash)
      p = partitioner_.of_hash(h);
    else
      p = partitioner_(key);
    if constexpr (!Partitioner::uses_stable_hash) // of_hash is < n by construction
      if (p >= maps_.size())
        throw std::out_of_range("combining_output: partitioner returned " + std::to_string(p) +
                                " for " + std::to_string(maps_.size()) + " partitions");
    // A record waits in a short queue while its slot is prefetched, so the table's cache miss
    // overlaps with the next records' work instead of stalling each lookup (the table of a
    // word count outgrows the caches; this was half of its time).
    maps_[p].prefetch(h);
    if (queued_ == queue_.size())
      merge_oldest();
    auto& q = queue_[(head_ + queued_) % queue_.size()];
    if constexpr (short_string_keys) {
      // The per-word path of word count: a short word waits as 16 copied bytes (no library
      // call) and becomes a std::string only if it is a new key of the table.
      std::string_view sv(key);
      if (sv.size() <= short_key::max_size) {
        if constexpr (std::is_same_v<std::decay_t<KL>, std::string>)
          q.small = short_key::of(static_cast<const std::string&>(key));
        else
          q.small = short_key::of(sv);
        q.is_small = true;
      } else {
        q.key = K(std::forward<KL>(key));
        q.is_small = false;
      }
    } else if constexpr (std::is_same_v<std::decay_t<KL>, K>) {
      q.key = std::forward<KL>(key); // no temporary
    } else {
      q.key = K(std::forward<KL>(key));
    }
    q.value = std::move(value);
    q.hash = h;
    q.partition = p;
    ++queued_;
    ++records_in_;
  }

  void add(const K& key, const V& value) { add(key, V(value)); }

  /// Writes every map's contents into the partitioned output and frees the maps.
  void flush() {
    while (queued_ > 0)
      merge_oldest(false);
    for (size_t p = 0; p < maps_.size(); ++p) {
      for (auto& [k, v] : maps_[p])
        out_.add_fields(p, k, v);
      maps_[p].release();
    }
    mem_ = 0;
    ++flushes_;
  }

  map_output commit(const std::string& data_path, const std::string& index_path) {
    flush();
    return out_.commit(data_path, index_path);
  }

  size_t memory_bytes() const noexcept { return mem_ + out_.memory_bytes(); }
  /// Records passed to add() (before combining).
  uint64_t records_in() const noexcept { return records_in_; }
  /// How often the maps were flushed because of memory (commit's flush included).
  uint64_t flushes() const noexcept { return flushes_; }
  const write_metrics& metrics() const noexcept { return out_.metrics(); }

private:
  static constexpr bool short_string_keys = std::is_same_v<K, std::string>;
  struct no_short_key {};
  struct queued {
    K key{};
    V value{};
    uint64_t hash = 0;
    size_t partition = 0;
    [[no_unique_address]] std::conditional_t<short_string_keys, short_key, no_short_key> small{};
    bool is_small = false;
  };

  void merge_oldest(bool may_flush = true) {
    auto& q = queue_[head_];
    head_ = (head_ + 1) % queue_.size();
    --queued_;
    if constexpr (short_string_keys) {
      if (q.is_small)
        mem_ += maps_[q.partition].merge(q.small, q.hash, std::move(q.value), combine_);
      else
        mem_ += maps_[q.partition].merge(std::move(q.key), q.hash, std::move(q.value), combine_);
    } else {
      mem_ += maps_[q.partition].merge(std::move(q.key), q.hash, std::move(q.value), combine_);
    }
    if (may_flush && mem_ > limit_)
      flush();
  }

  static output_options with_limit(output_options o) {
    o.memory_limit = std::max<size_t>(o.memory_limit / 2, 1);
    return o;
  }

  size_t limit_;
  [[no_unique_address]] Combine combine_;
  Partitioner partitioner_;
  std::vector<aggregation_map<K, V>> maps_;
  partitioned_output<std::pair<K, V>> out_;
  size_t mem_ = 0;
  uint64_t records_in_ = 0;
  uint64_t flushes_ = 0;
  std::array<queued, 16> queue_{};
  size_t head_ = 0, queued_ = 0;
};

} // namespace ember::shuffle
