// dataset<T>: a lazy, typed, partitioned collection with lineage, Spark's RDD. Transformations
// build nodes; actions submit a job through the context and merge the partitions' results.
#pragma once

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "api/actions.hpp"
#include "api/cached.hpp"
#include "api/context_impl.hpp"
#include "api/narrow.hpp"
#include "api/wide.hpp"

namespace ember {

// Comparators for top() and sort_by on pairs.
struct by_value {
  template <class P>
  bool operator()(const P& a, const P& b) const { return a.second < b.second; }
};
struct by_key {
  template <class P>
  bool operator()(const P& a, const P& b) const { return a.first < b.first; }
};

using detail::is_pair;

template <class T>
class dataset {
public:
  using value_type = T;

  dataset(std::shared_ptr<detail::context_impl> ctx, detail::typed_ptr<T> node)
    : ctx_(std::move(ctx)), node_(std::move(node)) {}

  uint32_t num_partitions() const { return node_->num_partitions(); }
  const detail::typed_ptr<T>& node() const { return node_; }

  // -- narrow transformations -----------------------------------------------------

  template <class F>
  auto map(F f) const {
    EMBER_REQUIRE_SHIPPABLE(F);
    using U = std::decay_t<std::invoke_result_t<const F&, T&&>>;
    return make<U>(std::make_shared<detail::map_node<T, U, F>>(id(), node_, std::move(f)));
  }

  // f(record, emit) calls emit(U) for each output record.
  template <class U, class F>
  dataset<U> flat_map(F f) const {
    EMBER_REQUIRE_SHIPPABLE(F);
    return make<U>(std::make_shared<detail::flat_map_node<T, U, F>>(id(), node_, std::move(f)));
  }

  template <class F>
  dataset<T> filter(F f) const {
    EMBER_REQUIRE_SHIPPABLE(F);
    return make<T>(std::make_shared<detail::filter_node<T, F>>(id(), node_, std::move(f)));
  }

  // f(std::vector<T>&&) returns a container of the output records.
  template <class F>
  auto map_partitions(F f) const {
    EMBER_REQUIRE_SHIPPABLE(F);
    using R = std::decay_t<std::invoke_result_t<const F&, std::vector<T>&&>>;
    using U = std::decay_t<typename R::value_type>;
    return make<U>(std::make_shared<detail::map_partitions_node<T, U, F>>(id(), node_, std::move(f)));
  }

  // Spark's union (a C++ keyword): the partitions of this, then of the others.
  template <class... Ds>
  dataset<T> union_with(const Ds&... others) const {
    std::vector<detail::typed_ptr<T>> parents{node_, others.node()...};
    return make<T>(std::make_shared<detail::union_node<T>>(id(), std::move(parents)));
  }

  dataset<T> sample(double fraction, uint64_t seed = 42) const {
    return make<T>(std::make_shared<detail::sample_node<T>>(id(), node_, fraction, seed));
  }

  // Fewer partitions without a shuffle (or, with shuffle = true, a repartition).
  dataset<T> coalesce(uint32_t n, bool shuffle = false) const {
    if (shuffle)
      return repartition(n);
    return make<T>(std::make_shared<detail::coalesce_node<T>>(id(), node_, n));
  }

  // -- wide transformations -------------------------------------------------------

  // n partitions, records spread evenly (round robin from a per-partition start).
  dataset<T> repartition(uint32_t n) const {
    auto keyed = make<std::pair<uint32_t, T>>(std::make_shared<detail::round_robin_node<T>>(id(), node_, n));
    return keyed.template partition_by_impl<true>(n).values();
  }

  // n partitions by key_fn(record), salted (Spark's salting idiom for skew): record i of
  // partition p goes to partition stable_hash(key_fn(x), s) % n with s = salt_of(p, i, salt) in
  // [0, salt), so one hot key spreads over up to `salt` partitions. salt = 1: hash partitioning.
  // Deterministic: a recomputed partition sends each record where the first attempt did.
  template <class F>
  dataset<T> repartition(uint32_t n, F key_fn, uint32_t salt) const {
    EMBER_REQUIRE_SHIPPABLE(F);
    n = std::max<uint32_t>(1, n);
    auto keyed = make<std::pair<uint32_t, T>>(
      std::make_shared<detail::salted_key_node<T, F>>(id(), node_, std::move(key_fn), n, salt));
    return keyed.template partition_by_impl<true>(n).values();
  }

  // Pair datasets: records with equal keys go to one partition (hash of the key).
  dataset<T> partition_by(uint32_t n) const
    requires is_pair<T>::value
  {
    return partition_by_impl<false>(n);
  }

  template <class F>
  dataset<T> reduce_by_key(F f, uint32_t n = 0) const
    requires is_pair<T>::value
  {
    EMBER_REQUIRE_SHIPPABLE(F);
    using K = typename T::first_type;
    using V = typename T::second_type;
    return aggregate<V>(detail::reduce_aggregator<K, V, F>{std::move(f)}, n, "reduce_by_key");
  }

  // zero: the initial aggregate per key; seq(C, V) -> C folds a value in; comb(C, C) -> C merges.
  template <class C, class Seq, class Comb>
  auto aggregate_by_key(C zero, Seq seq, Comb comb, uint32_t n = 0) const
    requires is_pair<T>::value
  {
    EMBER_REQUIRE_SHIPPABLE(Seq);
    EMBER_REQUIRE_SHIPPABLE(Comb);
    using K = typename T::first_type;
    using V = typename T::second_type;
    return aggregate<C>(detail::fold_aggregator<K, V, C, Seq, Comb>{std::move(zero), std::move(seq), std::move(comb)},
                        n, "aggregate_by_key");
  }

  auto group_by_key(uint32_t n = 0) const
    requires is_pair<T>::value
  {
    using K = typename T::first_type;
    using V = typename T::second_type;
    return aggregate<std::vector<V>>(detail::group_aggregator<K, V>{}, n, "group_by_key");
  }

  dataset<T> distinct(uint32_t n = 0) const {
    return map([](T x) { return std::pair<T, bool>{std::move(x), true}; })
      .reduce_by_key([](bool a, bool) { return a; }, n)
      .keys();
  }

  // Globally sorted by key: range partitions from a sample, each partition sorted. As in Spark,
  // n = 0 keeps the parent's number of partitions (each reduce task sorts about one input
  // split's worth, which usually fits its memory budget instead of spilling runs).
  dataset<T> sort_by_key(bool ascending = true, uint32_t n = 0) const
    requires is_pair<T>::value
  {
    using K = typename T::first_type;
    using V = typename T::second_type;
    n = n ? n : std::max<uint32_t>(1, num_partitions());
    auto bounds = range_bounds<K>(keys(), n, ascending);
    auto shuffle = ctx_->next_shuffle_id();
    auto writer = std::make_shared<detail::sort_writer_node<K, V>>(id(), node_, shuffle, n, bounds, ascending);
    return make<T>(std::make_shared<detail::sorted_node<K, V>>(id(), writer, ascending));
  }

  // Sorted by key_fn(record).
  template <class F>
  dataset<T> sort_by(F key_fn, bool ascending = true, uint32_t n = 0) const {
    EMBER_REQUIRE_SHIPPABLE(F);
    return map(key_with<F>{std::move(key_fn)})
      .sort_by_key(ascending, n)
      .values();
  }

  template <class W, class U = T>
  auto cogroup(const dataset<std::pair<typename U::first_type, W>>& other, uint32_t n = 0) const
    requires is_pair<T>::value
  {
    using K = typename T::first_type;
    using V = typename T::second_type;
    n = parts(n);
    auto left = std::make_shared<detail::hash_writer_node<K, V, detail::group_aggregator<K, V>, false>>(
      id(), node_, ctx_->next_shuffle_id(), n, detail::group_aggregator<K, V>{});
    auto right = std::make_shared<detail::hash_writer_node<K, W, detail::group_aggregator<K, W>, false>>(
      id(), other.node(), ctx_->next_shuffle_id(), n, detail::group_aggregator<K, W>{});
    return make<std::pair<K, std::pair<std::vector<V>, std::vector<W>>>>(
      std::make_shared<detail::cogroup_node<K, V, W>>(id(), left, right));
  }

  template <class W, class U = T>
  auto join(const dataset<std::pair<typename U::first_type, W>>& other, uint32_t n = 0) const
    requires is_pair<T>::value
  {
    using K = typename T::first_type;
    using V = typename T::second_type;
    return cogroup(other, n).template flat_map<std::pair<K, std::pair<V, W>>>(
      [](std::pair<K, std::pair<std::vector<V>, std::vector<W>>>&& g, auto& out) {
        for (auto& v : g.second.first)
          for (auto& w : g.second.second)
            out(std::pair<K, std::pair<V, W>>{g.first, {v, w}});
      });
  }

  template <class W, class U = T>
  auto left_join(const dataset<std::pair<typename U::first_type, W>>& other, uint32_t n = 0) const
    requires is_pair<T>::value
  {
    using K = typename T::first_type;
    using V = typename T::second_type;
    return cogroup(other, n).template flat_map<std::pair<K, std::pair<V, std::optional<W>>>>(
      [](std::pair<K, std::pair<std::vector<V>, std::vector<W>>>&& g, auto& out) {
        for (auto& v : g.second.first) {
          if (g.second.second.empty())
            out(std::pair<K, std::pair<V, std::optional<W>>>{g.first, {v, std::nullopt}});
          for (auto& w : g.second.second)
            out(std::pair<K, std::pair<V, std::optional<W>>>{g.first, {v, w}});
        }
      });
  }

  auto keys() const
    requires is_pair<T>::value
  {
    return map([](T p) { return std::move(p.first); });
  }

  auto values() const
    requires is_pair<T>::value
  {
    return map([](T p) { return std::move(p.second); });
  }

  template <class F>
  auto map_values(F f) const
    requires is_pair<T>::value
  {
    EMBER_REQUIRE_SHIPPABLE(F);
    return map(on_value<F>{std::move(f)});
  }

  // -- persistence (api/cached.hpp) ------------------------------------------------------
  // As in Spark these mark this dataset (every copy of this handle made afterwards, and every
  // dataset derived from it afterwards): its partitions are kept by the executors that compute
  // them, the first time an action computes them.

  // Keeps the partitions at `level`. Changing the level of a persisted dataset throws (Spark's
  // rule); persisting again at the same level does nothing.
  dataset<T>& persist(storage_level level = storage_level::memory_only) {
    if (!level.valid())
      throw std::invalid_argument("persist: storage level NONE; use unpersist() to stop caching");
    if (auto* c = dynamic_cast<const detail::cached_node<T>*>(node_.get())) {
      auto now = c->level();
      if (now.valid() && now != level)
        throw std::invalid_argument("persist: cannot change the storage level of a dataset from " + now.name() + " to "
                                    + level.name());
      c->set_level(level);
      return *this;
    }
    node_ = std::make_shared<detail::cached_node<T>>(id(), node_, level);
    return *this;
  }
  dataset<T>& cache() { return persist(storage_level::memory_only); }

  // Removes the cached partitions from every executor (with `blocking`, before returning);
  // later actions recompute them from lineage and do not cache them again.
  dataset<T>& unpersist(bool blocking = true) {
    if (auto* c = dynamic_cast<const detail::cached_node<T>*>(node_.get()); c && c->level().valid()) {
      c->set_level(storage_level::none);
      ctx_->unpersist(c->id(), blocking);
    }
    return *this;
  }

  // NONE unless persisted.
  storage_level storage() const {
    auto* c = dynamic_cast<const detail::cached_node<T>*>(node_.get());
    return c ? c->level() : storage_level::none;
  }

  // -- actions ----------------------------------------------------------------------

  std::vector<T> collect() const {
    std::vector<T> out;
    for (auto& bytes : run(std::make_unique<detail::collect_fn<T>>()))
      read_all(bytes, out);
    return out;
  }

  uint64_t count() const {
    uint64_t n = 0;
    for (auto& bytes : run(std::make_unique<detail::count_fn<T>>())) {
      byte_reader r{bytes.data(), bytes.size()};
      n += deserialize<uint64_t>(r);
    }
    return n;
  }

  template <class F>
  T reduce(F f) const {
    EMBER_REQUIRE_SHIPPABLE(F);
    std::optional<T> acc;
    for (auto& bytes : run(std::make_unique<detail::reduce_fn<T, F>>(f))) {
      byte_reader r{bytes.data(), bytes.size()};
      auto part = deserialize<std::optional<T>>(r);
      if (part)
        acc = acc ? f(std::move(*acc), std::move(*part)) : std::move(*part);
    }
    if (!acc)
      throw std::invalid_argument("reduce: the dataset is empty");
    return std::move(*acc);
  }

  // The first n records, scanning partitions in order, more of them each round (as Spark does).
  std::vector<T> take(uint64_t n) const {
    std::vector<T> out;
    uint32_t next = 0, batch = 1;
    while (out.size() < n && next < num_partitions()) {
      std::vector<uint32_t> ps;
      for (uint32_t p = next; p < std::min(num_partitions(), next + batch); ++p)
        ps.push_back(p);
      next += static_cast<uint32_t>(ps.size());
      batch *= 4;
      for (auto& bytes : run(std::make_unique<detail::take_fn<T>>(n - out.size()), ps))
        read_all(bytes, out);
    }
    if (out.size() > n)
      out.resize(n);
    return out;
  }

  // The n greatest records by `less` (default operator<), greatest first.
  template <class Less = std::less<>>
  std::vector<T> top(uint64_t n, Less less = {}) const {
    EMBER_REQUIRE_SHIPPABLE(Less);
    std::vector<T> all;
    for (auto& bytes : run(std::make_unique<detail::top_fn<T, Less>>(n, less))) {
      byte_reader r{bytes.data(), bytes.size()};
      auto part = deserialize<std::vector<T>>(r);
      std::move(part.begin(), part.end(), std::back_inserter(all));
    }
    std::stable_sort(all.begin(), all.end(), [&](const T& a, const T& b) { return less(b, a); });
    if (all.size() > n)
      all.resize(n);
    return all;
  }

  // f(std::vector<T>&&) runs on the executors, once per partition.
  template <class F>
  void foreach_partition(F f) const {
    EMBER_REQUIRE_SHIPPABLE(F);
    run(std::make_unique<detail::foreach_partition_fn<T, F>>(std::move(f)));
  }

  // One part-NNNNN file per partition under dir, then _SUCCESS. The directory must not exist
  // (an uncommitted output left by a driver that died is removed first).
  void save_as_text_file(const std::string& dir) const {
    auto abs = std::filesystem::absolute(dir).string();
    detail::setup_text_output(abs);
    auto attempts = run(std::make_unique<detail::save_text_fn<T>>(abs));
    detail::commit_text_output(abs, attempts);
  }

private:
  template <class U>
  friend class dataset;

  uint32_t id() const { return ctx_->next_node_id(); }
  uint32_t parts(uint32_t n) const { return n ? n : ctx_->default_partitions(); }

  template <class U>
  dataset<U> make(std::shared_ptr<const detail::node<U>> n) const { return dataset<U>{ctx_, std::move(n)}; }

  std::vector<std::string> run(std::unique_ptr<detail::result_fn> fn, std::vector<uint32_t> ps = {}) const {
    if (ps.empty() && num_partitions() > 0) {
      ps.resize(num_partitions());
      for (uint32_t p = 0; p < num_partitions(); ++p)
        ps[p] = p;
    }
    if (ps.empty())
      return {};
    return ctx_->run_job(node_, ps, *fn);
  }

  static void read_all(const std::string& bytes, std::vector<T>& out) {
    byte_reader r{bytes.data(), bytes.size()};
    while (!r.at_end())
      out.push_back(deserialize<T>(r));
  }

  template <class C, class Agg>
  auto aggregate(Agg agg, uint32_t n, const char* name) const {
    using K = typename T::first_type;
    using V = typename T::second_type;
    n = parts(n);
    constexpr bool combine = Agg::map_side_combine;
    auto writer = std::make_shared<detail::hash_writer_node<K, V, Agg, combine>>(id(), node_, ctx_->next_shuffle_id(), n, agg);
    return make<std::pair<K, C>>(std::make_shared<detail::aggregated_node<K, V, Agg, combine>>(id(), writer, name));
  }

  // Plain hash (or, with direct = true, key-as-partition) partitioning of a pair dataset.
  template <bool direct>
  dataset<T> partition_by_impl(uint32_t n) const {
    using K = typename T::first_type;
    using V = typename T::second_type;
    auto writer = std::make_shared<detail::partition_writer_node<K, V, direct>>(id(), node_, ctx_->next_shuffle_id(), n);
    return make<T>(std::make_shared<detail::partitioned_node<K, V, direct>>(id(), writer));
  }

  // n-1 range bounds from one sampling pass over the keys (Spark's RangePartitioner): each
  // partition returns its count and a reservoir sample; a sampled key stands for count / sample
  // size keys of its partition, and the bounds cut the weighted keys into n equal shares.
  template <class K>
  static std::vector<K> range_bounds(const dataset<K>& ks, uint32_t n, bool ascending) {
    if (n <= 1 || ks.num_partitions() == 0)
      return {};
    double sample_size = std::min(100.0 * n, 1e6);
    auto per_partition = static_cast<uint64_t>(std::ceil(3.0 * sample_size / ks.num_partitions()));
    std::vector<std::pair<K, double>> weighted;
    double total = 0;
    for (auto& bytes : ks.run(std::make_unique<detail::reservoir_fn<K>>(per_partition, 17))) {
      byte_reader r{bytes.data(), bytes.size()};
      auto count = deserialize<uint64_t>(r);
      auto sample = deserialize<std::vector<K>>(r);
      if (sample.empty())
        continue;
      double weight = static_cast<double>(count) / static_cast<double>(sample.size());
      for (auto& k : sample)
        weighted.emplace_back(std::move(k), weight);
      total += static_cast<double>(count);
    }
    detail::key_order<K> before{ascending};
    std::sort(weighted.begin(), weighted.end(), [&](auto& a, auto& b) { return before(a.first, b.first); });
    std::vector<K> bounds;
    double step = total / n, cumulative = 0, target = step;
    for (auto& [k, w] : weighted) {
      cumulative += w;
      if (cumulative >= target && bounds.size() + 1 < n) {
        if (bounds.empty() || before(bounds.back(), k))
          bounds.push_back(k);
        target += step;
      }
    }
    return bounds;
  }

  std::shared_ptr<detail::context_impl> ctx_;
  detail::typed_ptr<T> node_;
};

} // namespace ember
