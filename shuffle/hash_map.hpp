// Open-addressing hash map for map-side combine and reduce-side aggregation (the word-count hot
// path). Layout: a dense vector of (key, value) entries in insertion order plus a power-of-two
// control array of {32-bit hash tag, entry index + 1} probed linearly. Growing rewrites only the
// 8-byte control words (keys and values never move on rehash), comparisons are skipped unless
// the tags match, and callers can pass a hash they already computed (the partitioner's).
// The slot is chosen from the hash's HIGH 32 bits, so a map holding one partition's keys
// (all with the same `hash % n`) still spreads them.
#pragma once

#include <cstdint>
#include <functional>
#include <type_traits>
#include <utility>
#include <vector>

#include "storage/hash.hpp"
#include "storage/serde.hpp"

namespace ember::shuffle {

template <class K, class V, class Hash = stable_hasher, class Eq = std::equal_to<>>
class hash_map {
public:
  using value_type = std::pair<K, V>;
  using iterator = typename std::vector<value_type>::iterator;
  using const_iterator = typename std::vector<value_type>::const_iterator;

  hash_map() = default;
  explicit hash_map(size_t expected, Hash hash = {}, Eq eq = {}) : hash_(hash), eq_(eq) { reserve(expected); }

  size_t size() const noexcept { return entries_.size(); }
  bool empty() const noexcept { return entries_.empty(); }

  /// Room for n entries without growing the control array.
  void reserve(size_t n) {
    entries_.reserve(n);
    size_t want = 16;
    while (want < 2 * n)
      want <<= 1;
    if (want > ctrl_.size())
      rehash(want);
  }

  uint64_t hash(const auto& key) const { return hash_(key); }

  template <class KL>
  V* find(const KL& key) {
    return find(key, hash_(key));
  }

  /// Looks key up with its precomputed hash (must be hash(key)).
  template <class KL>
  V* find(const KL& key, uint64_t h) {
    if (ctrl_.empty())
      return nullptr;
    auto tag = static_cast<uint32_t>(h >> 32);
    size_t i = tag & mask_;
    for (;;) {
      const ctrl& c = ctrl_[i];
      if (c.index == 0)
        return nullptr;
      if (c.tag == tag && eq_(entries_[c.index - 1].first, key))
        return &entries_[c.index - 1].second;
      i = (i + 1) & mask_;
    }
  }

  /// Finds key or inserts (K(key), make()). Returns the value and whether it was inserted.
  template <class KL, class MakeV>
  std::pair<V*, bool> try_emplace_with(KL&& key, uint64_t h, MakeV&& make) {
    if ((entries_.size() + 1) * 2 > ctrl_.size())
      rehash(ctrl_.empty() ? 16 : ctrl_.size() * 2);
    auto tag = static_cast<uint32_t>(h >> 32);
    size_t i = tag & mask_;
    for (;;) {
      ctrl& c = ctrl_[i];
      if (c.index == 0) {
        entries_.emplace_back(std::piecewise_construct, std::forward_as_tuple(std::forward<KL>(key)),
                              std::forward_as_tuple(make()));
        c.tag = tag;
        c.index = static_cast<uint32_t>(entries_.size());
        return {&entries_.back().second, true};
      }
      if (c.tag == tag && eq_(entries_[c.index - 1].first, key))
        return {&entries_[c.index - 1].second, false};
      i = (i + 1) & mask_;
    }
  }

  template <class KL>
  V& operator[](KL&& key) {
    uint64_t h = hash_(key);
    return *try_emplace_with(std::forward<KL>(key), h, [] { return V{}; }).first;
  }

  iterator begin() noexcept { return entries_.begin(); }
  iterator end() noexcept { return entries_.end(); }
  const_iterator begin() const noexcept { return entries_.begin(); }
  const_iterator end() const noexcept { return entries_.end(); }
  std::vector<value_type>& entries() noexcept { return entries_; }

  /// Removes all entries, keeping the memory for reuse.
  void clear() noexcept {
    entries_.clear();
    std::fill(ctrl_.begin(), ctrl_.end(), ctrl{});
  }

  /// Removes all entries and frees the memory.
  void release() noexcept {
    std::vector<value_type>().swap(entries_);
    std::vector<ctrl>().swap(ctrl_);
    mask_ = 0;
  }

  /// Bytes held by the table itself (not by heap data inside keys and values).
  size_t memory_bytes() const noexcept {
    return entries_.capacity() * sizeof(value_type) + ctrl_.capacity() * sizeof(ctrl);
  }

private:
  struct ctrl {
    uint32_t tag = 0;
    uint32_t index = 0; // entry index + 1; 0 = empty slot
  };

  void rehash(size_t slots) {
    std::vector<ctrl> next(slots);
    size_t mask = slots - 1;
    for (const ctrl& c : ctrl_) {
      if (c.index == 0)
        continue;
      size_t i = c.tag & mask;
      while (next[i].index != 0)
        i = (i + 1) & mask;
      next[i] = c;
    }
    ctrl_.swap(next);
    mask_ = mask;
  }

  std::vector<ctrl> ctrl_;
  std::vector<value_type> entries_;
  size_t mask_ = 0;
  [[no_unique_address]] Hash hash_{};
  [[no_unique_address]] Eq eq_{};
};

/// A hash_map that merges values and keeps a running estimate of its memory footprint
/// (table + heap bytes of keys and values) for spill decisions.
template <class K, class V>
class aggregation_map {
public:
  /// Merges v into key's value with merge(V& acc, V&& v), or inserts it. h = stable_hash(key).
  /// Returns by how many bytes memory_bytes() grew (values may shrink: then it wraps, which
  /// unsigned addition to a running total undoes correctly).
  template <class KL, class Merge>
  size_t merge(KL&& key, uint64_t h, V&& v, Merge& merge) {
    size_t table_before = map_.memory_bytes();
    bool inserted = false;
    V* slot = map_.try_emplace_with(std::forward<KL>(key), h, [&] {
                    inserted = true;
                    return std::move(v);
                  }).first;
    if (inserted) {
      size_t heap_added = 0;
      if constexpr (!std::is_trivially_copyable_v<K> || !std::is_trivially_copyable_v<V>)
        heap_added = heap_size_estimate(map_.entries().back().first) + heap_size_estimate(*slot);
      heap_ += heap_added;
      return map_.memory_bytes() - table_before + heap_added;
    }
    if constexpr (std::is_trivially_copyable_v<V>) {
      merge(*slot, std::move(v));
      return 0;
    } else {
      size_t before = heap_size_estimate(*slot);
      merge(*slot, std::move(v));
      size_t delta = heap_size_estimate(*slot) - before;
      heap_ += delta;
      return delta;
    }
  }

  size_t memory_bytes() const noexcept { return map_.memory_bytes() + heap_; }
  size_t size() const noexcept { return map_.size(); }
  bool empty() const noexcept { return map_.empty(); }
  auto begin() noexcept { return map_.begin(); }
  auto end() noexcept { return map_.end(); }
  hash_map<K, V>& table() noexcept { return map_; }
  void release() noexcept {
    map_.release();
    heap_ = 0;
  }

private:
  hash_map<K, V> map_;
  size_t heap_ = 0;
};

} // namespace ember::shuffle
