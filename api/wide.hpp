// Wide operators: a shuffle writer node (the map side, the last node of a shuffle map stage)
// and a shuffled node (the reduce side, first node of the next stage) per shuffle.
//
//   parent ──► *_writer_node ══ files per map task ══► aggregated/partitioned/sorted/cogroup node
//              (map stage)        (shuffle/)           (reads one bucket of every map output)
#pragma once

#include <filesystem>
#include <optional>
#include <utility>
#include <vector>

#include "api/node.hpp"
#include "api/task.hpp"
#include "shuffle/external.hpp"
#include "shuffle/partitioned_output.hpp"
#include "shuffle/serialized_sorter.hpp"
#include "shuffle/shuffle_file.hpp"

namespace ember::detail {

// -- aggregators: how values of a key combine (Spark's Aggregator) ------------------

// reduce_by_key: values merge with f, on both sides of the shuffle.
template <class K, class V, class F>
struct reduce_aggregator {
  using combiner = V;
  static constexpr bool map_side_combine = true;
  F f;
  V create(V&& v) const { return std::move(v); }
  void merge(V& acc, V&& v) const { acc = f(std::move(acc), std::move(v)); }
  void save(byte_writer& w) const { serialize_function(w, f); }
  static reduce_aggregator load(byte_reader& r) { return {deserialize_function<F>(r)}; }
};

// aggregate_by_key: seq folds a value into a C (starting from zero), comb merges two Cs.
template <class K, class V, class C, class Seq, class Comb>
struct fold_aggregator {
  using combiner = C;
  static constexpr bool map_side_combine = true;
  C zero;
  Seq seq;
  Comb comb;
  C create(V&& v) const { return seq(C{zero}, std::move(v)); }
  void merge(C& acc, C&& c) const { acc = comb(std::move(acc), std::move(c)); }
  void save(byte_writer& w) const {
    serialize(w, zero);
    serialize_function(w, seq);
    serialize_function(w, comb);
  }
  static fold_aggregator load(byte_reader& r) {
    fold_aggregator a;
    deserialize(r, a.zero);
    a.seq = deserialize_function<Seq>(r);
    a.comb = deserialize_function<Comb>(r);
    return a;
  }
};

// group_by_key and cogroup: all values of a key in one vector; no map-side combine (it would
// not shrink anything, as in Spark).
template <class K, class V>
struct group_aggregator {
  using combiner = std::vector<V>;
  static constexpr bool map_side_combine = false;
  std::vector<V> create(V&& v) const { return {std::move(v)}; }
  void merge(std::vector<V>& acc, std::vector<V>&& c) const {
    if (acc.empty())
      acc = std::move(c);
    else
      std::move(c.begin(), c.end(), std::back_inserter(acc));
  }
  void save(byte_writer&) const {}
  static group_aggregator load(byte_reader&) { return {}; }
};

// -- shared machinery ------------------------------------------------------------------

// Options for a task's shuffle output: its memory budget and spill directory.
shuffle::output_options output_options_for(const task_env& env, uint32_t num_partitions);

// Options for a reduce task's spilling aggregation or sort.
shuffle::external_options external_options_for(const task_env& env);

// Where this task writes its map output: <executor dir>/shuffle_S_M_<task id>.data/.index.
std::pair<std::string, std::string> map_output_paths(const task_env& env, uint32_t shuffle_id);

scheduler::map_status make_status(const task_env& env, uint32_t shuffle_id, const shuffle::map_output& out,
                                  std::string data_path, std::string index_path);

// Calls fn(byte_reader&) on every block of reduce partition `p` of every map output of the
// shuffle (host-local files read directly). A missing or corrupt output throws
// fetch_failed_error naming the map output.
void read_shuffle_blocks(task_env& env, uint32_t shuffle_id, uint32_t p,
                         const std::function<void(byte_reader&)>& fn);

// Reads every record of type R of reduce partition p.
template <class R, class F>
void read_shuffle(task_env& env, uint32_t shuffle_id, uint32_t p, F&& fn) {
  uint64_t records = 0;
  read_shuffle_blocks(env, shuffle_id, p, [&](byte_reader& r) {
    while (!r.at_end()) {
      fn(deserialize<R>(r));
      ++records;
    }
  });
  env.shuffle_records_read += records;
}

// Base of every map-side node: one parent, one shuffle.
template <class Self, class In>
class writer_node : public shuffle_writer_base {
public:
  writer_node(uint32_t id, typed_ptr<In> parent, uint32_t shuffle_id, uint32_t num_reduce, const char* name)
    : shuffle_writer_base(id, parent->num_partitions(), name), parent_(std::move(parent)), shuffle_id_(shuffle_id),
      num_reduce_(num_reduce) {
    (void) node_registrar<Self>::registered;
    narrow_parents_.push_back(parent_);
  }
  const char* type_name() const override { return typeid(Self).name(); }
  uint32_t shuffle_id() const override { return shuffle_id_; }
  uint32_t num_reduce() const { return num_reduce_; }
  std::vector<std::string> preferred_hosts(uint32_t p) const override { return parent_->preferred_hosts(p); }

protected:
  // Writes the common part; subclasses append their own parameters.
  void encode_common(encoder& e) const {
    e.node(*parent_);
    e(shuffle_id_);
    e(num_reduce_);
  }
  struct common {
    typed_ptr<In> parent;
    uint32_t shuffle_id, num_reduce;
  };
  static common decode_common(byte_reader& r, decode_context& ctx) {
    common c;
    c.parent = ctx.decode_typed<In>(r);
    c.shuffle_id = deserialize<uint32_t>(r);
    c.num_reduce = deserialize<uint32_t>(r);
    return c;
  }
  template <class Output>
  scheduler::map_status finish(task_env& env, Output& out) const {
    auto [data, index] = map_output_paths(env, shuffle_id_);
    auto result = out.commit(data, index);
    env.shuffle_records_written += result.metrics.records_written;
    env.shuffle_bytes_written += result.metrics.bytes_written;
    env.spill_bytes += result.metrics.spill_bytes;
    return make_status(env, shuffle_id_, result, std::move(data), std::move(index));
  }

  typed_ptr<In> parent_;
  uint32_t shuffle_id_;
  uint32_t num_reduce_;
};

// Base of every reduce-side node: its shuffle dependencies, encoded with their writers only
// when the whole graph is encoded (for the DAG scheduler).
template <class Self, class T>
class shuffled_base : public registered_node<Self, T> {
public:
  shuffled_base(uint32_t id, uint32_t num_partitions, const char* name,
                std::vector<std::shared_ptr<const shuffle_writer_base>> writers, std::vector<uint32_t> shuffle_ids)
    : registered_node<Self, T>(id, num_partitions, name), writers_(std::move(writers)), shuffle_ids_(std::move(shuffle_ids)) {
    for (size_t i = 0; i < writers_.size(); ++i)
      if (writers_[i])
        this->shuffle_parents_.push_back(std::make_shared<scheduler::shuffle_dependency>(
          scheduler::shuffle_dependency{shuffle_ids_[i], writers_[i], num_partitions}));
  }

protected:
  void encode_shuffles(encoder& e) const {
    e(this->num_partitions());
    e(shuffle_ids_);
    e(e.include_map_side);
    if (e.include_map_side)
      for (auto& w : writers_)
        e.node(*w);
  }
  struct shuffles {
    uint32_t num_partitions;
    std::vector<uint32_t> ids;
    std::vector<std::shared_ptr<const shuffle_writer_base>> writers;
  };
  static shuffles decode_shuffles(byte_reader& r, decode_context& ctx) {
    shuffles s;
    s.num_partitions = deserialize<uint32_t>(r);
    s.ids = deserialize<std::vector<uint32_t>>(r);
    s.writers.resize(s.ids.size());
    if (deserialize<bool>(r))
      for (auto& w : s.writers) {
        w = std::dynamic_pointer_cast<const shuffle_writer_base>(ctx.decode(r));
        if (!w)
          throw serde_error("job graph: a shuffle whose map side is not a shuffle writer");
      }
    return s;
  }

  std::vector<std::shared_ptr<const shuffle_writer_base>> writers_;
  std::vector<uint32_t> shuffle_ids_;
};

// -- aggregation shuffles: reduce_by_key, aggregate_by_key, group_by_key, cogroup sides -------

template <class K, class V, class Agg, bool Combine>
class hash_writer_node : public writer_node<hash_writer_node<K, V, Agg, Combine>, std::pair<K, V>> {
  using base = writer_node<hash_writer_node, std::pair<K, V>>;

public:
  using C = typename Agg::combiner;
  hash_writer_node(uint32_t id, typed_ptr<std::pair<K, V>> parent, uint32_t shuffle_id, uint32_t n, Agg agg)
    : base(id, std::move(parent), shuffle_id, n, "shuffle_write"), agg_(std::move(agg)) {}

  scheduler::map_status write(uint32_t p, task_env& env) const override {
    auto opts = output_options_for(env, this->num_reduce());
    if constexpr (Combine) {
      auto merge = [this](C& acc, C&& c) { agg_.merge(acc, std::move(c)); };
      shuffle::combining_output<K, C, decltype(merge)> out{opts, merge, shuffle::hash_partitioner{this->num_reduce()}};
      this->parent_->compute(p, env, [&](std::pair<K, V>&& kv) { out.add(std::move(kv.first), agg_.create(std::move(kv.second))); });
      return this->finish(env, out);
    } else {
      shuffle::partitioned_output<std::pair<K, V>> out{opts};
      shuffle::hash_partitioner part{this->num_reduce()};
      this->parent_->compute(p, env, [&](std::pair<K, V>&& kv) { out.add(part(kv.first), kv); });
      return this->finish(env, out);
    }
  }
  void encode_body(encoder& e) const override {
    this->encode_common(e);
    agg_.save(e.w);
  }
  static std::shared_ptr<node_base> decode(uint32_t id, byte_reader& r, decode_context& ctx) {
    auto c = base::decode_common(r, ctx);
    return std::make_shared<hash_writer_node>(id, std::move(c.parent), c.shuffle_id, c.num_reduce, Agg::load(r));
  }
  const Agg& aggregator() const { return agg_; }

private:
  Agg agg_;
};

template <class K, class V, class Agg, bool Combine>
class aggregated_node
  : public shuffled_base<aggregated_node<K, V, Agg, Combine>, std::pair<K, typename Agg::combiner>> {
public:
  using C = typename Agg::combiner;
  using writer = hash_writer_node<K, V, Agg, Combine>;
  using base = shuffled_base<aggregated_node, std::pair<K, C>>;

  aggregated_node(uint32_t id, std::shared_ptr<const writer> w, const char* name)
    : base(id, w->num_reduce(), name, {w}, {w->shuffle_id()}), agg_(w->aggregator()) {}
  aggregated_node(uint32_t id, typename base::shuffles s, Agg agg)
    : base(id, s.num_partitions, "aggregate", std::move(s.writers), std::move(s.ids)), agg_(std::move(agg)) {}

  void compute(uint32_t p, task_env& env, sink<std::pair<K, C>> out) const override {
    auto merge = [this](C& acc, C&& c) { agg_.merge(acc, std::move(c)); };
    shuffle::external_aggregator<K, C, decltype(merge)> table{external_options_for(env), merge};
    auto sid = this->shuffle_ids_[0];
    if constexpr (Combine)
      read_shuffle<std::pair<K, C>>(env, sid, p, [&](std::pair<K, C>&& kc) { table.insert(std::move(kc.first), std::move(kc.second)); });
    else
      read_shuffle<std::pair<K, V>>(env, sid, p, [&](std::pair<K, V>&& kv) {
        table.insert(std::move(kv.first), agg_.create(std::move(kv.second)));
      });
    table.for_each([&](const K& k, C& c) { out(std::pair<K, C>{k, std::move(c)}); });
    env.spill_bytes += table.metrics().spill_bytes;
  }
  void encode_body(encoder& e) const override {
    this->encode_shuffles(e);
    agg_.save(e.w);
  }
  static std::shared_ptr<node_base> decode(uint32_t id, byte_reader& r, decode_context& ctx) {
    auto s = base::decode_shuffles(r, ctx);
    return std::make_shared<aggregated_node>(id, std::move(s), Agg::load(r));
  }

private:
  Agg agg_;
};

// -- plain partitioning: partition_by, repartition -----------------------------------

// direct: the key is the partition number (repartition's round robin); else hash of the key.
template <class K, class V, bool Direct>
class partition_writer_node : public writer_node<partition_writer_node<K, V, Direct>, std::pair<K, V>> {
  using base = writer_node<partition_writer_node, std::pair<K, V>>;

public:
  partition_writer_node(uint32_t id, typed_ptr<std::pair<K, V>> parent, uint32_t shuffle_id, uint32_t n)
    : base(id, std::move(parent), shuffle_id, n, "shuffle_write") {}
  scheduler::map_status write(uint32_t p, task_env& env) const override {
    shuffle::partitioned_output<std::pair<K, V>> out{output_options_for(env, this->num_reduce())};
    shuffle::hash_partitioner part{this->num_reduce()};
    this->parent_->compute(p, env, [&](std::pair<K, V>&& kv) {
      size_t target;
      if constexpr (Direct)
        target = static_cast<size_t>(kv.first) % this->num_reduce();
      else
        target = part(kv.first);
      out.add(target, kv);
    });
    return this->finish(env, out);
  }
  void encode_body(encoder& e) const override { this->encode_common(e); }
  static std::shared_ptr<node_base> decode(uint32_t id, byte_reader& r, decode_context& ctx) {
    auto c = base::decode_common(r, ctx);
    return std::make_shared<partition_writer_node>(id, std::move(c.parent), c.shuffle_id, c.num_reduce);
  }
};

template <class K, class V, bool Direct>
class partitioned_node : public shuffled_base<partitioned_node<K, V, Direct>, std::pair<K, V>> {
  using base = shuffled_base<partitioned_node, std::pair<K, V>>;

public:
  explicit partitioned_node(uint32_t id, std::shared_ptr<const partition_writer_node<K, V, Direct>> w)
    : base(id, w->num_reduce(), "partition_by", {w}, {w->shuffle_id()}) {}
  explicit partitioned_node(uint32_t id, typename base::shuffles s)
    : base(id, s.num_partitions, "partition_by", std::move(s.writers), std::move(s.ids)) {}
  void compute(uint32_t p, task_env& env, sink<std::pair<K, V>> out) const override {
    read_shuffle<std::pair<K, V>>(env, this->shuffle_ids_[0], p, [&](std::pair<K, V>&& kv) { out(std::move(kv)); });
  }
  void encode_body(encoder& e) const override { this->encode_shuffles(e); }
  static std::shared_ptr<node_base> decode(uint32_t id, byte_reader& r, decode_context& ctx) {
    return std::make_shared<partitioned_node>(id, base::decode_shuffles(r, ctx));
  }
};

// Keys records for repartition: partition p starts at a position derived from p and deals the
// records round robin, as Spark does, so output partitions get equal shares.
template <class T>
class round_robin_node : public registered_node<round_robin_node<T>, std::pair<uint32_t, T>> {
public:
  round_robin_node(uint32_t id, typed_ptr<T> parent, uint32_t n)
    : registered_node<round_robin_node<T>, std::pair<uint32_t, T>>(id, parent->num_partitions(), "repartition"),
      parent_(std::move(parent)), n_(std::max<uint32_t>(1, n)) {
    this->narrow_parents_.push_back(parent_);
  }
  void compute(uint32_t p, task_env& env, sink<std::pair<uint32_t, T>> out) const override {
    uint32_t next = static_cast<uint32_t>(stable_hash(p) % n_);
    parent_->compute(p, env, [&](T&& x) {
      out(std::pair<uint32_t, T>{next, std::move(x)});
      next = next + 1 == n_ ? 0 : next + 1;
    });
  }
  void encode_body(encoder& e) const override {
    e.node(*parent_);
    e(n_);
  }
  static std::shared_ptr<node_base> decode(uint32_t id, byte_reader& r, decode_context& ctx) {
    auto parent = ctx.decode_typed<T>(r);
    return std::make_shared<round_robin_node>(id, std::move(parent), deserialize<uint32_t>(r));
  }

private:
  typed_ptr<T> parent_;
  uint32_t n_;
};

// -- salted repartition: one hot key spread over up to `salt` partitions -------------------

// The salt of record `index` (0-based, in compute order) of parent partition `partition`, in
// [0, salt): drawn from a hash of the two, so a recomputed partition (same records, same order)
// sends every record where the first attempt did; reducers never see a record twice or lose one.
inline uint32_t salt_of(uint32_t partition, uint64_t index, uint32_t salt) {
  if (salt <= 1)
    return 0;
  return static_cast<uint32_t>(stable_hash(std::pair<uint32_t, uint64_t>{partition, index}) % salt);
}

// Where repartition(n, key_fn, salt) sends a record with key k and salt s: stable_hash with the
// salt as its seed (independent hash functions per salt; salt 0 is plain hash partitioning).
template <class K>
uint32_t salted_partition(const K& key, uint32_t s, uint32_t n) {
  return static_cast<uint32_t>(stable_hash(key, s) % std::max<uint32_t>(1, n));
}

// Keys each record with its target partition (salted_partition of key_fn(x) and salt_of); the
// shuffle then sends it there directly (partition_writer_node<uint32_t, T, true>).
template <class T, class F>
class salted_key_node : public registered_node<salted_key_node<T, F>, std::pair<uint32_t, T>> {
public:
  salted_key_node(uint32_t id, typed_ptr<T> parent, F key_fn, uint32_t n, uint32_t salt)
    : registered_node<salted_key_node<T, F>, std::pair<uint32_t, T>>(id, parent->num_partitions(), "repartition"),
      parent_(std::move(parent)), key_fn_(std::move(key_fn)), n_(std::max<uint32_t>(1, n)),
      salt_(std::max<uint32_t>(1, salt)) {
    this->narrow_parents_.push_back(parent_);
  }
  void compute(uint32_t p, task_env& env, sink<std::pair<uint32_t, T>> out) const override {
    uint64_t index = 0;
    parent_->compute(p, env, [&](T&& x) {
      uint32_t target = salted_partition(key_fn_(static_cast<const T&>(x)), salt_of(p, index++, salt_), n_);
      out(std::pair<uint32_t, T>{target, std::move(x)});
    });
  }
  std::vector<std::string> preferred_hosts(uint32_t p) const override { return parent_->preferred_hosts(p); }
  void encode_body(encoder& e) const override {
    e.node(*parent_);
    serialize_function(e.w, key_fn_);
    e(n_);
    e(salt_);
  }
  static std::shared_ptr<node_base> decode(uint32_t id, byte_reader& r, decode_context& ctx) {
    auto parent = ctx.decode_typed<T>(r);
    auto f = deserialize_function<F>(r);
    auto n = deserialize<uint32_t>(r);
    return std::make_shared<salted_key_node>(id, std::move(parent), std::move(f), n, deserialize<uint32_t>(r));
  }

private:
  typed_ptr<T> parent_;
  F key_fn_;
  uint32_t n_;
  uint32_t salt_;
};

// -- sort: range partitioning from sampled bounds, each reduce partition sorted -------------

template <class K>
struct key_order {
  bool ascending = true;
  template <class V>
  bool operator()(const std::pair<K, V>& a, const std::pair<K, V>& b) const {
    return ascending ? a.first < b.first : b.first < a.first;
  }
  bool operator()(const K& a, const K& b) const { return ascending ? a < b : b < a; }
};

template <class K, class V>
class sort_writer_node : public writer_node<sort_writer_node<K, V>, std::pair<K, V>> {
  using base = writer_node<sort_writer_node, std::pair<K, V>>;

public:
  sort_writer_node(uint32_t id, typed_ptr<std::pair<K, V>> parent, uint32_t shuffle_id, uint32_t n,
                   std::vector<K> bounds, bool ascending)
    : base(id, std::move(parent), shuffle_id, n, "sort_write"), bounds_(std::move(bounds)), ascending_(ascending) {}
  scheduler::map_status write(uint32_t p, task_env& env) const override {
    shuffle::partitioned_output<std::pair<K, V>> out{output_options_for(env, this->num_reduce())};
    shuffle::range_partitioner<K, key_order<K>> part{bounds_, key_order<K>{ascending_}};
    uint32_t n = this->num_reduce();
    this->parent_->compute(p, env, [&](std::pair<K, V>&& kv) {
      out.add(std::min<size_t>(part(kv.first), n - 1), kv);
    });
    return this->finish(env, out);
  }
  void encode_body(encoder& e) const override {
    this->encode_common(e);
    e(bounds_);
    e(ascending_);
  }
  static std::shared_ptr<node_base> decode(uint32_t id, byte_reader& r, decode_context& ctx) {
    auto c = base::decode_common(r, ctx);
    auto bounds = deserialize<std::vector<K>>(r);
    return std::make_shared<sort_writer_node>(id, std::move(c.parent), c.shuffle_id, c.num_reduce, std::move(bounds),
                                              deserialize<bool>(r));
  }

private:
  std::vector<K> bounds_;
  bool ascending_;
};

template <class K, class V>
class sorted_node : public shuffled_base<sorted_node<K, V>, std::pair<K, V>> {
  using base = shuffled_base<sorted_node, std::pair<K, V>>;

public:
  sorted_node(uint32_t id, std::shared_ptr<const sort_writer_node<K, V>> w, bool ascending)
    : base(id, w->num_reduce(), "sort_by_key", {w}, {w->shuffle_id()}), ascending_(ascending) {}
  sorted_node(uint32_t id, typename base::shuffles s, bool ascending)
    : base(id, s.num_partitions, "sort_by_key", std::move(s.writers), std::move(s.ids)), ascending_(ascending) {}
  void compute(uint32_t p, task_env& env, sink<std::pair<K, V>> out) const override {
    if constexpr (shuffle::sort_key<K>::supported) {
      // Keys with an order-preserving prefix: sort {prefix, offset} entries over the shuffled
      // bytes as they arrived, deserialize each record once, in order.
      auto sid = this->shuffle_ids_[0];
      shuffle::serialized_sorter<K, V> sorter{external_options_for(env), ascending_};
      uint64_t total = 0;
      for (const auto& s : env.map_outputs(sid))
        if (p < s.sizes.size())
          total += s.sizes[p];
      sorter.reserve(total);
      read_shuffle_blocks(env, sid, p, [&](byte_reader& r) {
        size_t n = r.remaining();
        sorter.add_block({r.take(n), n});
      });
      env.shuffle_records_read += sorter.records_added();
      sorter.for_each([&](std::pair<K, V>&& kv) { out(std::move(kv)); });
      env.spill_bytes += sorter.metrics().spill_bytes;
      return;
    }
    shuffle::external_sorter<std::pair<K, V>, key_order<K>> sorter{external_options_for(env), key_order<K>{ascending_}};
    read_shuffle<std::pair<K, V>>(env, this->shuffle_ids_[0], p, [&](std::pair<K, V>&& kv) { sorter.add(std::move(kv)); });
    sorter.for_each([&](std::pair<K, V>&& kv) { out(std::move(kv)); });
    env.spill_bytes += sorter.metrics().spill_bytes;
  }
  void encode_body(encoder& e) const override {
    this->encode_shuffles(e);
    e(ascending_);
  }
  static std::shared_ptr<node_base> decode(uint32_t id, byte_reader& r, decode_context& ctx) {
    auto s = base::decode_shuffles(r, ctx);
    return std::make_shared<sorted_node>(id, std::move(s), deserialize<bool>(r));
  }

private:
  bool ascending_;
};

// -- cogroup: two shuffles into one reduce partition ---------------------------------------

template <class K, class V, class W>
class cogroup_node
  : public shuffled_base<cogroup_node<K, V, W>, std::pair<K, std::pair<std::vector<V>, std::vector<W>>>> {
public:
  using groups = std::pair<std::vector<V>, std::vector<W>>;
  using base = shuffled_base<cogroup_node, std::pair<K, groups>>;
  using left_writer = hash_writer_node<K, V, group_aggregator<K, V>, false>;
  using right_writer = hash_writer_node<K, W, group_aggregator<K, W>, false>;

  cogroup_node(uint32_t id, std::shared_ptr<const left_writer> l, std::shared_ptr<const right_writer> r)
    : base(id, l->num_reduce(), "cogroup", {l, r}, {l->shuffle_id(), r->shuffle_id()}) {}
  cogroup_node(uint32_t id, typename base::shuffles s)
    : base(id, s.num_partitions, "cogroup", std::move(s.writers), std::move(s.ids)) {}

  void compute(uint32_t p, task_env& env, sink<std::pair<K, groups>> out) const override {
    auto merge = [](groups& acc, groups&& g) {
      std::move(g.first.begin(), g.first.end(), std::back_inserter(acc.first));
      std::move(g.second.begin(), g.second.end(), std::back_inserter(acc.second));
    };
    shuffle::external_aggregator<K, groups, decltype(merge)> table{external_options_for(env), merge};
    read_shuffle<std::pair<K, V>>(env, this->shuffle_ids_[0], p, [&](std::pair<K, V>&& kv) {
      groups g;
      g.first.push_back(std::move(kv.second));
      table.insert(std::move(kv.first), std::move(g));
    });
    read_shuffle<std::pair<K, W>>(env, this->shuffle_ids_[1], p, [&](std::pair<K, W>&& kw) {
      groups g;
      g.second.push_back(std::move(kw.second));
      table.insert(std::move(kw.first), std::move(g));
    });
    table.for_each([&](const K& k, groups& g) { out(std::pair<K, groups>{k, std::move(g)}); });
    env.spill_bytes += table.metrics().spill_bytes;
  }
  void encode_body(encoder& e) const override { this->encode_shuffles(e); }
  static std::shared_ptr<node_base> decode(uint32_t id, byte_reader& r, decode_context& ctx) {
    return std::make_shared<cogroup_node>(id, base::decode_shuffles(r, ctx));
  }
};

} // namespace ember::detail
