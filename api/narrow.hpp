// Narrow operators: computed in the same task as their parent, record by record, pushed into
// the next operator's sink (no per-record virtual call beyond the sink, no buffering).
#pragma once

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "api/node.hpp"

namespace ember::detail {

// -- sources -------------------------------------------------------------------

// A driver-side collection cut into slices; the slices travel in the task binary.
template <class T>
class parallelize_node : public registered_node<parallelize_node<T>, T> {
public:
  parallelize_node(uint32_t id, std::vector<std::vector<T>> slices)
    : registered_node<parallelize_node<T>, T>(id, static_cast<uint32_t>(slices.size()), "parallelize"),
      slices_(std::move(slices)) {}

  void compute(uint32_t p, task_env& env, sink<T> out) const override {
    for (const auto& x : slices_[p]) {
      T copy = x;
      out(std::move(copy));
    }
    env.records_read += slices_[p].size();
  }
  void encode_body(encoder& e) const override { e(slices_); }
  static std::shared_ptr<node_base> decode(uint32_t id, byte_reader& r, decode_context&) {
    return std::make_shared<parallelize_node>(id, deserialize<std::vector<std::vector<T>>>(r));
  }

private:
  std::vector<std::vector<T>> slices_;
};

// [start, end) by step, split evenly: only the bounds travel.
class range_node : public registered_node<range_node, int64_t> {
public:
  range_node(uint32_t id, int64_t start, int64_t end, int64_t step, uint32_t slices);
  void compute(uint32_t p, task_env& env, sink<int64_t> out) const override;
  void encode_body(encoder& e) const override;
  static std::shared_ptr<node_base> decode(uint32_t id, byte_reader& r, decode_context&);

private:
  int64_t start_, end_, step_;
};

struct file_split {
  std::string path;
  uint64_t offset = 0;
  uint64_t length = 0;
  // Hosts whose workers declared the file: the split's preferred hosts (encoded with the lineage,
  // which the driver's dag scheduler decodes; executors ignore them).
  std::vector<std::string> hosts;
};

template <class Inspector>
auto inspect(Inspector& f, file_split& s) {
  return f(s.path, s.offset, s.length, s.hosts);
}

// Lines of text files. A split owns the lines that start inside it: it skips the partial first
// line (unless it starts the file) and reads past its end to finish its last line, as Hadoop's
// LineRecordReader does. A trailing '\r' is dropped.
class text_file_node : public registered_node<text_file_node, std::string> {
public:
  text_file_node(uint32_t id, std::vector<file_split> splits);
  void compute(uint32_t p, task_env& env, sink<std::string> out) const override;
  void encode_body(encoder& e) const override;
  static std::shared_ptr<node_base> decode(uint32_t id, byte_reader& r, decode_context&);
  const std::vector<file_split>& splits() const { return splits_; }
  std::vector<std::string> preferred_hosts(uint32_t p) const override { return splits_.at(p).hosts; }

private:
  std::vector<file_split> splits_;
};

// A file the workers declared from their data dirs (`ember worker --data-dir`): its size and the
// hosts holding it, keyed by absolute path. Told to the driver by the master at registration.
struct declared_file {
  uint64_t size = 0;
  std::vector<std::string> hosts;
};
using declared_files = std::map<std::string, declared_file>;

// Expands globs and directories and cuts the files into splits near `max_split_bytes` (Spark's
// rule: min(maxPartitionBytes, max(openCost, total / parallelism))). Throws naming a missing path.
// `declared`: files held by workers' hosts. A path matching no local file is matched against them
// (a file, a directory or a glob, as locally), split by their declared sizes; a split of a declared
// file prefers the hosts that hold it.
std::vector<file_split> plan_text_splits(const std::string& pattern, uint64_t max_partition_bytes,
                                         uint32_t parallelism, const declared_files& declared = {});

// -- one-parent transformations ------------------------------------------------

// Shared body of the operators with one parent and one shipped function.
template <class Self, class In, class Out, class F>
class unary_node : public registered_node<Self, Out> {
public:
  unary_node(uint32_t id, typed_ptr<In> parent, F f, const char* name)
    : registered_node<Self, Out>(id, parent->num_partitions(), name), parent_(std::move(parent)), f_(std::move(f)) {
    this->narrow_parents_.push_back(parent_);
  }
  void encode_body(encoder& e) const override {
    e.node(*parent_);
    serialize_function(e.w, f_);
  }
  static std::shared_ptr<node_base> decode(uint32_t id, byte_reader& r, decode_context& ctx) {
    auto parent = ctx.decode_typed<In>(r);
    return std::make_shared<Self>(id, std::move(parent), deserialize_function<F>(r));
  }
  std::vector<std::string> preferred_hosts(uint32_t p) const override { return parent_->preferred_hosts(p); }

protected:
  typed_ptr<In> parent_;
  F f_;
};

template <class In, class Out, class F>
class map_node : public unary_node<map_node<In, Out, F>, In, Out, F> {
public:
  map_node(uint32_t id, typed_ptr<In> parent, F f)
    : unary_node<map_node, In, Out, F>(id, std::move(parent), std::move(f), "map") {}
  void compute(uint32_t p, task_env& env, sink<Out> out) const override {
    this->parent_->compute(p, env, [&](In&& x) { out(this->f_(std::move(x))); });
  }
};

template <class T, class F>
class filter_node : public unary_node<filter_node<T, F>, T, T, F> {
public:
  filter_node(uint32_t id, typed_ptr<T> parent, F f)
    : unary_node<filter_node, T, T, F>(id, std::move(parent), std::move(f), "filter") {}
  void compute(uint32_t p, task_env& env, sink<T> out) const override {
    this->parent_->compute(p, env, [&](T&& x) {
      if (this->f_(static_cast<const T&>(x)))
        out(std::move(x));
    });
  }
};

// f(x, emit) calls emit(Out) any number of times.
template <class In, class Out, class F>
class flat_map_node : public unary_node<flat_map_node<In, Out, F>, In, Out, F> {
public:
  flat_map_node(uint32_t id, typed_ptr<In> parent, F f)
    : unary_node<flat_map_node, In, Out, F>(id, std::move(parent), std::move(f), "flat_map") {}
  void compute(uint32_t p, task_env& env, sink<Out> out) const override {
    auto emit = [&](Out&& y) { out(std::move(y)); };
    // By reference, not by value: a by-value parameter cost word count a string move and a
    // destructor per word. out(Out{...}) and out({...}) bind the rvalue overload.
    struct emitter {
      decltype(emit)& fn;
      void operator()(Out&& y) const { fn(std::move(y)); }
      void operator()(const Out& y) const { fn(Out(y)); }
    } em{emit};
    this->parent_->compute(p, env, [&](In&& x) { this->f_(std::move(x), em); });
  }
};

// f(std::vector<In>&&) returns a range of Out (the whole partition at once).
template <class In, class Out, class F>
class map_partitions_node : public unary_node<map_partitions_node<In, Out, F>, In, Out, F> {
public:
  map_partitions_node(uint32_t id, typed_ptr<In> parent, F f)
    : unary_node<map_partitions_node, In, Out, F>(id, std::move(parent), std::move(f), "map_partitions") {}
  void compute(uint32_t p, task_env& env, sink<Out> out) const override {
    std::vector<In> xs;
    this->parent_->compute(p, env, [&](In&& x) { xs.push_back(std::move(x)); });
    for (auto&& y : this->f_(std::move(xs))) {
      Out v = std::move(y);
      out(std::move(v));
    }
  }
};

// Bernoulli sample with a per-partition seed, so a recomputed partition samples the same rows.
template <class T>
class sample_node : public registered_node<sample_node<T>, T> {
public:
  sample_node(uint32_t id, typed_ptr<T> parent, double fraction, uint64_t seed)
    : registered_node<sample_node<T>, T>(id, parent->num_partitions(), "sample"),
      parent_(std::move(parent)), fraction_(fraction), seed_(seed) {
    this->narrow_parents_.push_back(parent_);
  }
  void compute(uint32_t p, task_env& env, sink<T> out) const override {
    std::mt19937_64 rng{seed_ ^ (0x9E3779B97F4A7C15ull * (p + 1))};
    std::uniform_real_distribution<double> u{0.0, 1.0};
    parent_->compute(p, env, [&](T&& x) {
      if (u(rng) < fraction_)
        out(std::move(x));
    });
  }
  void encode_body(encoder& e) const override {
    e.node(*parent_);
    e(fraction_);
    e(seed_);
  }
  static std::shared_ptr<node_base> decode(uint32_t id, byte_reader& r, decode_context& ctx) {
    auto parent = ctx.decode_typed<T>(r);
    auto fraction = deserialize<double>(r);
    return std::make_shared<sample_node>(id, std::move(parent), fraction, deserialize<uint64_t>(r));
  }

private:
  typed_ptr<T> parent_;
  double fraction_;
  uint64_t seed_;
};

// -- several parents -----------------------------------------------------------

// Partitions of the parents one after another.
template <class T>
class union_node : public registered_node<union_node<T>, T> {
public:
  union_node(uint32_t id, std::vector<typed_ptr<T>> parents)
    : registered_node<union_node<T>, T>(id, total(parents), "union"), parents_(std::move(parents)) {
    for (auto& p : parents_)
      this->narrow_parents_.push_back(p);
  }
  void compute(uint32_t p, task_env& env, sink<T> out) const override {
    auto [parent, local] = locate(p);
    parent->compute(local, env, out);
  }
  std::vector<std::string> preferred_hosts(uint32_t p) const override {
    auto [parent, local] = locate(p);
    return parent->preferred_hosts(local);
  }
  void encode_body(encoder& e) const override {
    e(static_cast<uint32_t>(parents_.size()));
    for (auto& p : parents_)
      e.node(*p);
  }
  static std::shared_ptr<node_base> decode(uint32_t id, byte_reader& r, decode_context& ctx) {
    std::vector<typed_ptr<T>> parents(deserialize<uint32_t>(r));
    for (auto& p : parents)
      p = ctx.decode_typed<T>(r);
    return std::make_shared<union_node>(id, std::move(parents));
  }

private:
  static uint32_t total(const std::vector<typed_ptr<T>>& ps) {
    uint32_t n = 0;
    for (auto& p : ps)
      n += p->num_partitions();
    return n;
  }
  std::pair<const node<T>*, uint32_t> locate(uint32_t p) const {
    for (auto& parent : parents_) {
      if (p < parent->num_partitions())
        return {parent.get(), p};
      p -= parent->num_partitions();
    }
    throw std::out_of_range("union: partition out of range");
  }
  std::vector<typed_ptr<T>> parents_;
};

// Fewer partitions without a shuffle: output partition i reads a contiguous run of parent
// partitions, so the order of records is kept.
template <class T>
class coalesce_node : public registered_node<coalesce_node<T>, T> {
public:
  coalesce_node(uint32_t id, typed_ptr<T> parent, uint32_t n)
    : registered_node<coalesce_node<T>, T>(id, std::max<uint32_t>(1, std::min(n, parent->num_partitions())), "coalesce"),
      parent_(std::move(parent)) {
    this->narrow_parents_.push_back(parent_);
  }
  void compute(uint32_t p, task_env& env, sink<T> out) const override {
    auto [b, e] = range(p);
    for (uint32_t q = b; q < e; ++q)
      parent_->compute(q, env, out);
  }
  std::vector<std::string> preferred_hosts(uint32_t p) const override {
    auto [b, e] = range(p);
    return b < e ? parent_->preferred_hosts(b) : std::vector<std::string>{};
  }
  void encode_body(encoder& e) const override {
    e.node(*parent_);
    e(this->num_partitions());
  }
  static std::shared_ptr<node_base> decode(uint32_t id, byte_reader& r, decode_context& ctx) {
    auto parent = ctx.decode_typed<T>(r);
    return std::make_shared<coalesce_node>(id, std::move(parent), deserialize<uint32_t>(r));
  }

private:
  std::pair<uint32_t, uint32_t> range(uint32_t p) const {
    uint64_t m = parent_->num_partitions(), n = this->num_partitions();
    return {static_cast<uint32_t>(p * m / n), static_cast<uint32_t>((p + 1) * m / n)};
  }
  typed_ptr<T> parent_;
};

} // namespace ember::detail
