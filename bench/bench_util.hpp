// Shared helpers of the benchmark tools (generators, baselines, measure): a fast deterministic
// PRNG, a Zipf sampler (Walker/Vose alias table), a buffered writer on write(2), flag parsing.
// Header-only: every bench tool is one small executable.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ember::bench {

[[noreturn]] inline void die(const std::string& what) {
  std::fprintf(stderr, "%s\n", what.c_str());
  std::exit(1);
}

// -- random numbers ---------------------------------------------------------------------

inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// xoshiro256** (Blackman, Vigna), seeded through splitmix64 so every seed gives a good state.
class rng {
public:
  explicit rng(uint64_t seed) {
    for (auto& w : s_)
      w = splitmix64(seed);
  }
  uint64_t next() {
    uint64_t result = rotl(s_[1] * 5, 7) * 9;
    uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, n) by multiply-shift (Lemire, without the rejection step: the bias is
  // below 2^-32 for the n we use and the output is deterministic either way).
  uint32_t below(uint32_t n) { return static_cast<uint32_t>(((next() >> 32) * n) >> 32); }
  // Uniform in [0, 1).
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// -- Zipf sampling ----------------------------------------------------------------------

// Ranks 0..n-1 with P(r) proportional to 1/(r+1)^exponent, sampled in O(1) from an alias table
// (one random 64-bit number per sample: the high bits pick the column, the low bits decide).
class zipf_sampler {
public:
  zipf_sampler(uint32_t n, double exponent) : threshold_(n), alias_(n) {
    std::vector<double> p(n);
    double sum = 0;
    for (uint32_t r = 0; r < n; ++r)
      sum += p[r] = std::pow(static_cast<double>(r) + 1.0, -exponent);
    std::vector<uint32_t> small, large;
    for (uint32_t r = 0; r < n; ++r) {
      p[r] = p[r] * n / sum;
      (p[r] < 1.0 ? small : large).push_back(r);
    }
    while (!small.empty() && !large.empty()) {
      uint32_t s = small.back(), l = large.back();
      small.pop_back();
      set(s, p[s], l);
      p[l] -= 1.0 - p[s];
      if (p[l] < 1.0) {
        large.pop_back();
        small.push_back(l);
      }
    }
    for (auto r : large)
      set(r, 1.0, r);
    for (auto r : small)  // rounding leftovers: probability ~1
      set(r, 1.0, r);
  }
  uint32_t operator()(rng& g) const {
    uint64_t x = g.next();
    auto col = static_cast<uint32_t>(((x >> 32) * threshold_.size()) >> 32);
    return static_cast<uint32_t>(x) < threshold_[col] ? col : alias_[col];
  }
  uint32_t size() const { return static_cast<uint32_t>(threshold_.size()); }

private:
  // Column col keeps itself with probability keep, else yields alias. A column that always
  // keeps itself gets the all-ones threshold and itself as alias (the low 32 bits can be all ones).
  void set(uint32_t col, double keep, uint32_t alias) {
    if (keep >= 1.0) {
      threshold_[col] = 0xFFFFFFFFu;
      alias_[col] = col;
      return;
    }
    threshold_[col] = static_cast<uint32_t>(std::ldexp(keep, 32));
    alias_[col] = alias;
  }
  std::vector<uint32_t> threshold_;
  std::vector<uint32_t> alias_;
};

// -- output -----------------------------------------------------------------------------

// Buffered writer over write(2): generators produce hundreds of MiB, stdio's per-call locking
// and small buffer would dominate.
class file_writer {
public:
  explicit file_writer(const std::string& path) : path_(path), buf_(size_t{8} << 20) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd_ < 0)
      die("cannot create " + path + ": " + std::strerror(errno));
  }
  ~file_writer() { close(); }
  file_writer(const file_writer&) = delete;
  file_writer& operator=(const file_writer&) = delete;

  // Room for at least n more bytes (n <= buffer size); write through ptr() and advance(n).
  char* reserve(size_t n) {
    if (used_ + n > buf_.size())
      flush();
    return buf_.data() + used_;
  }
  void advance(size_t n) { used_ += n, written_ += n; }
  void put(std::string_view s) {
    if (s.size() > buf_.size()) {
      flush();
      write_all(s.data(), s.size());
      written_ += s.size();
      return;
    }
    std::memcpy(reserve(s.size()), s.data(), s.size());
    advance(s.size());
  }
  void put(char c) { *reserve(1) = c, advance(1); }
  uint64_t written() const { return written_; }
  void flush() {
    write_all(buf_.data(), used_);
    used_ = 0;
  }
  void close() {
    if (fd_ < 0)
      return;
    flush();
    if (::close(fd_) != 0)
      die("cannot close " + path_ + ": " + std::strerror(errno));
    fd_ = -1;
  }

private:
  void write_all(const char* p, size_t n) {
    while (n > 0) {
      ssize_t k = ::write(fd_, p, n);
      if (k < 0 && errno == EINTR)
        continue;
      if (k < 0)
        die("cannot write " + path_ + ": " + std::strerror(errno));
      p += k, n -= static_cast<size_t>(k);
    }
  }
  std::string path_;
  int fd_ = -1;
  std::vector<char> buf_;
  size_t used_ = 0;
  uint64_t written_ = 0;
};

// Whole file into memory with read(2).
inline std::vector<char> read_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0)
    die("cannot open " + path + ": " + std::strerror(errno));
  std::vector<char> data;
  off_t size = ::lseek(fd, 0, SEEK_END);
  ::lseek(fd, 0, SEEK_SET);
  data.resize(size > 0 ? static_cast<size_t>(size) : 0);
  size_t got = 0;
  while (got < data.size()) {
    ssize_t k = ::read(fd, data.data() + got, data.size() - got);
    if (k < 0 && errno == EINTR)
      continue;
    if (k < 0)
      die("cannot read " + path + ": " + std::strerror(errno));
    if (k == 0)
      break;
    got += static_cast<size_t>(k);
  }
  data.resize(got);
  ::close(fd);
  return data;
}

// -- command line -----------------------------------------------------------------------

// "--name value" flags plus positional arguments; unknown flags are errors.
struct args {
  std::map<std::string, std::string> flags;
  std::vector<std::string> positional;

  args(int argc, char** argv, std::initializer_list<const char*> known, const char* usage) {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      if (a.size() > 2 && a.rfind("--", 0) == 0) {
        std::string name = a.substr(2);
        bool ok = false;
        for (auto k : known)
          ok = ok || name == k;
        if (!ok || i + 1 >= argc)
          die(std::string(ok ? "missing value for " : "unknown option ") + a + "\nusage: " + usage);
        flags[name] = argv[++i];
      } else {
        positional.push_back(std::move(a));
      }
    }
  }
  uint64_t number(const std::string& name, uint64_t fallback) const {
    auto it = flags.find(name);
    if (it == flags.end())
      return fallback;
    return parse_size(name, it->second);
  }
  double real(const std::string& name, double fallback) const {
    auto it = flags.find(name);
    return it == flags.end() ? fallback : std::strtod(it->second.c_str(), nullptr);
  }
  // Accepts plain numbers and k/m/g suffixes (powers of 1024), e.g. 64m.
  static uint64_t parse_size(const std::string& name, const std::string& v) {
    char* end = nullptr;
    uint64_t n = std::strtoull(v.c_str(), &end, 10);
    if (end == v.c_str())
      die("--" + name + ": not a number: " + v);
    switch (*end) {
      case 'k': case 'K': n <<= 10; ++end; break;
      case 'm': case 'M': n <<= 20; ++end; break;
      case 'g': case 'G': n <<= 30; ++end; break;
      default: break;
    }
    if (*end != '\0')
      die("--" + name + ": not a size: " + v);
    return n;
  }
};

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

} // namespace ember::bench
