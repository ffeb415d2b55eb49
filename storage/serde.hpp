// Record serialization: the one binary format every record takes when it is shuffled, cached
// *_SER, spilled or shipped. Used by the shuffle writers/readers, the block manager and the task
// runner; it knows nothing about actors. A user type is described ONCE by an `inspect` function
// found by ADL (the same shape as CAF's, without meta annotations):
//
//   struct point { int32_t x; double y; std::string name; };
//   template <class Inspector> auto inspect(Inspector& f, point& p) { return f(p.x, p.y, p.name); }
//
// and that description drives serialize, deserialize, stable_hash (storage/hash.hpp) and
// size_estimate. Wire format (little-endian, no type tags, no per-record header):
//   bool, 1-byte ints: 1 raw byte     unsigned ints: LEB128 varint     signed ints: zigzag varint
//   float/double: raw IEEE bytes      enums: as their underlying type
//   string: varint length + bytes     vector/map/unordered_map: varint count + elements
//   vector/array of arithmetic (not bool): count + one memcpy of the elements (fixed width)
//   pair/tuple/array/user types: fields in order      optional: 1 byte 0|1 + value
//   variant: varint index + value
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

static_assert(std::endian::native == std::endian::little,
              "ember's record format stores raw little-endian values; port serde.hpp first");

namespace ember {

/// Raised for malformed serialized input (truncation, overlong varint, bad tag, out of range).
class serde_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

namespace detail {
// Cold paths kept out of line (serde.cpp) so the inlined hot paths stay small.
[[noreturn]] void throw_underflow(size_t wanted, size_t offset, size_t available);
[[noreturn]] void throw_serde(const std::string& what, size_t offset);
} // namespace detail

// -- byte_writer -------------------------------------------------------------

/// A growable contiguous output buffer. Unlike std::string it never zero-fills on growth.
class byte_writer {
public:
  byte_writer() noexcept = default;
  explicit byte_writer(size_t initial_capacity) { reserve(initial_capacity); }
  byte_writer(byte_writer&& other) noexcept
    : buf_(std::exchange(other.buf_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      cap_(std::exchange(other.cap_, 0)) {}
  byte_writer& operator=(byte_writer&& other) noexcept {
    std::swap(buf_, other.buf_);
    std::swap(size_, other.size_);
    std::swap(cap_, other.cap_);
    return *this;
  }
  byte_writer(const byte_writer&) = delete;
  byte_writer& operator=(const byte_writer&) = delete;
  ~byte_writer() { std::free(buf_); }

  void reserve(size_t n) {
    if (n > cap_)
      realloc_to(n);
  }

  void put(const void* p, size_t n) {
    if (n == 0)
      return;
    if (cap_ - size_ < n)
      grow(n);
    std::memcpy(buf_ + size_, p, n);
    size_ += n;
  }

  void put_byte(uint8_t b) {
    if (cap_ == size_)
      grow(1);
    buf_[size_++] = static_cast<char>(b);
  }

  void put_varint(uint64_t v) {
    if (cap_ - size_ < 10)
      grow(10);
    char* p = buf_ + size_;
    while (v >= 0x80) {
      *p++ = static_cast<char>(v | 0x80);
      v >>= 7;
    }
    *p++ = static_cast<char>(v);
    size_ = static_cast<size_t>(p - buf_);
  }

  /// Makes room for n bytes at the end and returns a pointer to them (size grows by n).
  char* extend(size_t n) {
    if (cap_ - size_ < n)
      grow(n);
    char* p = buf_ + size_;
    size_ += n;
    return p;
  }

  /// Shrinks the logical size to n (n <= size()); capacity is kept.
  void truncate(size_t n) noexcept { size_ = n < size_ ? n : size_; }

  const char* data() const noexcept { return buf_; }
  char* data() noexcept { return buf_; }
  size_t size() const noexcept { return size_; }
  size_t capacity() const noexcept { return cap_; }
  bool empty() const noexcept { return size_ == 0; }
  std::string_view view() const noexcept { return {buf_, size_}; }
  void clear() noexcept { size_ = 0; }

  /// Frees the memory (clear() keeps it for reuse).
  void release() noexcept {
    std::free(buf_);
    buf_ = nullptr;
    size_ = cap_ = 0;
  }

private:
  void grow(size_t extra) {
    size_t want = size_ + extra;
    size_t next = cap_ < 64 ? 64 : cap_ * 2;
    realloc_to(next > want ? next : want);
  }
  void realloc_to(size_t n) {
    void* p = std::realloc(buf_, n);
    if (p == nullptr)
      throw std::bad_alloc();
    buf_ = static_cast<char*>(p);
    cap_ = n;
  }

  char* buf_ = nullptr;
  size_t size_ = 0;
  size_t cap_ = 0;
};

// -- byte_reader -------------------------------------------------------------

/// A cursor over serialized bytes it does not own. Every read is bounds-checked and throws
/// serde_error (with the offset) instead of reading past the end.
class byte_reader {
public:
  byte_reader() noexcept = default;
  byte_reader(const char* data, size_t size) noexcept : begin_(data), pos_(data), end_(data + size) {}
  explicit byte_reader(std::string_view s) noexcept : byte_reader(s.data(), s.size()) {}

  void get(void* dst, size_t n) {
    if (static_cast<size_t>(end_ - pos_) < n)
      detail::throw_underflow(n, offset(), remaining());
    if (n != 0)
      std::memcpy(dst, pos_, n);
    pos_ += n;
  }

  /// Returns a pointer to the next n bytes and skips them (zero-copy read).
  const char* take(size_t n) {
    if (static_cast<size_t>(end_ - pos_) < n)
      detail::throw_underflow(n, offset(), remaining());
    const char* p = pos_;
    pos_ += n;
    return p;
  }

  uint8_t get_byte() {
    if (pos_ == end_)
      detail::throw_underflow(1, offset(), 0);
    return static_cast<uint8_t>(*pos_++);
  }

  uint64_t get_varint() {
    if (pos_ != end_ && (static_cast<uint8_t>(*pos_) & 0x80) == 0)
      return static_cast<uint8_t>(*pos_++);
    return get_varint_slow();
  }

  bool at_end() const noexcept { return pos_ == end_; }
  size_t remaining() const noexcept { return static_cast<size_t>(end_ - pos_); }
  size_t offset() const noexcept { return static_cast<size_t>(pos_ - begin_); }

private:
  uint64_t get_varint_slow() {
    size_t start = offset();
    uint64_t v = 0;
    for (unsigned shift = 0;; shift += 7) {
      if (pos_ == end_)
        detail::throw_serde("truncated varint", start);
      auto b = static_cast<uint8_t>(*pos_++);
      if (shift == 63 && b > 1)
        detail::throw_serde("overlong varint (more than 64 bits)", start);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0)
        return v;
    }
  }

  const char* begin_ = nullptr;
  const char* pos_ = nullptr;
  const char* end_ = nullptr;
};

// -- type traits ---------------------------------------------------------------

namespace detail {

template <class T>
inline constexpr bool always_false = false;

template <class T> struct is_pair : std::false_type {};
template <class A, class B> struct is_pair<std::pair<A, B>> : std::true_type {};
template <class T> struct is_tuple : std::false_type {};
template <class... Ts> struct is_tuple<std::tuple<Ts...>> : std::true_type {};
template <class T> struct is_std_array : std::false_type {};
template <class E, size_t N> struct is_std_array<std::array<E, N>> : std::true_type {};
template <class T> struct is_vector : std::false_type {};
template <class E, class A> struct is_vector<std::vector<E, A>> : std::true_type {};
template <class T> struct is_optional : std::false_type {};
template <class E> struct is_optional<std::optional<E>> : std::true_type {};
template <class T> struct is_variant : std::false_type {};
template <class... Ts> struct is_variant<std::variant<Ts...>> : std::true_type {};
template <class T> struct is_map : std::false_type {};
template <class K, class V, class C, class A> struct is_map<std::map<K, V, C, A>> : std::true_type {};
template <class T> struct is_unordered_map : std::false_type {};
template <class K, class V, class H, class E, class A>
struct is_unordered_map<std::unordered_map<K, V, H, E, A>> : std::true_type {};

/// Element types copied with one memcpy inside vectors and arrays.
template <class E>
inline constexpr bool is_bulk = std::is_arithmetic_v<E> && !std::is_same_v<E, bool>;

constexpr uint64_t zigzag(int64_t v) noexcept {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
constexpr int64_t unzigzag(uint64_t u) noexcept {
  return static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
}

template <class T> void write_value(byte_writer& w, const T& x);
template <class T> void read_value(byte_reader& r, T& x);
template <class T> size_t heap_bytes(const T& x);

/// The Inspector handed to a user's inspect() when serializing.
struct save_inspector {
  using result_type = void;
  static constexpr bool is_loading = false;
  byte_writer& out;
  template <class... Ts> void operator()(Ts&... xs) { (write_value(out, xs), ...); }
};

/// The Inspector handed to a user's inspect() when deserializing.
struct load_inspector {
  using result_type = void;
  static constexpr bool is_loading = true;
  byte_reader& in;
  template <class... Ts> void operator()(Ts&... xs) { (read_value(in, xs), ...); }
};

/// The Inspector handed to a user's inspect() for size_estimate.
struct size_inspector {
  using result_type = void;
  static constexpr bool is_loading = false;
  size_t bytes = 0;
  template <class... Ts> void operator()(Ts&... xs) { ((bytes += heap_bytes(xs)), ...); }
};

/// True when T has an inspect(Inspector&, T&) found by argument-dependent lookup.
template <class T, class Inspector = save_inspector>
concept inspectable = requires(Inspector& f, T& x) { inspect(f, x); };

#define EMBER_SERDE_NO_DESCRIPTION_MESSAGE                                                        \
  "ember: this type has no serialization description. Write, in the type's namespace, "          \
  "`template <class Inspector> auto inspect(Inspector& f, my_type& x) { return f(x.a, x.b); }` " \
  "listing every field (supported out of the box: bool, integers, float, double, enums, "        \
  "std::string, pair, tuple, array, vector, optional, map, unordered_map, variant)."

template <class T>
void write_value(byte_writer& w, const T& x) {
  if constexpr (std::is_same_v<T, bool>) {
    w.put_byte(x ? 1 : 0);
  } else if constexpr (std::is_enum_v<T>) {
    write_value(w, static_cast<std::underlying_type_t<T>>(x));
  } else if constexpr (std::is_integral_v<T>) {
    if constexpr (sizeof(T) == 1)
      w.put_byte(static_cast<uint8_t>(x));
    else if constexpr (std::is_unsigned_v<T>)
      w.put_varint(x);
    else
      w.put_varint(zigzag(static_cast<int64_t>(x)));
  } else if constexpr (std::is_floating_point_v<T>) {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                  "ember: long double is not serializable (its layout is platform specific)");
    w.put(&x, sizeof(T));
  } else if constexpr (std::is_same_v<T, std::string>) {
    w.put_varint(x.size());
    w.put(x.data(), x.size());
  } else if constexpr (is_pair<T>::value) {
    write_value(w, x.first);
    write_value(w, x.second);
  } else if constexpr (is_tuple<T>::value) {
    std::apply([&](const auto&... xs) { (write_value(w, xs), ...); }, x);
  } else if constexpr (is_std_array<T>::value) {
    using E = typename T::value_type;
    if constexpr (is_bulk<E>)
      w.put(x.data(), sizeof(E) * x.size());
    else
      for (const auto& e : x)
        write_value(w, e);
  } else if constexpr (is_vector<T>::value) {
    using E = typename T::value_type;
    w.put_varint(x.size());
    if constexpr (is_bulk<E>)
      w.put(x.data(), sizeof(E) * x.size());
    else if constexpr (std::is_same_v<E, bool>)
      for (bool b : x)
        w.put_byte(b ? 1 : 0);
    else
      for (const auto& e : x)
        write_value(w, e);
  } else if constexpr (is_optional<T>::value) {
    w.put_byte(x.has_value() ? 1 : 0);
    if (x)
      write_value(w, *x);
  } else if constexpr (is_map<T>::value || is_unordered_map<T>::value) {
    w.put_varint(x.size());
    for (const auto& [k, v] : x) {
      write_value(w, k);
      write_value(w, v);
    }
  } else if constexpr (is_variant<T>::value) {
    if (x.valueless_by_exception())
      throw serde_error("serde: cannot serialize a valueless std::variant");
    w.put_varint(x.index());
    std::visit([&](const auto& alt) { write_value(w, alt); }, x);
  } else if constexpr (std::is_same_v<T, std::monostate>) {
    // no bytes
  } else if constexpr (inspectable<T, save_inspector>) {
    save_inspector f{w};
    inspect(f, const_cast<T&>(x)); // the save inspector only reads
  } else {
    static_assert(always_false<T>, EMBER_SERDE_NO_DESCRIPTION_MESSAGE);
  }
}

template <class T>
constexpr const char* int_name() {
  if constexpr (std::is_signed_v<T>)
    return sizeof(T) == 2 ? "int16" : sizeof(T) == 4 ? "int32" : "int64";
  else
    return sizeof(T) == 2 ? "uint16" : sizeof(T) == 4 ? "uint32" : "uint64";
}

template <class T>
void read_value(byte_reader& r, T& x) {
  if constexpr (std::is_same_v<T, bool>) {
    size_t at = r.offset();
    uint8_t b = r.get_byte();
    if (b > 1)
      throw_serde("invalid bool byte " + std::to_string(b), at);
    x = b == 1;
  } else if constexpr (std::is_enum_v<T>) {
    std::underlying_type_t<T> u;
    read_value(r, u);
    x = static_cast<T>(u);
  } else if constexpr (std::is_integral_v<T>) {
    if constexpr (sizeof(T) == 1) {
      x = static_cast<T>(r.get_byte());
    } else if constexpr (std::is_unsigned_v<T>) {
      size_t at = r.offset();
      uint64_t u = r.get_varint();
      if constexpr (sizeof(T) < 8)
        if (u > std::numeric_limits<T>::max())
          throw_serde(std::string("varint value out of range for ") + int_name<T>(), at);
      x = static_cast<T>(u);
    } else {
      size_t at = r.offset();
      int64_t s = unzigzag(r.get_varint());
      if constexpr (sizeof(T) < 8)
        if (s < std::numeric_limits<T>::min() || s > std::numeric_limits<T>::max())
          throw_serde(std::string("varint value out of range for ") + int_name<T>(), at);
      x = static_cast<T>(s);
    }
  } else if constexpr (std::is_floating_point_v<T>) {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                  "ember: long double is not serializable (its layout is platform specific)");
    r.get(&x, sizeof(T));
  } else if constexpr (std::is_same_v<T, std::string>) {
    uint64_t n = r.get_varint();
    if (n > r.remaining())
      throw_underflow(n, r.offset(), r.remaining());
    x.assign(r.take(n), n);
  } else if constexpr (is_pair<T>::value) {
    read_value(r, x.first);
    read_value(r, x.second);
  } else if constexpr (is_tuple<T>::value) {
    std::apply([&](auto&... xs) { (read_value(r, xs), ...); }, x);
  } else if constexpr (is_std_array<T>::value) {
    using E = typename T::value_type;
    if constexpr (is_bulk<E>)
      r.get(x.data(), sizeof(E) * x.size());
    else
      for (auto& e : x)
        read_value(r, e);
  } else if constexpr (is_vector<T>::value) {
    using E = typename T::value_type;
    uint64_t n = r.get_varint();
    if constexpr (is_bulk<E>) {
      if (n > r.remaining() / sizeof(E))
        throw_underflow(n * sizeof(E), r.offset(), r.remaining());
      x.resize(n);
      r.get(x.data(), n * sizeof(E));
    } else {
      x.clear();
      // Never trust a count for the allocation size: reserve at most what the input can hold.
      x.reserve(n < r.remaining() ? n : r.remaining());
      for (uint64_t i = 0; i < n; ++i) {
        if constexpr (std::is_same_v<E, bool>) {
          bool b;
          read_value(r, b);
          x.push_back(b);
        } else {
          read_value(r, x.emplace_back());
        }
      }
    }
  } else if constexpr (is_optional<T>::value) {
    size_t at = r.offset();
    uint8_t tag = r.get_byte();
    if (tag > 1)
      throw_serde("invalid std::optional tag " + std::to_string(tag), at);
    if (tag == 0) {
      x.reset();
    } else {
      read_value(r, x.emplace());
    }
  } else if constexpr (is_map<T>::value || is_unordered_map<T>::value) {
    uint64_t n = r.get_varint();
    x.clear();
    for (uint64_t i = 0; i < n; ++i) {
      typename T::key_type k;
      typename T::mapped_type v;
      read_value(r, k);
      read_value(r, v);
      if constexpr (is_map<T>::value)
        x.emplace_hint(x.end(), std::move(k), std::move(v));
      else
        x.emplace(std::move(k), std::move(v));
    }
  } else if constexpr (is_variant<T>::value) {
    size_t at = r.offset();
    uint64_t idx = r.get_varint();
    if (idx >= std::variant_size_v<T>)
      throw_serde("std::variant index " + std::to_string(idx) + " out of range (" +
                    std::to_string(std::variant_size_v<T>) + " alternatives)",
                  at);
    [&]<size_t... Is>(std::index_sequence<Is...>) {
      ((idx == Is ? read_value(r, x.template emplace<Is>()) : void()), ...);
    }(std::make_index_sequence<std::variant_size_v<T>>{});
  } else if constexpr (std::is_same_v<T, std::monostate>) {
    // no bytes
  } else if constexpr (inspectable<T, load_inspector>) {
    load_inspector f{r};
    inspect(f, x);
  } else {
    static_assert(always_false<T>, EMBER_SERDE_NO_DESCRIPTION_MESSAGE);
  }
}

/// libstdc++ keeps strings of up to 15 chars inline.
inline constexpr size_t sso_capacity = 15;

template <class T>
size_t heap_bytes(const T& x) {
  if constexpr (std::is_arithmetic_v<T> || std::is_enum_v<T> || std::is_same_v<T, std::monostate>) {
    return 0;
  } else if constexpr (std::is_same_v<T, std::string>) {
    return x.capacity() > sso_capacity ? x.capacity() + 1 : 0;
  } else if constexpr (is_pair<T>::value) {
    return heap_bytes(x.first) + heap_bytes(x.second);
  } else if constexpr (is_tuple<T>::value) {
    return std::apply([](const auto&... xs) { return (size_t{0} + ... + heap_bytes(xs)); }, x);
  } else if constexpr (is_std_array<T>::value) {
    size_t n = 0;
    if constexpr (!std::is_arithmetic_v<typename T::value_type>)
      for (const auto& e : x)
        n += heap_bytes(e);
    return n;
  } else if constexpr (is_vector<T>::value) {
    using E = typename T::value_type;
    if constexpr (std::is_same_v<E, bool>) {
      return x.capacity() / 8;
    } else {
      size_t n = x.capacity() * sizeof(E);
      if constexpr (!std::is_arithmetic_v<E>)
        for (const auto& e : x)
          n += heap_bytes(e);
      return n;
    }
  } else if constexpr (is_optional<T>::value) {
    return x ? heap_bytes(*x) : 0;
  } else if constexpr (is_map<T>::value || is_unordered_map<T>::value) {
    constexpr size_t node_overhead = is_map<T>::value ? 32 : 16; // tree links / next + hash
    size_t n = x.size() * (sizeof(typename T::value_type) + node_overhead);
    if constexpr (is_unordered_map<T>::value)
      n += x.bucket_count() * sizeof(void*);
    for (const auto& [k, v] : x)
      n += heap_bytes(k) + heap_bytes(v);
    return n;
  } else if constexpr (is_variant<T>::value) {
    return x.valueless_by_exception() ? 0 : std::visit([](const auto& a) { return heap_bytes(a); }, x);
  } else if constexpr (inspectable<T, size_inspector>) {
    size_inspector f;
    inspect(f, const_cast<T&>(x));
    return f.bytes;
  } else {
    static_assert(always_false<T>, EMBER_SERDE_NO_DESCRIPTION_MESSAGE);
    return 0;
  }
}

} // namespace detail

// -- public API ----------------------------------------------------------------

/// Appends x's serialized form to w.
template <class T>
void serialize(byte_writer& w, const T& x) {
  detail::write_value(w, x);
}

/// Reads one value of type T into x; throws serde_error on malformed input.
template <class T>
void deserialize(byte_reader& r, T& x) {
  detail::read_value(r, x);
}

template <class T>
T deserialize(byte_reader& r) {
  T x{};
  detail::read_value(r, x);
  return x;
}

/// Moves r past one serialized T without building it where the format allows (fixed-size
/// values, strings, bulk arrays/vectors, pairs/tuples of those); other types are read into a
/// temporary. Used to find record boundaries in serialized blocks (the sort's arena).
template <class T>
void skip(byte_reader& r) {
  using detail::is_bulk;
  if constexpr (std::is_same_v<T, bool> || (std::is_integral_v<T> && sizeof(T) == 1)) {
    r.take(1);
  } else if constexpr (std::is_enum_v<T>) {
    skip<std::underlying_type_t<T>>(r);
  } else if constexpr (std::is_integral_v<T>) {
    (void) r.get_varint();
  } else if constexpr (std::is_floating_point_v<T>) {
    r.take(sizeof(T));
  } else if constexpr (std::is_same_v<T, std::string>) {
    r.take(r.get_varint());
  } else if constexpr (detail::is_pair<T>::value) {
    skip<typename T::first_type>(r);
    skip<typename T::second_type>(r);
  } else if constexpr (detail::is_tuple<T>::value) {
    [&]<size_t... I>(std::index_sequence<I...>) {
      (skip<std::tuple_element_t<I, T>>(r), ...);
    }(std::make_index_sequence<std::tuple_size_v<T>>{});
  } else if constexpr (detail::is_std_array<T>::value) {
    if constexpr (is_bulk<typename T::value_type>)
      r.take(sizeof(T));
    else
      for (size_t i = 0; i < std::tuple_size_v<T>; ++i)
        skip<typename T::value_type>(r);
  } else if constexpr (detail::is_vector<T>::value) {
    using E = typename T::value_type;
    if constexpr (is_bulk<E>) {
      uint64_t n = r.get_varint();
      if (n > r.remaining() / sizeof(E))
        detail::throw_underflow(n * sizeof(E), r.offset(), r.remaining());
      r.take(n * sizeof(E));
    } else {
      T tmp{};
      detail::read_value(r, tmp);
    }
  } else {
    T tmp{};
    detail::read_value(r, tmp);
  }
}

/// In-memory footprint estimate: sizeof(T) plus the heap bytes its strings, vectors and maps own,
/// recursively. Used for memory accounting (spill decisions), so it must be cheap, not exact.
template <class T>
size_t size_estimate(const T& x) {
  return sizeof(T) + detail::heap_bytes(x);
}

/// Heap bytes only (size_estimate without sizeof(T)).
template <class T>
size_t heap_size_estimate(const T& x) {
  return detail::heap_bytes(x);
}

} // namespace ember
