// The reduce side of sort_by_key for keys with an order-preserving 64-bit prefix (integers,
// std::string, std::array of 1-byte elements): shuffled blocks are appended as they arrive to one
// arena of serialized (K, V) records, and only 16-byte {prefix, offset} entries are sorted (full
// keys are compared in place on equal prefixes); records are deserialized once, in sorted order.
// Over the memory budget the sorted entries' records are spilled as a run and the runs are merged
// by external_sorter. Equal keys keep their insertion order. Plain C++, used by api/wide.hpp.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <sys/mman.h>

#include "shuffle/external.hpp"
#include "storage/serde.hpp"

namespace ember::shuffle {

// -- sort_key: an order-preserving prefix of a serialized key -------------------------------

/// sort_key<K>::supported says whether K has a prefix; prefix(r) reads one serialized K from r and
/// returns a u64 whose unsigned order agrees with K's operator< (a < b implies prefix(a) <=
/// prefix(b)); exact says equal prefixes mean equal keys; compare(a, b) three-way-compares two
/// serialized keys (only needed when !exact).
template <class K>
struct sort_key {
  static constexpr bool supported = false;
};

namespace detail {
/// Big-endian u64 of up to 8 bytes (missing bytes are 0), each byte flipped by `flip` first.
inline uint64_t prefix_bytes(const char* p, size_t n, uint8_t flip) noexcept {
  uint64_t v = 0;
  if (n >= 8) {
    std::memcpy(&v, p, 8);
    v = __builtin_bswap64(v);
    return flip ? v ^ 0x8080808080808080ull : v;
  }
  for (size_t i = 0; i < 8; ++i)
    v = (v << 8) | (i < n ? static_cast<uint8_t>(static_cast<uint8_t>(p[i]) ^ flip) : 0u);
  return v;
}
} // namespace detail

template <class K>
  requires(std::is_integral_v<K> && !std::is_same_v<K, bool>)
struct sort_key<K> {
  static constexpr bool supported = true;
  static constexpr bool exact = true;
  static uint64_t prefix(byte_reader& r) {
    K k;
    deserialize(r, k);
    if constexpr (std::is_signed_v<K>)
      return static_cast<uint64_t>(static_cast<int64_t>(k)) ^ (uint64_t{1} << 63);
    else
      return static_cast<uint64_t>(k);
  }
  static int compare(byte_reader&, byte_reader&) { return 0; }
};

/// std::array<char|signed char|unsigned char, N>: N raw bytes; operator< compares elements as
/// their own (possibly signed) type, hence the flip of the sign bit for signed elements.
template <class E, size_t N>
  requires(sizeof(E) == 1 && std::is_integral_v<E> && !std::is_same_v<E, bool>)
struct sort_key<std::array<E, N>> {
  static constexpr bool supported = true;
  static constexpr bool exact = N <= 8;
  static constexpr uint8_t flip = std::is_signed_v<E> ? 0x80 : 0;
  static uint64_t prefix(byte_reader& r) { return detail::prefix_bytes(r.take(N), N, flip); }
  static int compare(byte_reader& a, byte_reader& b) {
    const char* x = a.take(N);
    const char* y = b.take(N);
    for (size_t i = 0; i < N; ++i)
      if (x[i] != y[i])
        return static_cast<E>(x[i]) < static_cast<E>(y[i]) ? -1 : 1;
    return 0;
  }
};

/// std::string: varint length + bytes; operator< compares bytes as unsigned char.
template <>
struct sort_key<std::string> {
  static constexpr bool supported = true;
  static constexpr bool exact = false;
  static std::string_view view(byte_reader& r) {
    size_t n = r.get_varint();
    return {r.take(n), n};
  }
  static uint64_t prefix(byte_reader& r) {
    auto s = view(r);
    return detail::prefix_bytes(s.data(), s.size(), 0);
  }
  static int compare(byte_reader& a, byte_reader& b) {
    int c = view(a).compare(view(b));
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
};

// -- sort_arena: the records' bytes ------------------------------------------------------------

/// Anonymous memory grown with mremap and backed by transparent huge pages where the kernel
/// allows: the sorted gather reads records at random offsets, and with 4 KiB pages nearly every
/// read was a TLB miss as well as a cache miss (a quarter of terasort's reduce time).
/// release() keeps the memory (up to max_spare) as the calling thread's spare, which the thread's
/// next sort takes: executor task threads are pooled, and fresh pages cost the kernel a zeroing
/// pass (11 % of terasort's samples). At most one spare per thread; it is freed with the thread.
class sort_arena {
public:
  static constexpr size_t max_spare = size_t{256} << 20;

  sort_arena() = default;
  sort_arena(sort_arena&& o) noexcept { swap(o); }
  sort_arena& operator=(sort_arena&&) = delete;
  sort_arena(const sort_arena&) = delete;
  sort_arena& operator=(const sort_arena&) = delete;
  ~sort_arena() { unmap(); }

  /// The calling thread's spare arena (empty if there is none).
  static sort_arena take_spare() noexcept {
    sort_arena a;
    a.swap(spare());
    return a;
  }

  void reserve(size_t n) {
    if (n <= cap_)
      return;
    constexpr size_t huge = size_t{2} << 20;
    size_t cap = (n + huge - 1) / huge * huge;
    void* p = data_ ? ::mremap(data_, cap_, cap, MREMAP_MAYMOVE)
                    : ::mmap(nullptr, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
      throw std::bad_alloc();
    ::madvise(p, cap, MADV_HUGEPAGE); // advice only: without THP the arena just uses small pages
    data_ = static_cast<char*>(p);
    cap_ = cap;
  }
  char* extend(size_t n) {
    if (cap_ - size_ < n)
      reserve(std::max(size_ + n, cap_ * 2));
    char* p = data_ + size_;
    size_ += n;
    return p;
  }
  const char* data() const noexcept { return data_; }
  size_t size() const noexcept { return size_; }
  void clear() noexcept { size_ = 0; }
  /// Empties the arena; its memory becomes the thread's spare if small enough and none is kept.
  void release() noexcept {
    sort_arena& s = spare();
    size_ = 0;
    if (this != &s && data_ != nullptr && cap_ <= max_spare && s.data_ == nullptr)
      swap(s);
    unmap();
  }

private:
  static sort_arena& spare() noexcept {
    thread_local sort_arena s;
    return s;
  }
  void swap(sort_arena& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    std::swap(cap_, o.cap_);
  }
  void unmap() noexcept {
    if (data_ != nullptr)
      ::munmap(data_, cap_);
    data_ = nullptr;
    size_ = cap_ = 0;
  }

  char* data_ = nullptr;
  size_t size_ = 0, cap_ = 0;
};

// -- serialized_sorter -------------------------------------------------------------------------

/// Orders pairs by key (ascending or descending), for merging spilled runs.
struct pair_key_order {
  bool ascending = true;
  template <class P>
  bool operator()(const P& a, const P& b) const {
    return ascending ? a.first < b.first : b.first < a.first;
  }
};

template <class K, class V>
  requires sort_key<K>::supported
class serialized_sorter {
public:
  using record = std::pair<K, V>;

  serialized_sorter(external_options opts, bool ascending)
    : opts_(opts), ascending_(ascending), arena_(sort_arena::take_spare()),
      spilled_(std::move(opts), pair_key_order{ascending}) {}

  /// Room for `bytes` of serialized records (e.g. the sizes the map statuses announce).
  void reserve(size_t bytes) {
    size_t want = std::min(bytes, opts_.memory_limit);
    arena_.reserve(want);
    entries_.reserve(want / 64);
  }

  /// Appends a block of whole serialized records (std::pair<K, V> wire form).
  void add_block(std::string_view block) {
    if (block.empty())
      return;
    size_t base = arena_.size();
    char* dst = arena_.extend(block.size());
    std::memcpy(dst, block.data(), block.size());
    byte_reader r{dst, block.size()};
    while (!r.at_end()) {
      uint64_t pos = base + r.offset();
      uint64_t prefix = sort_key<K>::prefix(r);
      skip<V>(r);
      entries_.push_back({ascending_ ? prefix : ~prefix, pos});
      ++records_added_;
    }
    // Entries count twice: the radix sort needs a second array of them.
    if (arena_.size() + 2 * entries_.size() * sizeof(entry) > opts_.memory_limit)
      spill_run();
  }

  /// Records added so far (spilled or not).
  uint64_t records_added() const noexcept { return records_added_; }
  /// Records buffered in memory (not spilled).
  size_t size() const noexcept { return entries_.size(); }
  const external_metrics& metrics() const noexcept { return spilled_.metrics(); }

  /// Calls fn(std::pair<K, V>&&) for every record in key order (equal keys in insertion order),
  /// then empties the sorter.
  template <class F>
  void for_each(F&& fn) {
    if (spilled_.run_count() > 0) {
      if (!entries_.empty())
        spill_run();
      spilled_.for_each(fn);
      return;
    }
    sort_entries();
    const char* base = arena_.data();
    size_t end = arena_.size();
    constexpr size_t ahead = 12; // records in flight: each read is a cache miss
    for (size_t i = 0, n = entries_.size(); i < n; ++i) {
      const entry& e = entries_[i];
      if (i + ahead < n) {
        const char* next = base + entries_[i + ahead].pos;
        __builtin_prefetch(next);
        __builtin_prefetch(next + 64);
      }
      byte_reader r{base + e.pos, end - e.pos};
      record x;
      deserialize(r, x);
      fn(std::move(x));
    }
    entries_.clear();
    entries_.shrink_to_fit();
    arena_.release();
  }

private:
  struct entry {
    uint64_t prefix; // ~prefix when descending, so ascending entry order is the wanted order
    uint64_t pos;    // offset of the record in arena_ (insertion order breaks ties)
  };

  /// Entries by prefix, then (inexact keys) full key, then position. A stable LSD radix sort on
  /// the prefix (entries arrive in position order), then std::sort of each run of equal prefixes.
  void sort_entries() {
    const char* base = arena_.data();
    size_t end = arena_.size();
    bool asc = ascending_;
    auto less = [&](const entry& a, const entry& b) {
      if (a.prefix != b.prefix)
        return a.prefix < b.prefix;
      if constexpr (!sort_key<K>::exact) {
        byte_reader ra{base + a.pos, end - a.pos}, rb{base + b.pos, end - b.pos};
        int c = sort_key<K>::compare(ra, rb);
        if (c != 0)
          return asc ? c < 0 : c > 0;
      }
      return a.pos < b.pos;
    };
    if (entries_.size() < 1024 || entries_.size() > UINT32_MAX) {
      std::sort(entries_.begin(), entries_.end(), less);
      return;
    }
    radix_sort_by_prefix();
    if constexpr (!sort_key<K>::exact) {
      for (size_t i = 0, n = entries_.size(); i < n;) {
        size_t j = i + 1;
        while (j < n && entries_[j].prefix == entries_[i].prefix)
          ++j;
        if (j - i > 1)
          std::sort(entries_.begin() + static_cast<std::ptrdiff_t>(i), entries_.begin() + static_cast<std::ptrdiff_t>(j), less);
        i = j;
      }
    }
  }

  void radix_sort_by_prefix() {
    constexpr unsigned bits = 11, passes = (64 + bits - 1) / bits;
    constexpr size_t buckets = size_t{1} << bits;
    size_t n = entries_.size();
    std::vector<uint32_t> counts(passes * buckets, 0);
    for (const entry& e : entries_)
      for (unsigned p = 0; p < passes; ++p)
        ++counts[p * buckets + ((e.prefix >> (p * bits)) & (buckets - 1))];
    std::vector<entry> tmp(n);
    for (unsigned p = 0; p < passes; ++p) {
      uint32_t* c = &counts[p * buckets];
      if (c[(entries_[0].prefix >> (p * bits)) & (buckets - 1)] == n)
        continue; // every entry has the same digit here
      uint32_t sum = 0;
      for (size_t b = 0; b < buckets; ++b)
        sum += std::exchange(c[b], sum);
      for (const entry& e : entries_)
        tmp[c[(e.prefix >> (p * bits)) & (buckets - 1)]++] = e;
      entries_.swap(tmp);
    }
  }

  void spill_run() {
    sort_entries();
    temp_shuffle_file f = temp_shuffle_file::create(opts_.spill_dir, "ember-run");
    shuffle_file_writer w(f.data.path(), f.index.path(), 1, opts_.codec, opts_.block_size);
    const char* base = arena_.data();
    size_t end = arena_.size();
    for (const entry& e : entries_) {
      byte_reader r{base + e.pos, end - e.pos};
      skip<record>(r);
      w.write(0, base + e.pos, r.offset());
    }
    w.commit();
    spilled_.add_sorted_run(std::move(f), entries_.size(), w.bytes_written());
    entries_.clear();
    arena_.clear();
  }

  external_options opts_;
  bool ascending_;
  sort_arena arena_;
  std::vector<entry> entries_;
  uint64_t records_added_ = 0;
  external_sorter<record, pair_key_order> spilled_;
};

} // namespace ember::shuffle
