// Every operator of dataset<T> through the real local runtime (actors, task threads, shuffle
// files), at local[1], local[2] and local[4], against a plainly computed reference.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <sstream>

#include "api/ember.hpp"
#include "tests/integration/engine_test_util.hpp"
#include "tests/support/files.hpp"

namespace fs = std::filesystem;
using ember_test::make_context;
using ember_test::temp_dir;

namespace {

template <class T>
std::vector<T> sorted(std::vector<T> v) {
  std::sort(v.begin(), v.end());
  return v;
}

std::vector<std::string> words_sample(size_t n, uint64_t seed) {
  std::mt19937_64 rng{seed};
  std::vector<std::string> vocab{"alpha", "beta", "gamma", "delta", "epsilon", "ζήτα", "η", "θ", "", "a b"};
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i)
    out.push_back(vocab[rng() % vocab.size()] + std::to_string(rng() % 50));
  return out;
}

std::atomic<int> throw_attempts{0};
std::atomic<int> partitions_seen{0};

} // namespace

TEST_CASE("narrow operators and actions match the reference at local[1], local[2], local[4]") {
  for (std::string master : {"local[1]", "local[2]", "local[4]"}) {
    CAPTURE(master);
    auto ctx = make_context(master);
    std::vector<int64_t> xs(1000);
    std::iota(xs.begin(), xs.end(), -300);
    auto ds = ctx.parallelize(xs, 7);
    CHECK(ds.num_partitions() == 7);
    CHECK(ds.collect() == xs);
    CHECK(ds.count() == 1000);

    auto mapped = ds.map([](int64_t x) { return x * 3 + 1; }).filter([](int64_t x) { return x % 2 == 0; });
    std::vector<int64_t> ref;
    for (auto x : xs)
      if ((x * 3 + 1) % 2 == 0)
        ref.push_back(x * 3 + 1);
    CHECK(mapped.collect() == ref);

    auto fm = ds.flat_map<std::string>([](int64_t x, auto& out) {
      for (int64_t i = 0; i < (x & 3); ++i)
        out(std::to_string(x));
    });
    std::vector<std::string> fref;
    for (auto x : xs)
      for (int64_t i = 0; i < (x & 3); ++i)
        fref.push_back(std::to_string(x));
    CHECK(fm.collect() == fref);

    CHECK(ds.reduce([](int64_t a, int64_t b) { return a + b; }) == std::accumulate(xs.begin(), xs.end(), int64_t{0}));
    CHECK(ds.take(5) == std::vector<int64_t>{-300, -299, -298, -297, -296});
    CHECK(ds.take(0).empty());
    CHECK(ds.take(5000) == xs);
    CHECK(ds.top(3) == std::vector<int64_t>{699, 698, 697});
    CHECK(ds.top(2, std::greater<>{}) == std::vector<int64_t>{-300, -299});

    auto parts = ds.map_partitions([](std::vector<int64_t>&& p) { return std::vector<size_t>{p.size()}; }).collect();
    CHECK(parts.size() == 7);
    CHECK(std::accumulate(parts.begin(), parts.end(), size_t{0}) == 1000);

    auto u = ds.union_with(ctx.parallelize(std::vector<int64_t>{1, 2, 3}, 2));
    CHECK(u.num_partitions() == 9);
    CHECK(u.count() == 1003);
    CHECK(u.collect().back() == 3);

    auto c = ds.coalesce(3);
    CHECK(c.num_partitions() == 3);
    CHECK(c.collect() == xs); // contiguous runs keep the order

    auto s1 = ds.sample(0.3, 9).collect();
    CHECK(s1 == ds.sample(0.3, 9).collect()); // deterministic for a seed
    CHECK(s1.size() > 200);
    CHECK(s1.size() < 400);
    CHECK(std::includes(xs.begin(), xs.end(), s1.begin(), s1.end()));

    auto r = ctx.range(0, 100, 7, 3).collect();
    std::vector<int64_t> rref;
    for (int64_t i = 0; i < 100; i += 7)
      rref.push_back(i);
    CHECK(r == rref);
    CHECK(ctx.range(10, 0, -3).collect() == std::vector<int64_t>{10, 7, 4, 1});

    partitions_seen = 0;
    ds.foreach_partition([](std::vector<int64_t>&&) { ++partitions_seen; });
    CHECK(partitions_seen == 7);
  }
}

TEST_CASE("wide operators match the reference") {
  for (std::string master : {"local[1]", "local[2]", "local[4]"}) {
    CAPTURE(master);
    auto ctx = make_context(master);
    auto words = words_sample(5000, 1);
    auto ds = ctx.parallelize(words, 5);

    std::map<std::string, int64_t> counts;
    for (auto& w : words)
      ++counts[w];
    auto pairs = ds.map([](std::string w) { return std::pair{std::move(w), int64_t{1}}; });
    auto reduced = pairs.reduce_by_key([](int64_t a, int64_t b) { return a + b; }, 3);
    CHECK(reduced.num_partitions() == 3);
    auto got = reduced.collect();
    CHECK(std::map<std::string, int64_t>(got.begin(), got.end()) == counts);
    CHECK(got.size() == counts.size());

    auto grouped = pairs.group_by_key(4).map_values([](std::vector<int64_t> v) { return static_cast<int64_t>(v.size()); });
    auto g = grouped.collect();
    CHECK(std::map<std::string, int64_t>(g.begin(), g.end()) == counts);

    auto agg = pairs.aggregate_by_key(std::string{}, [](std::string acc, int64_t v) { return acc + std::to_string(v); },
                                      [](std::string a, std::string b) { return a + b; });
    for (auto& [k, v] : agg.collect())
      CHECK(v == std::string(static_cast<size_t>(counts[k]), '1'));

    auto distinct = ds.distinct(2).collect();
    std::set<std::string> dref(words.begin(), words.end());
    CHECK(sorted(distinct) == std::vector<std::string>(dref.begin(), dref.end()));

    // Sort: globally ordered across partitions, both directions, a stable multiset.
    std::vector<std::pair<int64_t, std::string>> kv;
    std::mt19937_64 rng{5};
    for (int i = 0; i < 3000; ++i)
      kv.emplace_back(static_cast<int64_t>(rng() % 500) - 250, "v" + std::to_string(i));
    auto kvs = ctx.parallelize(kv, 6);
    auto asc = kvs.sort_by_key(true, 4).collect();
    CHECK(asc.size() == kv.size());
    CHECK(std::is_sorted(asc.begin(), asc.end(), [](auto& a, auto& b) { return a.first < b.first; }));
    CHECK(sorted(asc) == sorted(kv));
    auto desc = kvs.sort_by_key(false, 3).collect();
    CHECK(std::is_sorted(desc.begin(), desc.end(), [](auto& a, auto& b) { return a.first > b.first; }));
    auto by_len = ds.sort_by([](const std::string& w) { return w.size(); }).collect();
    CHECK(std::is_sorted(by_len.begin(), by_len.end(), [](auto& a, auto& b) { return a.size() < b.size(); }));
    CHECK(sorted(by_len) == sorted(words));

    auto rep = ds.repartition(8);
    CHECK(rep.num_partitions() == 8);
    CHECK(sorted(rep.collect()) == sorted(words));
    auto sizes = rep.map_partitions([](std::vector<std::string>&& p) { return std::vector<size_t>{p.size()}; }).collect();
    for (auto n : sizes)
      CHECK(n > 500); // round robin: 5000 records over 8 partitions, about 625 each

    auto pb = pairs.partition_by(3);
    auto keys_per_part = pb.map_partitions([](std::vector<std::pair<std::string, int64_t>>&& p) {
      std::set<std::string> ks;
      for (auto& [k, v] : p)
        ks.insert(k);
      return std::vector<std::vector<std::string>>{{ks.begin(), ks.end()}};
    }).collect();
    std::set<std::string> seen;
    for (auto& ks : keys_per_part)
      for (auto& k : ks)
        CHECK(seen.insert(k).second); // a key lives in exactly one partition

    // Joins.
    std::vector<std::pair<int, std::string>> left{{1, "a"}, {2, "b"}, {2, "c"}, {3, "d"}};
    std::vector<std::pair<int, double>> right{{2, 0.5}, {3, 1.5}, {3, 2.5}, {4, 9.0}};
    auto l = ctx.parallelize(left, 2);
    auto rr = ctx.parallelize(right, 3);
    auto j = sorted(l.join(rr, 2).collect());
    std::vector<std::pair<int, std::pair<std::string, double>>> jref{
      {2, {"b", 0.5}}, {2, {"c", 0.5}}, {3, {"d", 1.5}}, {3, {"d", 2.5}}};
    CHECK(j == jref);
    auto lj = sorted(l.left_join(rr).collect());
    CHECK(lj.size() == 5);
    CHECK(lj[0].first == 1);
    CHECK(!lj[0].second.second.has_value());
    auto cg = sorted(l.cogroup(rr).collect());
    CHECK(cg.size() == 4);
    CHECK(cg[3].first == 4);
    CHECK(cg[3].second.first.empty());
    CHECK(cg[3].second.second == std::vector<double>{9.0});
  }
}

TEST_CASE("empty inputs and empty partitions") {
  auto ctx = make_context("local[2]");
  auto empty = ctx.parallelize(std::vector<int>{}, 3);
  CHECK(empty.count() == 0);
  CHECK(empty.collect().empty());
  CHECK(empty.take(3).empty());
  CHECK(empty.top(3).empty());
  CHECK_THROWS_WITH_AS(empty.reduce([](int a, int b) { return a + b; }), "reduce: the dataset is empty",
                       std::invalid_argument);
  auto kv = empty.map([](int x) { return std::pair{x, x}; });
  CHECK(kv.reduce_by_key([](int a, int b) { return a + b; }).collect().empty());
  CHECK(kv.sort_by_key().collect().empty());
  CHECK(kv.join(kv).collect().empty());
  auto few = ctx.parallelize(std::vector<int>{1, 2}, 5); // three empty partitions
  CHECK(few.collect() == std::vector<int>{1, 2});
  CHECK(few.map([](int x) { return std::pair{x, 1}; }).group_by_key(4).count() == 2);
}

TEST_CASE("text_file splits at line boundaries: long lines, non-ASCII, CRLF, no final newline") {
  temp_dir dir;
  std::vector<std::string> expected;
  {
    std::ofstream a{dir.path / "a.txt"};
    for (int i = 0; i < 2000; ++i) {
      std::string line = "line " + std::to_string(i) + " ünïcödé ✓";
      if (i % 97 == 0)
        line += std::string(100000, 'x'); // longer than any split
      expected.push_back(line);
      a << line << (i % 5 == 0 ? "\r\n" : "\n");
    }
    std::ofstream b{dir.path / "b.txt"};
    b << "first\n\nthird"; // an empty line, no final newline
    expected.insert(expected.end(), {"first", "", "third"});
    std::ofstream hidden{dir.path / "_SUCCESS"};
  }
  for (std::string master : {"local[1]", "local[3]"}) {
    auto ctx = make_context(master, {"ember.files.maxPartitionBytes=64k"});
    auto lines = ctx.text_file(dir.path.string());
    CHECK(lines.num_partitions() > 10);
    CHECK(lines.collect() == expected);
    CHECK(ctx.text_file((dir.path / "*.txt").string()).count() == expected.size());
    CHECK_THROWS_WITH_AS(ctx.text_file((dir.path / "missing").string()),
                         doctest::Contains("input path does not exist"), std::runtime_error);
  }
}

TEST_CASE("save_as_text_file writes part files and _SUCCESS through the commit protocol") {
  temp_dir dir;
  auto ctx = make_context("local[2]");
  auto out = dir.path / "out";
  std::vector<std::pair<std::string, int64_t>> kv{{"a", 1}, {"b", 2}, {"c", 3}};
  ctx.parallelize(kv, 2).save_as_text_file(out.string());
  CHECK(fs::exists(out / "_SUCCESS"));
  CHECK(!fs::exists(out / "_temporary"));
  CHECK(ember_test::read_lines(out / "part-00000") == std::vector<std::string>{"a\t1"});
  CHECK(ember_test::read_lines(out / "part-00001") == std::vector<std::string>{"b\t2", "c\t3"});
  CHECK_THROWS_WITH_AS(ctx.parallelize(kv, 1).save_as_text_file(out.string()),
                       doctest::Contains("output directory already exists"), std::invalid_argument);
  // An output never committed (what a driver killed mid-save leaves) is replaced as a whole.
  auto dead = dir.path / "dead";
  fs::create_directories(dead / "_temporary" / "attempt_1_0");
  std::ofstream(dead / "_temporary" / "attempt_1_0" / "part-00001") << "stale\t9\n";
  std::ofstream(dead / "part-00000") << "stale\t8\n";
  std::ofstream(dead / "part-00005") << "stale\t7\n";
  ctx.parallelize(kv, 2).save_as_text_file(dead.string());
  CHECK(fs::exists(dead / "_SUCCESS"));
  CHECK(!fs::exists(dead / "_temporary"));
  CHECK(!fs::exists(dead / "part-00005"));
  CHECK(ember_test::read_lines(dead / "part-00000") == std::vector<std::string>{"a\t1"});
  CHECK(ember_test::read_lines(dead / "part-00001") == std::vector<std::string>{"b\t2", "c\t3"});
  // Anything else in the directory is not ours to delete.
  auto other = dir.path / "other";
  fs::create_directories(other / "_temporary");
  std::ofstream(other / "notes.txt") << "keep\n";
  CHECK_THROWS_WITH_AS(ctx.parallelize(kv, 1).save_as_text_file(other.string()),
                       doctest::Contains("output directory already exists"), std::invalid_argument);
  CHECK(fs::exists(other / "notes.txt"));
}

TEST_CASE("a throwing user function is retried, then fails the job with one clear line") {
  auto ctx = make_context("local[2]", {"ember.task.maxFailures=3"});
  throw_attempts = 0;
  auto ds = ctx.parallelize(std::vector<int>{1, 2, 3, 4}, 2).map([](int x) {
    if (x == 3) {
      ++throw_attempts;
      throw std::runtime_error("bad record 3");
    }
    return x;
  });
  try {
    ds.collect();
    FAIL("the job should have failed");
  } catch (const ember::detail::job_error& e) {
    std::string msg = e.what();
    CAPTURE(msg);
    CHECK(msg.find("bad record 3") != std::string::npos);
    CHECK(msg.find("std::runtime_error") != std::string::npos);
    CHECK(msg.find("failed 3 times") != std::string::npos);
    // Spark's wording: the task index is the partition, "1.2" is partition 1's attempt 2.
    CHECK(msg.find("Job 0 aborted due to stage failure: Task 1 in stage 0.0 failed 3 times") == 0);
    CHECK(msg.find("Lost task 1.2 in stage 0.0") != std::string::npos);
  }
  CHECK(throw_attempts == 3);
  // The context is still usable after a failed job.
  CHECK(ctx.parallelize(std::vector<int>{1, 2}, 1).count() == 2);
}

TEST_CASE("results larger than ember.driver.maxResultSize fail the job clearly") {
  auto ctx = make_context("local[2]", {"ember.driver.maxResultSize=10k"});
  auto big = ctx.range(0, 100000, 1, 4);
  CHECK(big.count() == 100000); // small results are fine
  CHECK_THROWS_WITH_AS(big.collect(), doctest::Contains("ember.driver.maxResultSize"), ember::detail::job_error);
}

// Sum of diskBytesSpilled over the TaskEnd events of an event log directory.
uint64_t spilled_bytes(const fs::path& dir) {
  uint64_t total = 0;
  const std::string field = "\"diskBytesSpilled\":\"";
  for (auto& f : fs::directory_iterator(dir))
    for (auto& line : ember_test::read_lines(f.path()))
      for (auto at = line.find(field); at != std::string::npos; at = line.find(field, at + 1))
        total += std::stoull(line.substr(at + field.size()));
  return total;
}

TEST_CASE("aggregation and sort spill under a tiny memory setting and stay exact") {
  temp_dir events;
  auto ctx = make_context("local[2]", {"ember.driver.memory=16m", "ember.memory.fraction=0.05",
                                       "ember.eventLog.enabled=true", "ember.eventLog.dir=" + events.path.string()});
  auto ds = ctx.range(0, 200000, 1, 4).map([](int64_t x) { return std::pair{x % 50000, x}; });
  auto sums = ds.reduce_by_key([](int64_t a, int64_t b) { return a + b; }, 3).collect();
  CHECK(sums.size() == 50000);
  std::map<int64_t, int64_t> ref;
  for (int64_t x = 0; x < 200000; ++x)
    ref[x % 50000] += x;
  CHECK(std::map<int64_t, int64_t>(sums.begin(), sums.end()) == ref);
  auto sorted_keys = ds.sort_by_key(true, 3).keys().collect();
  CHECK(sorted_keys.size() == 200000);
  CHECK(std::is_sorted(sorted_keys.begin(), sorted_keys.end()));
  ctx.stop(); // the log is complete once the context stops
  CHECK(spilled_bytes(events.path) > 0); // exact *because* it spilled, not because it fit
}

namespace {

struct scale_params {
  int64_t factor = 0;
  std::string suffix;
};

template <class Inspector>
auto inspect(Inspector& f, scale_params& p) {
  return f(p.factor, p.suffix);
}

std::atomic<int> flaky_attempts{0};

} // namespace

TEST_CASE("ember::bind ships explicit state, user types included") {
  auto ctx = make_context("local[2]");
  scale_params p{7, "!"};
  auto out = ctx.parallelize(std::vector<int64_t>{1, 2, 3}, 2)
               .map(ember::bind([](const scale_params& sp, int64_t x) { return std::to_string(x * sp.factor) + sp.suffix; }, p))
               .collect();
  CHECK(out == std::vector<std::string>{"7!", "14!", "21!"});
  auto kept = ctx.range(0, 20).filter(ember::bind([](int64_t m, int64_t x) { return x % m == 0; }, int64_t{5})).collect();
  CHECK(kept == std::vector<int64_t>{0, 5, 10, 15});
}

TEST_CASE("save_as_text_file under a retried task keeps exactly one copy of each partition") {
  temp_dir dir;
  auto ctx = make_context("local[2]", {"ember.task.maxFailures=4"});
  flaky_attempts = 0;
  auto out = dir.path / "out";
  // Partition 1's first attempt writes part of its file and then fails.
  ctx.parallelize(std::vector<int>{1, 2, 3, 4, 5, 6}, 2)
    .map_partitions([](std::vector<int>&& xs) {
      if (xs.front() == 4 && flaky_attempts++ == 0)
        throw std::runtime_error("first attempt dies");
      return std::move(xs);
    })
    .save_as_text_file(out.string());
  CHECK(flaky_attempts == 2);
  CHECK(ember_test::read_lines(out / "part-00000") == std::vector<std::string>{"1", "2", "3"});
  CHECK(ember_test::read_lines(out / "part-00001") == std::vector<std::string>{"4", "5", "6"});
  std::vector<std::string> names;
  for (auto& e : fs::directory_iterator(out))
    names.push_back(e.path().filename().string());
  CHECK(sorted(names) == std::vector<std::string>{"_SUCCESS", "part-00000", "part-00001"});
}
