// Open-addressing hash map for map-side combine and reduce-side aggregation (the word-count hot
// path). Each slot holds the hash tag and the (key, value) pair itself, probed linearly, so a
// lookup that hits touches one slot: with the keys in a separate array (an earlier layout) every
// word cost two cache misses, which profiling showed as most of word count's time. Growing moves
// the pairs (cheap for strings). Callers can pass a hash they already computed (the
// partitioner's). The slot is chosen from the hash's HIGH 32 bits, so a map holding one
// partition's keys (all with the same `hash % n`) still spreads them. Iteration order is
// unspecified. String keys compare short values inline (key_equal) and can be looked up by a
// short_key copy, so the map-side combine builds a std::string only for a key that is new.
#pragma once

#include <sys/mman.h>

#include <bit>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "storage/hash.hpp"
#include "storage/serde.hpp"

namespace ember::shuffle {

/// A string of at most 15 bytes held by value in a 16-byte buffer, all 16 bytes readable: the
/// map-side combine's copy of a word while its slot is prefetched. A std::string key is built
/// from it only when the key is new (heterogeneous insert).
struct short_key {
  static constexpr size_t max_size = 15;
  char bytes[16];
  uint8_t size = 0;
  std::string_view view() const noexcept { return {bytes, size}; }
  operator std::string_view() const noexcept { return view(); }
  /// Copies s (size <= max_size). A std::string's buffer always holds at least 16 bytes
  /// (libstdc++'s small-string buffer, or a heap block of capacity > 15), so those copy 16 fixed
  /// bytes: no library call.
  static short_key of(const std::string& s) noexcept {
    short_key k;
    if (s.capacity() >= max_size)
      std::memcpy(k.bytes, s.data(), 16);
    else
      std::memcpy(k.bytes, s.data(), s.size());
    k.size = static_cast<uint8_t>(s.size());
    return k;
  }
  static short_key of(std::string_view s) noexcept {
    short_key k;
    std::memcpy(k.bytes, s.data(), s.size());
    k.size = static_cast<uint8_t>(s.size());
    return k;
  }
};

namespace detail {

/// First n (< 16) bytes of a and b equal; both must have 16 readable bytes. Branch-free: word
/// lengths vary from one lookup to the next, and a branch on n < 8 mispredicted.
inline bool equal_prefix16(const char* a, const char* b, size_t n) noexcept {
  if constexpr (std::endian::native != std::endian::little) {
    return std::memcmp(a, b, n) == 0;
  } else {
    uint64_t a0, a1, b0, b1;
    std::memcpy(&a0, a, 8);
    std::memcpy(&a1, a + 8, 8);
    std::memcpy(&b0, b, 8);
    std::memcpy(&b1, b + 8, 8);
    // n == 0 masks everything: empty strings are equal.
    uint64_t m0 = n >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * (n & 7))) - 1;
    uint64_t m1 = n >= 8 ? (uint64_t{1} << (8 * (n & 7))) - 1 : 0;
    return (((a0 ^ b0) & m0) | ((a1 ^ b1) & m1)) == 0;
  }
}

} // namespace detail

/// Allocator for hash tables: arrays of 2 MiB and more are 2 MiB-aligned and advised to use
/// transparent huge pages (the kernel here only gives them on request). A word count's tables
/// (2 x 6 MiB per map task) are probed at random; with 4 KiB pages most probes of rare words
/// also missed the TLB, and the slot prefetch stalled on the page walk.
template <class T>
struct table_allocator {
  using value_type = T;
  static constexpr size_t huge = size_t{2} << 20;
  table_allocator() = default;
  template <class U> table_allocator(const table_allocator<U>&) noexcept {}
  T* allocate(size_t n) {
    size_t bytes = n * sizeof(T);
    if (bytes < huge)
      return static_cast<T*>(::operator new(bytes, std::align_val_t{alignof(T)}));
    size_t rounded = (bytes + huge - 1) / huge * huge;
    void* p = std::aligned_alloc(huge, rounded);
    if (!p)
      throw std::bad_alloc();
    ::madvise(p, rounded, MADV_HUGEPAGE); // advice only: without THP the table uses small pages
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) noexcept {
    if (n * sizeof(T) < huge)
      ::operator delete(p, std::align_val_t{alignof(T)});
    else
      std::free(p);
  }
  template <class U> bool operator==(const table_allocator<U>&) const noexcept { return true; }
};

/// Transparent equality: std::equal_to<>, plus inline comparisons of short strings.
struct key_equal {
  template <class A, class B>
  bool operator()(const A& a, const B& b) const {
    if constexpr (std::is_same_v<A, std::string> && std::is_same_v<B, short_key>) {
      // a's buffer holds >= 16 bytes (see short_key::of), b's always does.
      return a.size() == b.size && (a.capacity() >= short_key::max_size
                                      ? detail::equal_prefix16(a.data(), b.bytes, b.size)
                                      : std::memcmp(a.data(), b.bytes, b.size) == 0);
    } else if constexpr (std::is_same_v<B, short_key>) {
      return a == b.view();
    } else {
      return std::equal_to<>{}(a, b);
    }
  }
};

template <class K, class V, class Hash = stable_hasher, class Eq = key_equal>
class hash_map {
public:
  using value_type = std::pair<K, V>;

private:
  struct slot {
    // Only the tag is initialized: a new table is not zero-filled (a word count's tables grow
    // from 16 slots to 2^17, and the fill was a tenth of a small input's instructions).
    slot() noexcept : tag(0) {}
    uint32_t tag; // high 32 bits of the hash, | 1; 0 = empty
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
    for (size_t i = home(tag) & mask_;; i = (i + 1) & mask_) {
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
      __builtin_prefetch(&slots_[home(tag_of(h)) & mask_]);
  }

  /// Finds key or inserts (K(key), make()). Returns the entry and whether it was inserted.
  template <class KL, class MakeV>
  std::pair<value_type*, bool> try_emplace_with(KL&& key, uint64_t h, MakeV&& make) {
    if ((size_ + 1) * 2 > slots_.size())
      rehash(slots_.empty() ? 16 : slots_.size() * 2);
    uint32_t tag = tag_of(h);
    for (size_t i = home(tag) & mask_;; i = (i + 1) & mask_) {
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
    std::vector<slot, table_allocator<slot>>().swap(slots_);
    mask_ = 0;
  }

  /// Bytes held by the table itself (not by heap data inside keys and values).
  size_t memory_bytes() const noexcept { return slots_.capacity() * sizeof(slot); }

private:
  static uint32_t tag_of(uint64_t h) noexcept { return static_cast<uint32_t>(h >> 32) | 1u; }
  // The home slot comes from the tag's bits above bit 0: bit 0 is forced to 1 (0 = empty), and
  // indexing with it put every key's home on an odd slot, half of the table, so probes ran long.
  static size_t home(uint32_t tag) noexcept { return tag >> 1; }

  void destroy_all() noexcept {
    for (auto& s : slots_)
      if (s.tag != 0) {
        s.kv().~value_type();
        s.tag = 0;
      }
    size_ = 0;
  }

  void rehash(size_t n) {
    std::vector<slot, table_allocator<slot>> next(n);
    size_t mask = n - 1;
    for (auto& s : slots_) {
      if (s.tag == 0)
        continue;
      size_t i = home(s.tag) & mask;
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

  std::vector<slot, table_allocator<slot>> slots_;
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
