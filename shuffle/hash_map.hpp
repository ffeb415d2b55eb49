// Open-addressing hash map for map-side combine and reduce-side aggregation (the word-count hot
// path). Each slot holds the hash tag and the (key, value) pair itself, probed linearly, so a
// lookup that hits touches one slot: with the keys in a separate array (an earlier layout) every
// word cost two cache misses, which profiling showed as most of word count's time. Growing moves
// the pairs (cheap for strings). Callers can pass a hash they already computed (the
// partitioner's). The slot is chosen from the hash's HIGH 32 bits, so a map holding one
// partition's keys (all with the same `hash % n`) still spreads them. Iteration order is
// unspecified.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <new>
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

private:
  struct slot {
    uint32_t tag = 0; // high 32 bits of the hash, | 1; 0 = empty
    alignas(value_type) unsigned char storage[sizeof(value_type)];
    value_type& kv() noexcept { return *std::launder(reinterpret_cast<value_type*>(storage)); }
    const value_type& kv() const noexcept { return *std::launder(reinterpret_cast<const value_type*>(storage)); }
  };

  template <class Slot, class Value>
  class basic_iterator {
  public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Value;
    using difference_type = std::ptrdiff_t;
    using pointer = Value*;
    using reference = Value&;
    basic_iterator(Slot* p, Slot* end) : p_(p), end_(end) { skip(); }
    reference operator*() const { return p_->kv(); }
    pointer operator->() const { return &p_->kv(); }
    basic_iterator& operator++() {
      ++p_;
      skip();
      return *this;
    }
    bool operator==(const basic_iterator& o) const { return p_ == o.p_; }

  private:
    void skip() {
      while (p_ != end_ && p_->tag == 0)
        ++p_;
    }
    Slot* p_;
    Slot* end_;
  };

public:
  using iterator = basic_iterator<slot, value_type>;
  using const_iterator = basic_iterator<const slot, const value_type>;

  hash_map() = default;
  explicit hash_map(size_t expected, Hash hash = {}, Eq eq = {}) : hash_(hash), eq_(eq) { reserve(expected); }
  hash_map(const hash_map&) = delete;
  hash_map& operator=(const hash_map&) = delete;
  hash_map(hash_map&& o) noexcept
    : slots_(std::move(o.slots_)), size_(std::exchange(o.size_, 0)), mask_(std::exchange(o.mask_, 0)),
      hash_(o.hash_), eq_(o.eq_) {}
  hash_map& operator=(hash_map&& o) noexcept {
    if (this != &o) {
      destroy_all();
      slots_ = std::move(o.slots_);
      size_ = std::exchange(o.size_, 0);
      mask_ = std::exchange(o.mask_, 0);
    }
    return *this;
  }
  ~hash_map() { destroy_all(); }

  size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

  /// Room for n entries without growing.
  void reserve(size_t n) {
    size_t want = 16;
    while (want < 2 * n)
      want <<= 1;
    if (want > slots_.size())
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
    if (slots_.empty())
      return nullptr;
    uint32_t tag = tag_of(h);
    for (size_t i = tag & mask_;; i = (i + 1) & mask_) {
      slot& s = slots_[i];
      if (s.tag == 0)
        return nullptr;
      if (s.tag == tag && eq_(s.kv().first, key))
        return &s.kv().second;
    }
  }

  /// Starts loading the slot where a key with hash h would be (see combining_output).
  void prefetch(uint64_t h) const noexcept {
    if (!slots_.empty())
      __builtin_prefetch(&slots_[tag_of(h) & mask_]);
  }

  /// Finds key or inserts (K(key), make()). Returns the entry and whether it was inserted.
  template <class KL, class MakeV>
  std::pair<value_type*, bool> try_emplace_with(KL&& key, uint64_t h, MakeV&& make) {
    if ((size_ + 1) * 2 > slots_.size())
      rehash(slots_.empty() ? 16 : slots_.size() * 2);
    uint32_t tag = tag_of(h);
    for (size_t i = tag & mask_;; i = (i + 1) & mask_) {
      slot& s = slots_[i];
      if (s.tag == 0) {
        ::new (static_cast<void*>(s.storage))
          value_type(std::piecewise_construct, std::forward_as_tuple(std::forward<KL>(key)), std::forward_as_tuple(make()));
        s.tag = tag;
        ++size_;
        return {&s.kv(), true};
      }
      if (s.tag == tag && eq_(s.kv().first, key))
        return {&s.kv(), false};
    }
  }

  template <class KL>
  V& operator[](KL&& key) {
    uint64_t h = hash_(key);
    return try_emplace_with(std::forward<KL>(key), h, [] { return V{}; }).first->second;
  }

  iterator begin() noexcept { return {slots_.data(), slots_.data() + slots_.size()}; }
  iterator end() noexcept { return {slots_.data() + slots_.size(), slots_.data() + slots_.size()}; }
  const_iterator begin() const noexcept { return {slots_.data(), slots_.data() + slots_.size()}; }
  const_iterator end() const noexcept { return {slots_.data() + slots_.size(), slots_.data() + slots_.size()}; }

  /// Removes all entries, keeping the memory for reuse.
  void clear() noexcept { destroy_all(); }

  /// Removes all entries and frees the memory.
  void release() noexcept {
    destroy_all();
    std::vector<slot>().swap(slots_);
    mask_ = 0;
  }

  /// Bytes held by the table itself (not by heap data inside keys and values).
  size_t memory_bytes() const noexcept { return slots_.capacity() * sizeof(slot); }

private:
  static uint32_t tag_of(uint64_t h) noexcept { return static_cast<uint32_t>(h >> 32) | 1u; }

  void destroy_all() noexcept {
    for (auto& s : slots_)
      if (s.tag != 0) {
        s.kv().~value_type();
        s.tag = 0;
      }
    size_ = 0;
  }

  void rehash(size_t n) {
    std::vector<slot> next(n);
    size_t mask = n - 1;
    for (auto& s : slots_) {
      if (s.tag == 0)
        continue;
      size_t i = s.tag & mask;
      while (next[i].tag != 0)
        i = (i + 1) & mask;
      ::new (static_cast<void*>(next[i].storage)) value_type(std::move(s.kv()));
      next[i].tag = s.tag;
      s.kv().~value_type();
      s.tag = 0;
    }
    slots_.swap(next);
    mask_ = mask;
  }

  std::vector<slot> slots_;
  size_t size_ = 0;
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
    auto* entry = map_.try_emplace_with(std::forward<KL>(key), h, [&] {
                        inserted = true;
                        return std::move(v);
                      }).first;
    V* slot = &entry->second;
    if (inserted) {
      size_t heap_added = 0;
      if constexpr (!std::is_trivially_copyable_v<K> || !std::is_trivially_copyable_v<V>)
        heap_added = heap_size_estimate(entry->first) + heap_size_estimate(*slot);
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

  void prefetch(uint64_t h) const noexcept { map_.prefetch(h); }
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
