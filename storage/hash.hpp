// stable_hash: the record hash behind hash partitioning, map-side combine and grace-hash spills.
// Deterministic across processes of the same binary (no per-process random seed, no pointer
// values), well mixed even for consecutive small integers so `stable_hash(k) % n` spreads evenly.
// Strings and byte ranges of up to 16 bytes use a multiply-fold, longer ones XXH3;
// integers a strong 64-bit finalizer; composites combine their parts; user types hash their
// fields through the same `inspect` that serializes them.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#include <xxhash.h>

#include "storage/serde.hpp"

namespace ember {

namespace detail {

/// splitmix64's finalizer: a bijection with full avalanche, so consecutive ints land anywhere.
constexpr uint64_t mix64(uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

constexpr uint64_t seed_key(uint64_t seed) noexcept { return seed * 0xd6e8feb86659fd93ULL; }

constexpr uint64_t hash_combine(uint64_t h, uint64_t v) noexcept {
  return mix64(std::rotl(h, 27) ^ v);
}

/// Up to 16 bytes: two words read in the shape memcpy wrote them (8 bytes at each end from 8 on,
/// 4 bytes at each end from 4 on, else three single bytes; together they cover every byte), a
/// multiply-fold (wyhash's) and one multiply to spread it. A word count hashes ~75M words per
/// 512 MiB, each just copied into a std::string: loads that straddle that copy's stores stall
/// until the stores drain (a branch-free version with two fixed 8-byte loads and masks was slower
/// for it), and the splitmix finalizer that followed lengthened every word's critical path.
inline uint64_t hash_short(const char* p, size_t n, uint64_t seed) noexcept {
  uint64_t w0, w1;
  if (n >= 8) {
    std::memcpy(&w0, p, 8);
    std::memcpy(&w1, p + n - 8, 8);
  } else if (n >= 4) {
    uint32_t x, y;
    std::memcpy(&x, p, 4);
    std::memcpy(&y, p + n - 4, 4);
    w0 = x;
    w1 = y;
  } else {
    auto byte = [&](size_t i) { return static_cast<uint64_t>(static_cast<unsigned char>(p[i])); };
    w0 = n == 0 ? 0 : byte(0) | byte(n / 2) << 8 | byte(n - 1) << 16;
    w1 = 0;
  }
  if constexpr (std::endian::native == std::endian::big) { // the same values on every machine
    w0 = n >= 8 ? __builtin_bswap64(w0) : n >= 4 ? __builtin_bswap32(static_cast<uint32_t>(w0)) : w0;
    w1 = n >= 8 ? __builtin_bswap64(w1) : n >= 4 ? __builtin_bswap32(static_cast<uint32_t>(w1)) : w1;
  }
  uint64_t a = w0 ^ seed_key(seed) ^ 0xa0761d6478bd642fULL;
  uint64_t b = w1 ^ (n * 0xe7037ed1a0b428dbULL) ^ 0x8ebc6af09c88c6e3ULL;
  unsigned __int128 r = static_cast<unsigned __int128>(a) * b;
  uint64_t f = (static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64)) * 0x9e3779b97f4a7c15ULL;
  return f ^ (f >> 32); // the high half into the low bits, which `% n` partitioning reads
}

/// Any byte range: up to 16 bytes through hash_short, longer ones through XXH3.
inline uint64_t hash_bytes(const void* p, size_t n, uint64_t seed) noexcept {
  if (n <= 16)
    return hash_short(static_cast<const char*>(p), n, seed);
  return XXH3_64bits_withSeed(p, n, seed);
}

template <class T> uint64_t hash_value(const T& x, uint64_t seed);

struct hash_inspector {
  using result_type = void;
  static constexpr bool is_loading = false;
  uint64_t seed;
  uint64_t h;
  template <class... Ts> void operator()(Ts&... xs) { ((h = hash_combine(h, hash_value(xs, seed))), ...); }
};

template <class T>
uint64_t hash_value(const T& x, uint64_t seed) {
  if constexpr (std::is_same_v<T, bool> || std::is_integral_v<T>) {
    // Sign-extend so that equal values of different widths hash alike.
    uint64_t v;
    if constexpr (std::is_signed_v<T>)
      v = static_cast<uint64_t>(static_cast<int64_t>(x));
    else
      v = static_cast<uint64_t>(x);
    return mix64(v ^ seed_key(seed));
  } else if constexpr (std::is_enum_v<T>) {
    return hash_value(static_cast<std::underlying_type_t<T>>(x), seed);
  } else if constexpr (std::is_floating_point_v<T>) {
    double d = static_cast<double>(x);
    if (d == 0)
      d = 0; // -0.0 == 0.0, so they must hash alike
    return mix64(std::bit_cast<uint64_t>(d) ^ seed_key(seed));
  } else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, std::string_view>) {
    return hash_bytes(x.data(), x.size(), seed);
  } else if constexpr (std::is_same_v<T, const char*> || std::is_same_v<T, char*>) {
    return hash_bytes(x, std::strlen(x), seed);
  } else if constexpr (std::is_array_v<T> && std::is_same_v<std::remove_extent_t<T>, char>) {
    return hash_value(std::string_view(x), seed); // string literals: same as std::string
  } else if constexpr (is_pair<T>::value) {
    return hash_combine(hash_combine(seed, hash_value(x.first, seed)), hash_value(x.second, seed));
  } else if constexpr (is_tuple<T>::value) {
    return std::apply(
      [&](const auto&... xs) {
        uint64_t h = seed;
        ((h = hash_combine(h, hash_value(xs, seed))), ...);
        return h;
      },
      x);
  } else if constexpr (is_std_array<T>::value || is_vector<T>::value) {
    using E = typename T::value_type;
    if constexpr (is_bulk<E>) {
      return hash_bytes(x.data(), x.size() * sizeof(E), seed);
    } else {
      uint64_t h = hash_combine(seed, x.size());
      if constexpr (std::is_same_v<E, bool>) {
        for (bool b : x)
          h = hash_combine(h, hash_value(b, seed));
      } else {
        for (const auto& e : x)
          h = hash_combine(h, hash_value(e, seed));
      }
      return h;
    }
  } else if constexpr (is_optional<T>::value) {
    return x ? hash_combine(seed + 1, hash_value(*x, seed)) : mix64(seed_key(seed) ^ 0x6f7074ULL);
  } else if constexpr (is_map<T>::value) {
    uint64_t h = hash_combine(seed, x.size());
    for (const auto& [k, v] : x)
      h = hash_combine(hash_combine(h, hash_value(k, seed)), hash_value(v, seed));
    return h;
  } else if constexpr (is_unordered_map<T>::value) {
    // Iteration order depends on insertion history: combine commutatively.
    uint64_t sum = 0;
    for (const auto& [k, v] : x)
      sum += hash_combine(hash_value(k, seed), hash_value(v, seed));
    return hash_combine(hash_combine(seed, x.size()), sum);
  } else if constexpr (is_variant<T>::value) {
    if (x.valueless_by_exception())
      return mix64(seed_key(seed));
    uint64_t inner = std::visit([&](const auto& a) { return hash_value(a, seed); }, x);
    return hash_combine(hash_combine(seed, x.index()), inner);
  } else if constexpr (std::is_same_v<T, std::monostate>) {
    return mix64(seed_key(seed) ^ 0x6d6f6eULL);
  } else if constexpr (inspectable<T, hash_inspector>) {
    hash_inspector f{seed, seed};
    inspect(f, const_cast<T&>(x));
    return f.h;
  } else {
    static_assert(always_false<T>, EMBER_SERDE_NO_DESCRIPTION_MESSAGE);
    return 0;
  }
}

} // namespace detail

/// Deterministic, well-mixed 64-bit hash. Different seeds give independent hash functions
/// (the partitioner uses seed 0; grace-hash spill levels use other seeds).
/// std::string, std::string_view and string literals with the same bytes hash alike.
template <class T>
uint64_t stable_hash(const T& x, uint64_t seed = 0) {
  return detail::hash_value(x, seed);
}

/// Function object over stable_hash (transparent: hashes any type stable_hash accepts).
struct stable_hasher {
  uint64_t seed = 0;
  template <class T> uint64_t operator()(const T& x) const { return stable_hash(x, seed); }
};

} // namespace ember
