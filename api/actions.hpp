// The executor half of every action: a result function computes one partition and returns its
// bytes; the driver half (in dataset.hpp) merges the partitions' bytes in partition order.
#pragma once

#include <algorithm>
#include <charconv>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "api/context_impl.hpp"
#include "api/node.hpp"

namespace ember::detail {

template <class T>
class collect_fn : public registered_result_fn<collect_fn<T>> {
public:
  std::string run(const node_base& rdd, uint32_t p, task_env& env) const override {
    byte_writer w;
    typed<T>(rdd).compute(p, env, [&](T&& x) { serialize(w, x); });
    return std::string{w.view()};
  }
  void encode_body(byte_writer&) const override {}
  static std::unique_ptr<result_fn> decode(byte_reader&) { return std::make_unique<collect_fn>(); }
};

template <class T>
class count_fn : public registered_result_fn<count_fn<T>> {
public:
  std::string run(const node_base& rdd, uint32_t p, task_env& env) const override {
    uint64_t n = 0;
    typed<T>(rdd).compute(p, env, [&](T&&) { ++n; });
    byte_writer w;
    serialize(w, n);
    return std::string{w.view()};
  }
  void encode_body(byte_writer&) const override {}
  static std::unique_ptr<result_fn> decode(byte_reader&) { return std::make_unique<count_fn>(); }
};

// The first `n` records of the partition.
template <class T>
class take_fn : public registered_result_fn<take_fn<T>> {
public:
  explicit take_fn(uint64_t n) : n_(n) {}
  std::string run(const node_base& rdd, uint32_t p, task_env& env) const override {
    byte_writer w;
    uint64_t taken = 0;
    typed<T>(rdd).compute(p, env, [&](T&& x) {
      if (taken++ < n_)
        serialize(w, x);
    });
    return std::string{w.view()};
  }
  void encode_body(byte_writer& w) const override { serialize(w, n_); }
  static std::unique_ptr<result_fn> decode(byte_reader& r) { return std::make_unique<take_fn>(deserialize<uint64_t>(r)); }

private:
  uint64_t n_;
};

// Folds the partition with f; an empty partition gives no value.
template <class T, class F>
class reduce_fn : public registered_result_fn<reduce_fn<T, F>> {
public:
  explicit reduce_fn(F f) : f_(std::move(f)) {}
  std::string run(const node_base& rdd, uint32_t p, task_env& env) const override {
    std::optional<T> acc;
    typed<T>(rdd).compute(p, env, [&](T&& x) {
      if (acc)
        *acc = f_(std::move(*acc), std::move(x));
      else
        acc.emplace(std::move(x));
    });
    byte_writer w;
    serialize(w, acc);
    return std::string{w.view()};
  }
  void encode_body(byte_writer& w) const override { serialize_function(w, f_); }
  static std::unique_ptr<result_fn> decode(byte_reader& r) { return std::make_unique<reduce_fn>(deserialize_function<F>(r)); }

private:
  F f_;
};

// The n greatest records by `less`, greatest first.
template <class T, class Less>
class top_fn : public registered_result_fn<top_fn<T, Less>> {
public:
  top_fn(uint64_t n, Less less) : n_(n), less_(std::move(less)) {}
  std::string run(const node_base& rdd, uint32_t p, task_env& env) const override {
    std::vector<T> heap; // min-heap of the best n so far
    auto greater = [&](const T& a, const T& b) { return less_(b, a); };
    typed<T>(rdd).compute(p, env, [&](T&& x) {
      if (heap.size() < n_) {
        heap.push_back(std::move(x));
        std::push_heap(heap.begin(), heap.end(), greater);
      } else if (n_ > 0 && less_(heap.front(), x)) {
        std::pop_heap(heap.begin(), heap.end(), greater);
        heap.back() = std::move(x);
        std::push_heap(heap.begin(), heap.end(), greater);
      }
    });
    std::sort_heap(heap.begin(), heap.end(), greater);
    byte_writer w;
    serialize(w, heap);
    return std::string{w.view()};
  }
  void encode_body(byte_writer& w) const override {
    serialize(w, n_);
    serialize_function(w, less_);
  }
  static std::unique_ptr<result_fn> decode(byte_reader& r) {
    auto n = deserialize<uint64_t>(r);
    return std::make_unique<top_fn>(n, deserialize_function<Less>(r));
  }

private:
  uint64_t n_;
  Less less_;
};

// The partition's record count and a uniform sample of at most k records (reservoir sampling,
// seeded per partition): one pass gives sort_by_key both its bounds and their weights.
template <class T>
class reservoir_fn : public registered_result_fn<reservoir_fn<T>> {
public:
  reservoir_fn(uint64_t k, uint64_t seed) : k_(k), seed_(seed) {}
  std::string run(const node_base& rdd, uint32_t p, task_env& env) const override {
    std::mt19937_64 rng{seed_ ^ (0x9E3779B97F4A7C15ull * (p + 1))};
    std::vector<T> sample;
    uint64_t seen = 0;
    typed<T>(rdd).compute(p, env, [&](T&& x) {
      if (sample.size() < k_) {
        sample.push_back(std::move(x));
      } else {
        auto j = std::uniform_int_distribution<uint64_t>{0, seen}(rng);
        if (j < k_)
          sample[j] = std::move(x);
      }
      ++seen;
    });
    byte_writer w;
    serialize(w, seen);
    serialize(w, sample);
    return std::string{w.view()};
  }
  void encode_body(byte_writer& w) const override {
    serialize(w, k_);
    serialize(w, seed_);
  }
  static std::unique_ptr<result_fn> decode(byte_reader& r) {
    auto k = deserialize<uint64_t>(r);
    return std::make_unique<reservoir_fn>(k, deserialize<uint64_t>(r));
  }

private:
  uint64_t k_;
  uint64_t seed_;
};

template <class T, class F>
class foreach_partition_fn : public registered_result_fn<foreach_partition_fn<T, F>> {
public:
  explicit foreach_partition_fn(F f) : f_(std::move(f)) {}
  std::string run(const node_base& rdd, uint32_t p, task_env& env) const override {
    std::vector<T> xs;
    typed<T>(rdd).compute(p, env, [&](T&& x) { xs.push_back(std::move(x)); });
    f_(std::move(xs));
    return {};
  }
  void encode_body(byte_writer& w) const override { serialize_function(w, f_); }
  static std::unique_ptr<result_fn> decode(byte_reader& r) {
    return std::make_unique<foreach_partition_fn>(deserialize_function<F>(r));
  }

private:
  F f_;
};

// -- text output ---------------------------------------------------------------

// How save_as_text_file prints a record: strings as they are, integers in decimal, floating
// point in the shortest form that reads back exactly, pairs and
// tuples with tabs between fields (so "word<TAB>count"), anything else through operator<<.
template <class T>
void format_text(std::string& out, const T& x) {
  if constexpr (std::is_same_v<T, std::string>) {
    out += x;
  } else if constexpr (std::is_same_v<T, bool>) {
    out += x ? "true" : "false";
  } else if constexpr (std::is_integral_v<T>) {
    out += std::to_string(x);
  } else if constexpr (std::is_floating_point_v<T>) {
    char buf[64]; // shortest text that reads back as the same value, as Spark prints doubles
    auto res = std::to_chars(buf, buf + sizeof buf, x);
    out.append(buf, res.ptr);
  } else if constexpr (requires { std::tuple_size<T>::value; }) {
    std::apply([&](const auto&... fs) {
      size_t i = 0;
      ((out += (i++ ? "\t" : ""), format_text(out, fs)), ...);
    }, x);
  } else {
    std::ostringstream os;
    os << x;
    out += os.str();
  }
}

// Writes the partition into `dir/_temporary/<attempt>/part-NNNNN` and returns that path; the
// driver's output committer moves exactly one attempt per partition into place.
template <class T>
class save_text_fn : public registered_result_fn<save_text_fn<T>> {
public:
  explicit save_text_fn(std::string dir) : dir_(std::move(dir)) {}
  std::string run(const node_base& rdd, uint32_t p, task_env& env) const override;
  void encode_body(byte_writer& w) const override { serialize(w, dir_); }
  static std::unique_ptr<result_fn> decode(byte_reader& r) {
    return std::make_unique<save_text_fn>(deserialize<std::string>(r));
  }

private:
  std::string dir_;
};

// Streams text into an attempt file; returns the attempt file's path.
class text_part_writer {
public:
  text_part_writer(const std::string& dir, uint32_t partition, uint64_t task_id, uint32_t attempt);
  ~text_part_writer();
  text_part_writer(const text_part_writer&) = delete;
  text_part_writer& operator=(const text_part_writer&) = delete;
  std::string& buffer() { return buf_; }
  void maybe_flush() {
    if (buf_.size() >= (1 << 20))
      flush();
  }
  std::string close(); // flushes, closes, returns the attempt path

private:
  void flush();
  std::string path_;
  int fd_ = -1;
  std::string buf_;
};

template <class T>
std::string save_text_fn<T>::run(const node_base& rdd, uint32_t p, task_env& env) const {
  text_part_writer out{dir_, p, env.task_id, env.attempt};
  uint64_t records = 0;
  typed<T>(rdd).compute(p, env, [&](T&& x) {
    format_text(out.buffer(), x);
    out.buffer() += '\n';
    out.maybe_flush();
    ++records;
  });
  env.records_written += records;
  return out.close();
}

} // namespace ember::detail
