// The reduce side's out-of-core building blocks: aggregation (reduce_by_key, group_by_key,
// aggregate_by_key, distinct) and sorting (sort_by_key) that spill to disk instead of exceeding
// the task's memory budget. Used by the task runner on executor task threads; plain C++.
//
// external_aggregator: an open-addressing map merging values; when over budget its contents are
//   grace-hashed into B bucket files by stable_hash(key, depth + 1) % B (a different seed from the
//   partitioner's, or every key of a reduce partition would land in one bucket). for_each then
//   aggregates each bucket with a fresh aggregator one level deeper, which may partition again,
//   up to max_depth levels.
// external_sorter: sorted runs of <= memory_limit bytes spilled as files, then a k-way heap merge
//   (at most max_merge_width runs at once; earlier runs are pre-merged). Ties are broken by run
//   order and runs are stably sorted, so equal keys come out in insertion order.
// All spill files are data + index files in the shuffle format (shuffle_file.hpp), owned by
// RAII handles: they are deleted when consumed, on destruction, and when an exception unwinds.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "shuffle/hash_map.hpp"
#include "shuffle/shuffle_file.hpp"
#include "storage/hash.hpp"
#include "storage/serde.hpp"

namespace ember::shuffle {

struct external_options {
  std::string spill_dir = "/tmp";
  size_t memory_limit = size_t{64} << 20;
  shuffle::codec codec = codec::lz4;
  size_t block_size = default_block_size;
  /// Grace-hash fan-out per spill level (external_aggregator).
  size_t num_buckets = 16;
  /// Levels of re-partitioning before giving up (external_aggregator).
  size_t max_depth = 4;
  /// Runs merged at once (external_sorter); more are pre-merged first.
  size_t max_merge_width = 64;
};

struct external_metrics {
  uint64_t spill_count = 0;     // spill files written
  uint64_t spill_bytes = 0;     // framed bytes written to them
  uint64_t records_spilled = 0; // records written to them
  uint64_t max_depth = 0;       // deepest re-partitioning level used (aggregator)

  void add(const external_metrics& o) {
    spill_count += o.spill_count;
    spill_bytes += o.spill_bytes;
    records_spilled += o.records_spilled;
    max_depth = std::max(max_depth, o.max_depth);
  }
};

// -- external_aggregator -----------------------------------------------------------

template <class K, class V, class Merge>
class external_aggregator {
public:
  explicit external_aggregator(external_options opts, Merge merge = {}, size_t depth = 0)
    : opts_(std::move(opts)), merge_(std::move(merge)), depth_(depth) {
    if (opts_.num_buckets < 2)
      opts_.num_buckets = 2;
    metrics_.max_depth = depth_;
  }

  /// Merges value into key's aggregate with merge(V& acc, V&& v). KL: K or a type that hashes
  /// and compares like K (std::string_view for std::string).
  template <class KL>
  void insert(KL&& key, V&& value) {
    uint64_t h = stable_hash(key);
    map_.merge(std::forward<KL>(key), h, std::move(value), merge_);
    if (map_.memory_bytes() > opts_.memory_limit)
      spill(false);
  }

  void insert(const K& key, const V& value) { insert(key, V(value)); }

  /// Calls fn(const K&, V&) once per distinct key with its fully merged value, then empties the
  /// aggregator (and deletes its spill files).
  template <class F>
  void for_each(F&& fn) {
    if (spills_.empty()) {
      for (auto& [k, v] : map_)
        fn(static_cast<const K&>(k), v);
      map_.release();
      return;
    }
    if (!map_.empty())
      spill(true); // keys in memory may also be in the spill files
    std::vector<temp_shuffle_file> spills = std::move(spills_);
    spills_.clear();
    for (size_t b = 0; b < opts_.num_buckets; ++b) {
      external_aggregator child(opts_, merge_, depth_ + 1);
      for (auto& s : spills) {
        shuffle_file_reader r(s.data.path(), s.index.path());
        r.for_each_block(b, [&](std::string_view raw) {
          byte_reader in(raw);
          while (!in.at_end()) {
            K k{};
            V v{};
            deserialize(in, k);
            deserialize(in, v);
            child.insert(std::move(k), std::move(v));
          }
        });
      }
      child.for_each(fn);
      metrics_.add(child.metrics());
    }
  }

  size_t memory_bytes() const noexcept { return map_.memory_bytes(); }
  const external_metrics& metrics() const noexcept { return metrics_; }

private:
  void spill(bool final_spill) {
    size_t mem = map_.memory_bytes();
    if (!final_spill && map_.size() <= 1)
      throw std::runtime_error("external_aggregator: the aggregate of a single key needs ~" +
                               std::to_string(mem) + " bytes, more than the memory limit of " +
                               std::to_string(opts_.memory_limit) +
                               " bytes; one key's data must fit in memory");
    if (!final_spill && depth_ >= opts_.max_depth)
      throw std::runtime_error("external_aggregator: still over the memory limit of " +
                               std::to_string(opts_.memory_limit) + " bytes after " +
                               std::to_string(opts_.max_depth) + " levels of re-partitioning (" +
                               std::to_string(map_.size()) + " keys, ~" + std::to_string(mem) +
                               " bytes); raise the memory limit or the number of buckets");
    std::vector<std::pair<K, V>*> entries;
    entries.reserve(map_.size());
    for (auto& kv : map_)
      entries.push_back(&kv);
    size_t nb = opts_.num_buckets;
    // Counting sort of the entries by bucket: the writer wants buckets in order.
    std::vector<uint32_t> bucket(entries.size());
    std::vector<size_t> start(nb + 1, 0);
    for (size_t i = 0; i < entries.size(); ++i) {
      bucket[i] = static_cast<uint32_t>(stable_hash(entries[i]->first, depth_ + 1) % nb);
      ++start[bucket[i] + 1];
    }
    for (size_t b = 0; b < nb; ++b)
      start[b + 1] += start[b];
    std::vector<uint32_t> order(entries.size());
    for (size_t i = 0; i < entries.size(); ++i)
      order[start[bucket[i]]++] = static_cast<uint32_t>(i);

    temp_shuffle_file f = temp_shuffle_file::create(opts_.spill_dir, "ember-agg");
    shuffle_file_writer w(f.data.path(), f.index.path(), nb, opts_.codec, opts_.block_size);
    byte_writer scratch;
    for (uint32_t i : order) {
      scratch.clear();
      serialize(scratch, entries[i]->first);
      serialize(scratch, entries[i]->second);
      w.write(bucket[i], scratch.data(), scratch.size());
    }
    w.commit();
    metrics_.spill_count += 1;
    metrics_.spill_bytes += w.bytes_written();
    metrics_.records_spilled += entries.size();
    map_.release();
    spills_.push_back(std::move(f));
  }

  external_options opts_;
  [[no_unique_address]] Merge merge_;
  size_t depth_;
  aggregation_map<K, V> map_;
  std::vector<temp_shuffle_file> spills_;
  external_metrics metrics_;
};

// -- external_sorter -------------------------------------------------------------------

template <class T, class Less = std::less<>>
class external_sorter {
public:
  explicit external_sorter(external_options opts, Less less = {}) : opts_(std::move(opts)), less_(std::move(less)) {
    if (opts_.max_merge_width < 2)
      opts_.max_merge_width = 2;
  }

  void add(T&& x) {
    mem_ += size_estimate(x);
    buf_.push_back(std::move(x));
    if (mem_ > opts_.memory_limit)
      spill_run();
  }
  void add(const T& x) { add(T(x)); }

  /// Takes a run sorted elsewhere (partition 0 of `f`: serialized T in Less order, equal
  /// records in insertion order); it counts as spilled and comes after the runs already held.
  void add_sorted_run(temp_shuffle_file f, uint64_t records, uint64_t bytes) {
    metrics_.spill_count += 1;
    metrics_.spill_bytes += bytes;
    metrics_.records_spilled += records;
    runs_.push_back(std::move(f));
  }

  /// Estimated bytes buffered: sum of size_estimate of the records (vector slack not counted).
  size_t memory_bytes() const noexcept { return mem_; }
  const external_metrics& metrics() const noexcept { return metrics_; }
  size_t run_count() const noexcept { return runs_.size(); }

  /// Calls fn(T&&) for every record in Less order (equal records in insertion order), then
  /// empties the sorter and deletes its run files.
  template <class F>
  void for_each(F&& fn) {
    std::stable_sort(buf_.begin(), buf_.end(), less_);
    if (runs_.empty()) {
      for (auto& x : buf_)
        fn(std::move(x));
    } else {
      // Pre-merge the oldest runs until one final merge suffices (order of runs is kept).
      while (runs_.size() + 1 > opts_.max_merge_width) {
        size_t width = std::min(opts_.max_merge_width, runs_.size());
        temp_shuffle_file f = temp_shuffle_file::create(opts_.spill_dir, "ember-run");
        shuffle_file_writer w(f.data.path(), f.index.path(), 1, opts_.codec, opts_.block_size);
        byte_writer scratch;
        std::vector<run_source> srcs = open_runs(0, width);
        merge(srcs, nullptr, [&](T&& x) {
          scratch.clear();
          serialize(scratch, x);
          w.write(0, scratch.data(), scratch.size());
        });
        srcs.clear();
        w.commit();
        runs_.erase(runs_.begin(), runs_.begin() + static_cast<std::ptrdiff_t>(width));
        runs_.insert(runs_.begin(), std::move(f));
      }
      std::vector<run_source> srcs = open_runs(0, runs_.size());
      merge(srcs, &buf_, fn);
    }
    buf_.clear();
    mem_ = 0;
    runs_.clear();
  }

private:
  struct run_source {
    std::unique_ptr<shuffle_file_reader> reader;
    std::optional<partition_cursor> cursor;
    byte_reader in;

    bool next(T& out) {
      while (in.at_end()) {
        std::string_view raw;
        if (!cursor->next(raw))
          return false;
        in = byte_reader(raw);
      }
      deserialize(in, out);
      return true;
    }
  };

  std::vector<run_source> open_runs(size_t from, size_t to) {
    std::vector<run_source> srcs(to - from);
    for (size_t i = from; i < to; ++i) {
      auto& s = srcs[i - from];
      s.reader = std::make_unique<shuffle_file_reader>(runs_[i].data.path(), runs_[i].index.path());
      s.cursor.emplace(s.reader->open_partition(0));
    }
    return srcs;
  }

  /// Heap merge of the runs and (optionally, as the last source) the sorted in-memory records.
  template <class Sink>
  void merge(std::vector<run_source>& runs, std::vector<T>* mem, Sink&& sink) {
    size_t k = runs.size() + (mem != nullptr ? 1 : 0);
    std::vector<T> heads(k);
    size_t mem_pos = 0;
    auto pull = [&](size_t s) -> bool {
      if (s < runs.size())
        return runs[s].next(heads[s]);
      if (mem_pos < mem->size()) {
        heads[s] = std::move((*mem)[mem_pos++]);
        return true;
      }
      return false;
    };
    auto before = [&](uint32_t a, uint32_t b) {
      if (less_(heads[a], heads[b]))
        return true;
      if (less_(heads[b], heads[a]))
        return false;
      return a < b;
    };
    std::vector<uint32_t> heap;
    heap.reserve(k);
    for (size_t s = 0; s < k; ++s)
      if (pull(s))
        heap.push_back(static_cast<uint32_t>(s));
    auto sift_down = [&](size_t i) {
      size_t n = heap.size();
      uint32_t x = heap[i];
      for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
          break;
        if (c + 1 < n && before(heap[c + 1], heap[c]))
          ++c;
        if (!before(heap[c], x))
          break;
        heap[i] = heap[c];
        i = c;
      }
      heap[i] = x;
    };
    for (size_t i = heap.size() / 2; i-- > 0;)
      sift_down(i);
    while (!heap.empty()) {
      uint32_t s = heap[0];
      sink(std::move(heads[s]));
      if (!pull(s)) {
        heap[0] = heap.back();
        heap.pop_back();
        if (heap.empty())
          break;
      }
      sift_down(0);
    }
  }

  void spill_run() {
    std::stable_sort(buf_.begin(), buf_.end(), less_);
    temp_shuffle_file f = temp_shuffle_file::create(opts_.spill_dir, "ember-run");
    shuffle_file_writer w(f.data.path(), f.index.path(), 1, opts_.codec, opts_.block_size);
    byte_writer scratch;
    for (const T& x : buf_) {
      scratch.clear();
      serialize(scratch, x);
      w.write(0, scratch.data(), scratch.size());
    }
    w.commit();
    metrics_.spill_count += 1;
    metrics_.spill_bytes += w.bytes_written();
    metrics_.records_spilled += buf_.size();
    buf_.clear();
    mem_ = 0;
    runs_.push_back(std::move(f));
  }

  external_options opts_;
  [[no_unique_address]] Less less_;
  std::vector<T> buf_;
  size_t mem_ = 0;
  std::vector<temp_shuffle_file> runs_;
  external_metrics metrics_;
};

} // namespace ember::shuffle
