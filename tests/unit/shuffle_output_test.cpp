// Map side of a shuffle (shuffle/partitioned_output.hpp, shuffle/hash_map.hpp): outputs with a
// tiny memory limit (many spills, spill merging) must equal an independently computed reference,
// and leave no spill file behind.
#include <doctest/doctest.h>

#include <map>
#include <random>
#include <unordered_map>

#include "shuffle/partitioned_output.hpp"
#include "tests/support/files.hpp"
#include "tests/support/temp_dir.hpp"

using namespace ember;
using namespace ember::shuffle;
using ember_test::temp_dir;

namespace {

template <class T>
std::vector<std::vector<T>> read_all(const std::string& d, const std::string& ix) {
  shuffle_file_reader r(d, ix);
  std::vector<std::vector<T>> out(r.num_partitions());
  for (size_t p = 0; p < r.num_partitions(); ++p)
    r.for_each_block(p, [&](std::string_view raw) {
      byte_reader in(raw);
      while (!in.at_end())
        out[p].push_back(deserialize<T>(in));
    });
  return out;
}

std::vector<std::string> words(size_t n, size_t vocabulary, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    // skewed: small ids are frequent
    uint64_t id = (rng() % vocabulary) % (1 + rng() % vocabulary);
    std::string w = std::to_string(id); // (not "w" + ...: GCC 12 -Wrestrict false positive)
    w.insert(w.begin(), 'w');
    w.append(id % 7, 'z');
    out.push_back(std::move(w));
  }
  return out;
}

struct plus {
  void operator()(int64_t& acc, int64_t&& v) const { acc += v; }
};

} // namespace

TEST_CASE("hash_map agrees with std::unordered_map, string and integer keys") {
  hash_map<std::string, int64_t> m;
  std::unordered_map<std::string, int64_t> ref;
  for (auto& w : words(50000, 5000, 3)) {
    m[w] += 1;
    ref[w] += 1;
  }
  CHECK(m.size() == ref.size());
  for (auto& [k, v] : ref) {
    REQUIRE(m.find(k) != nullptr);
    CHECK(*m.find(k) == v);
    CHECK(*m.find(std::string_view(k)) == v); // heterogeneous lookup
  }
  CHECK(m.find(std::string("absent")) == nullptr);
  hash_map<uint64_t, uint64_t> ints(10);
  for (uint64_t i = 0; i < 100000; ++i)
    ints[i * 7] = i;
  CHECK(ints.size() == 100000);
  for (uint64_t i = 0; i < 100000; ++i)
    CHECK(*ints.find(i * 7) == i);
  CHECK(ints.find(uint64_t{1}) == nullptr);
  ints.clear();
  CHECK(ints.empty());
  CHECK(ints.find(uint64_t{7}) == nullptr);
}

TEST_CASE("partitioned_output with a tiny memory limit spills often and equals the reference") {
  temp_dir spill, out;
  using rec = std::pair<uint64_t, std::string>;
  const size_t parts = 7;
  for (size_t max_spills : {size_t{2}, size_t{64}}) {
    output_options o;
    o.num_partitions = parts;
    o.spill_dir = spill.path.string();
    o.memory_limit = 2048;
    o.block_size = 512;
    o.max_spill_files = max_spills;
    partitioned_output<rec> po(o);
    std::vector<std::vector<rec>> ref(parts);
    std::mt19937_64 rng(11);
    hash_partitioner hp{parts};
    for (uint64_t i = 0; i < 20000; ++i) {
      rec r{rng() % 1000, std::string(rng() % 30, static_cast<char>('a' + i % 26))};
      size_t p = hp(r.first);
      ref[p].push_back(r);
      po.add(p, r);
    }
    auto res = po.commit(out.file("m.data"), out.file("m.index"));
    CHECK(res.metrics.spill_count > 20);
    CHECK(res.metrics.records_written == 20000);
    CHECK(res.metrics.records_spilled > 15000);
    CHECK(res.metrics.spill_bytes > 0);
    CHECK(res.metrics.bytes_written == std::filesystem::file_size(out.file("m.data")));
    CHECK(res.partition_lengths.size() == parts);
    CHECK(read_all<rec>(out.file("m.data"), out.file("m.index")) == ref); // order kept too
    CHECK(spill.entries() == 0);
  }
}

TEST_CASE("partitioned_output: compressible then incompressible records (codec switched mid-file) read back exactly") {
  temp_dir spill, out;
  output_options o;
  o.num_partitions = 3;
  o.spill_dir = spill.path.string();
  o.block_size = 4096;
  partitioned_output<std::string> po(o);
  std::vector<std::vector<std::string>> ref(3);
  std::mt19937_64 rng(5);
  for (int i = 0; i < 3000; ++i) {
    std::string r(100, ' ');
    for (auto& c : r)
      c = static_cast<char>(rng()); // random bytes: incompressible
    if (i < 200)
      r.assign(100, 'x'); // the first blocks compress well, the rest not
    size_t p = static_cast<size_t>(i % 3);
    ref[p].push_back(r);
    po.add(p, r);
  }
  auto res = po.commit(out.file("r.data"), out.file("r.index"));
  CHECK(read_all<std::string>(out.file("r.data"), out.file("r.index")) == ref);
  // Stored (nearly) raw: the data file is no bigger than the records plus frame headers.
  CHECK(res.metrics.bytes_written < 3000 * 101 + 200 * 16);
}

TEST_CASE("partitioned_output keeps LZ4 only when it saves at least a quarter") {
  // 100-byte records: `fixed` bytes repeated in every record (LZ4 finds them), the rest random.
  auto run = [](size_t fixed) {
    temp_dir spill, out;
    output_options o;
    o.num_partitions = 1;
    o.spill_dir = spill.path.string();
    o.block_size = 4096;
    partitioned_output<std::string> po(o);
    std::mt19937_64 rng(9);
    std::string r(100, 'x');
    for (int i = 0; i < 2000; ++i) {
      for (size_t j = fixed; j < r.size(); ++j)
        r[j] = static_cast<char>('A' + rng() % 36);
      po.add(0, r);
    }
    auto res = po.commit(out.file("c.data"), out.file("c.index"));
    CHECK(read_all<std::string>(out.file("c.data"), out.file("c.index"))[0].size() == 2000);
    return static_cast<double>(res.metrics.bytes_written) / (2000.0 * 101);
  };
  // ~10 % saved (terasort-like records): stored raw after the first blocks.
  double small_saving = run(12);
  CHECK(small_saving > 0.97);
  CHECK(small_saving < 1.01);
  // ~60 % saved: compressed throughout.
  CHECK(run(60) < 0.6);
}

TEST_CASE("partitioned_output without spills, with empty partitions and add_fields") {
  temp_dir spill, out;
  output_options o;
  o.num_partitions = 5;
  o.spill_dir = spill.path.string();
  partitioned_output<std::pair<std::string, int>> po(o);
  po.add(3, {"c", 3});
  po.add_fields(1, std::string("a"), 1);
  po.add(3, {"d", 4});
  CHECK_THROWS_AS(po.add(5, {"x", 0}), std::out_of_range);
  auto res = po.commit(out.file("d"), out.file("i"));
  CHECK(res.metrics.spill_count == 0);
  CHECK(res.partition_lengths[0] == 0);
  CHECK(res.partition_lengths[2] == 0);
  CHECK(res.partition_lengths[4] == 0);
  auto got = read_all<std::pair<std::string, int>>(out.file("d"), out.file("i"));
  std::vector<std::vector<std::pair<std::string, int>>> expect{{}, {{"a", 1}}, {}, {{"c", 3}, {"d", 4}}, {}};
  CHECK(got == expect);
  CHECK(spill.entries() == 0);
}

TEST_CASE("combining_output word count equals the reference, with and without spills") {
  auto input = words(60000, 3000, 5);
  std::map<std::string, int64_t> ref;
  for (auto& w : input)
    ref[w] += 1;
  const size_t parts = 4;
  for (size_t limit : {size_t{4096}, size_t{64} << 20}) {
    temp_dir spill, out;
    output_options o;
    o.num_partitions = parts;
    o.spill_dir = spill.path.string();
    o.memory_limit = limit;
    o.block_size = 1024;
    combining_output<std::string, int64_t, plus> co(o);
    for (auto& w : input)
      co.add(std::string_view(w), int64_t{1});
    auto res = co.commit(out.file("w.data"), out.file("w.index"));
    auto got = read_all<std::pair<std::string, int64_t>>(out.file("w.data"), out.file("w.index"));
    std::map<std::string, int64_t> merged; // what reducers do
    size_t records = 0;
    for (size_t p = 0; p < parts; ++p)
      for (auto& [k, v] : got[p]) {
        CHECK(stable_hash(k) % parts == p);
        merged[k] += v;
        ++records;
      }
    CHECK(merged == ref);
    CHECK(co.records_in() == input.size());
    if (limit > 4096) {
      CHECK(records == ref.size()); // fully combined: one record per key
      CHECK(res.metrics.spill_count == 0);
      CHECK(co.flushes() == 1);
    } else {
      CHECK(co.flushes() > 5);
      CHECK(res.metrics.spill_count > 5);
      CHECK(records > ref.size());
    }
    CHECK(spill.entries() == 0);
  }
}

TEST_CASE("key_equal and short_key: every length around the 8- and 16-byte boundaries") {
  key_equal eq;
  std::string base = "abcdefghijklmnopqrstuvwxyz";
  for (size_t n = 0; n <= short_key::max_size; ++n) {
    std::string a = base.substr(0, n);
    // A heap-allocated string of n bytes (capacity > 15) compares like a small one.
    std::string heap = base;
    heap.resize(n);
    REQUIRE(heap.capacity() > short_key::max_size);
    CHECK(eq(a, short_key::of(a)));
    CHECK(eq(heap, short_key::of(a)));
    CHECK(eq(a, short_key::of(std::string_view(heap))));
    CHECK(short_key::of(a).view() == a);
    if (n > 0) {
      for (size_t i = 0; i < n; ++i) { // one differing byte anywhere
        std::string b = a;
        b[i] = static_cast<char>(b[i] ^ 0x20);
        CHECK_FALSE(eq(a, short_key::of(b)));
        CHECK_FALSE(eq(b, short_key::of(a)));
      }
      CHECK_FALSE(eq(a, short_key::of(std::string_view(a).substr(1)))); // shorter
    }
    // Bytes after the end (the old contents of a reused buffer) do not matter.
    std::string longer = base.substr(0, n + 1);
    if (longer.size() <= short_key::max_size)
      CHECK_FALSE(eq(a, short_key::of(longer)));
    CHECK(eq(a, short_key::of(std::string_view(longer).substr(0, n))));
  }
  CHECK(eq(std::string("x"), std::string_view("x")));
  CHECK(eq(int64_t{3}, int64_t{3}));
}

TEST_CASE("combining_output: keys of every length, as std::string and std::string_view, equal the reference") {
  // Short keys (<= 15 bytes) wait in the queue as short_key, longer ones as std::string.
  std::vector<std::string> vocab;
  for (size_t n = 0; n <= 40; ++n) {
    vocab.push_back(std::string(n, 'k'));
    std::string accented(n, 'k');
    accented.append("\xc3\xa9"); // non-ASCII
    vocab.push_back(accented);
    if (n > 0) {
      std::string q(n - 1, 'k'); // (not "q" + ...: GCC 12 -Wrestrict false positive)
      q.insert(q.begin(), 'q');
      vocab.push_back(q);
    }
  }
  std::mt19937_64 rng(11);
  std::map<std::string, int64_t> ref;
  temp_dir spill, out;
  output_options o;
  o.num_partitions = 3;
  o.spill_dir = spill.path.string();
  combining_output<std::string, int64_t, plus> co(o);
  for (int i = 0; i < 20000; ++i) {
    const std::string& w = vocab[rng() % vocab.size()];
    int64_t v = static_cast<int64_t>(rng() % 100);
    ref[w] += v;
    switch (i % 3) {
      case 0: co.add(std::string(w), int64_t{v}); break;
      case 1: co.add(std::string_view(w), int64_t{v}); break;
      default: co.add(w, v); break; // const std::string&
    }
  }
  co.commit(out.file("k.data"), out.file("k.index"));
  auto got = read_all<std::pair<std::string, int64_t>>(out.file("k.data"), out.file("k.index"));
  std::map<std::string, int64_t> merged;
  size_t records = 0;
  for (size_t p = 0; p < 3; ++p)
    for (auto& [k, v] : got[p]) {
      CHECK(stable_hash(k) % 3 == p);
      merged[k] += v;
      ++records;
    }
  CHECK(merged == ref);
  CHECK(records == ref.size());
}

TEST_CASE("range_partitioner sends keys to (bounds[i-1], bounds[i]] and combining uses it") {
  range_partitioner<int64_t> rp{{10, 20, 30}};
  CHECK(rp.num_partitions() == 4);
  CHECK(rp(int64_t{-5}) == 0);
  CHECK(rp(int64_t{10}) == 0);
  CHECK(rp(int64_t{11}) == 1);
  CHECK(rp(int64_t{30}) == 2);
  CHECK(rp(int64_t{31}) == 3);
  range_partitioner<std::string> sp{{"g", "p"}};
  CHECK(sp(std::string("apple")) == 0);
  CHECK(sp(std::string("kiwi")) == 1);
  CHECK(sp(std::string("zebra")) == 2);

  temp_dir spill, out;
  output_options o;
  o.num_partitions = 4;
  o.spill_dir = spill.path.string();
  o.memory_limit = 1024;
  combining_output<int64_t, int64_t, plus, range_partitioner<int64_t>> co(o, plus{}, rp);
  std::map<int64_t, int64_t> ref;
  for (int64_t i = 0; i < 5000; ++i) {
    int64_t k = (i * 37) % 41;
    ref[k] += i;
    co.add(k, int64_t{i});
  }
  co.commit(out.file("r.data"), out.file("r.index"));
  auto got = read_all<std::pair<int64_t, int64_t>>(out.file("r.data"), out.file("r.index"));
  std::map<int64_t, int64_t> merged;
  for (size_t p = 0; p < 4; ++p)
    for (auto& [k, v] : got[p]) {
      CHECK(rp(k) == p);
      merged[k] += v;
    }
  CHECK(merged == ref);
  CHECK(spill.entries() == 0);
}
