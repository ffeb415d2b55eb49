// The example applications as real processes, each against a reference computed here.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "tests/integration/engine_test_util.hpp"
#include "tests/support/files.hpp"
#include "tests/support/process.hpp"

namespace fs = std::filesystem;
using ember_test::temp_dir;

namespace {

using ember_test::run_result;

// Runs build/bin/<program> with args to its end; stdout and stderr captured.
run_result run(const std::string& program, std::vector<std::string> args) {
  args.insert(args.begin(), ember_test::bin_dir + "/" + program);
  return ember_test::run(args);
}

std::vector<std::string> output_lines(const fs::path& dir) { return ember_test::part_file_lines(dir); }

std::string read_all(const std::vector<fs::path>& files) {
  std::string all;
  for (auto& f : files) {
    std::ifstream in{f, std::ios::binary};
    std::stringstream ss;
    ss << in.rdbuf();
    all += ss.str();
  }
  return all;
}

} // namespace

TEST_CASE("wordcount: part files hold every word's count, stdout the top 10") {
  temp_dir dir;
  std::mt19937_64 rng{3};
  std::map<std::string, int64_t> ref;
  {
    std::ofstream in{dir.path / "in.txt"};
    std::vector<std::string> vocab;
    for (int i = 0; i < 300; ++i)
      vocab.push_back((i % 3 == 0 ? "wört" : "w") + std::to_string(i));
    for (int line = 0; line < 20000; ++line) {
      int n = static_cast<int>(rng() % 12);
      for (int i = 0; i < n; ++i) {
        // skewed: low ids are frequent
        auto& w = vocab[std::min(rng() % 300, rng() % 300)];
        ++ref[w];
        in << w << (rng() % 4 == 0 ? "\t " : " ");
      }
      in << "\n";
    }
  }
  auto r = run("wordcount", {"--master", "local[2]", "--conf", "ember.files.maxPartitionBytes=64k",
                             (dir.path / "in.txt").string(), (dir.path / "out").string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::map<std::string, int64_t> got;
  for (auto& line : output_lines(dir.path / "out")) {
    auto tab = line.find('\t');
    REQUIRE(tab != std::string::npos);
    CHECK(got.emplace(line.substr(0, tab), std::stoll(line.substr(tab + 1))).second);
  }
  CHECK(got == ref);
  std::vector<std::pair<int64_t, std::string>> by_count;
  for (auto& [w, n] : ref)
    by_count.emplace_back(n, w);
  std::sort(by_count.rbegin(), by_count.rend());
  std::istringstream top{r.out};
  std::string line;
  for (int i = 0; i < 10; ++i) {
    REQUIRE(std::getline(top, line));
    CHECK(line.substr(line.find('\t') + 1) == std::to_string(by_count[static_cast<size_t>(i)].first));
  }
  CHECK(fs::exists(dir.path / "out" / "_SUCCESS"));
}

TEST_CASE("terasort: concatenated part files are the input sorted by key, byte for byte") {
  temp_dir dir;
  std::mt19937_64 rng{11};
  std::vector<std::string> records;
  for (int i = 0; i < 30000; ++i) {
    std::string r(99, ' ');
    for (int k = 0; k < 10; ++k)
      r[static_cast<size_t>(k)] = static_cast<char>(' ' + rng() % 95);
    auto id = std::to_string(i); // unique payload: ties in the key stay distinguishable
    r.replace(12, id.size(), id);
    records.push_back(r + "\n");
  }
  {
    std::ofstream in{dir.path / "in.dat", std::ios::binary};
    for (auto& r : records)
      in << r;
  }
  std::stable_sort(records.begin(), records.end(),
                   [](const std::string& a, const std::string& b) { return a.compare(0, 10, b, 0, 10) < 0; });
  auto r = run("terasort", {"--master", "local[3]", "--conf", "ember.files.maxPartitionBytes=256k",
                            (dir.path / "in.dat").string(), (dir.path / "out").string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::vector<fs::path> parts;
  for (auto& e : fs::directory_iterator(dir.path / "out"))
    if (e.path().filename().string().starts_with("part-"))
      parts.push_back(e.path());
  std::sort(parts.begin(), parts.end());
  CHECK(parts.size() == 12); // sort_by_key keeps the input's partitions (3 MB in 256 KiB splits), as Spark
  auto got = read_all(parts);
  REQUIRE(got.size() == records.size() * 100);
  // Equal keys may come in any order; compare keys in order and the records as a multiset.
  std::vector<std::string> got_records;
  for (size_t i = 0; i < got.size(); i += 100)
    got_records.push_back(got.substr(i, 100));
  for (size_t i = 0; i < records.size(); ++i)
    REQUIRE(got_records[i].compare(0, 10, records[i], 0, 10) == 0);
  std::sort(got_records.begin(), got_records.end());
  std::sort(records.begin(), records.end());
  CHECK(got_records == records);
}

TEST_CASE("pagerank: ranks match an independent computation") {
  temp_dir dir;
  std::mt19937_64 rng{7};
  std::vector<std::pair<int, int>> edges;
  for (int i = 0; i < 3000; ++i)
    edges.emplace_back(static_cast<int>(rng() % 200), static_cast<int>(std::min(rng() % 200, rng() % 200)));
  {
    std::ofstream in{dir.path / "edges.txt"};
    for (auto& [s, d] : edges)
      in << "p" << s << " p" << d << "\n";
  }
  // Reference: Spark's example semantics (distinct links, pages without out-links drop out).
  std::map<std::string, std::vector<std::string>> links;
  for (auto& [s, d] : edges) {
    auto& v = links["p" + std::to_string(s)];
    auto t = "p" + std::to_string(d);
    if (std::find(v.begin(), v.end(), t) == v.end())
      v.push_back(t);
  }
  std::map<std::string, double> ranks;
  for (auto& [p, _] : links)
    ranks[p] = 1.0;
  for (int it = 0; it < 5; ++it) {
    std::map<std::string, double> sums;
    for (auto& [p, outs] : links)
      if (ranks.count(p))
        for (auto& d : outs)
          sums[d] += ranks[p] / static_cast<double>(outs.size());
    ranks.clear();
    for (auto& [p, s] : sums)
      ranks[p] = 0.15 + 0.85 * s;
  }
  auto r = run("pagerank", {"--master", "local[2]", (dir.path / "edges.txt").string(), "5", (dir.path / "out").string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto lines = output_lines(dir.path / "out");
  CHECK(lines.size() == ranks.size());
  std::string prev;
  for (auto& line : lines) {
    auto tab = line.find('\t');
    auto page = line.substr(0, tab);
    CHECK(prev < page); // sorted by page
    prev = page;
    REQUIRE(ranks.count(page));
    CHECK(std::stod(line.substr(tab + 1)) == doctest::Approx(ranks[page]).epsilon(1e-9));
  }
}

TEST_CASE("join: every matching pair once, sorted by key") {
  temp_dir dir;
  {
    std::ofstream l{dir.path / "left.tsv"}, r{dir.path / "right.tsv"};
    l << "k1\ta\nk2\tb\nk2\tc\nk3\td\n";
    r << "k2\tx\nk3\ty\nk3\tz\nk4\tw\n";
  }
  auto r = run("join", {"--master", "local[2]", (dir.path / "left.tsv").string(), (dir.path / "right.tsv").string(),
                        (dir.path / "out").string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto lines = output_lines(dir.path / "out");
  std::sort(lines.begin(), lines.end());
  CHECK(lines == std::vector<std::string>{"k2\tb\tx", "k2\tc\tx", "k3\td\ty", "k3\td\tz"});
}

TEST_CASE("bad input and bad configuration give one clear line and a distinct exit code") {
  temp_dir dir;
  auto missing = run("wordcount", {(dir.path / "nope.txt").string(), (dir.path / "out").string()});
  CHECK(missing.exit_code == 1);
  // Besides the web UI's address (logged at start), the one line naming what was wrong.
  std::vector<std::string> err_lines;
  for (auto& l : ember_test::split_lines(missing.err))
    if (l.find("] [ui] Ember UI at http://") == std::string::npos)
      err_lines.push_back(l);
  CHECK(err_lines == std::vector<std::string>{"wordcount: text_file: input path does not exist: " + (dir.path / "nope.txt").string()});
  auto typo = run("wordcount", {"--conf", "ember.executor.memroy=4g", "x", "y"});
  CHECK(typo.exit_code == 2);
  CHECK(typo.err.find("ember.executor.memroy") != std::string::npos);
  CHECK(typo.err.find("did you mean 'ember.executor.memory'") != std::string::npos);
  auto master = run("wordcount", {"--master", "yarn", "x", "y"});
  CHECK(master.exit_code == 2);
  CHECK(master.err.find("yarn") != std::string::npos);
}
