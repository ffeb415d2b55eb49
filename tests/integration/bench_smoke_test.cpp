// The benchmark tools at tiny sizes: generators are deterministic and produce exactly the
// documented formats, baseline_wordcount counts exactly like ember::for_each_word (across its
// 16 MiB chunk boundaries too), baseline_sort sorts, same_lines and measure report correctly.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "api/context.hpp"
#include "tests/support/files.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;

namespace {

using ember_test::slurp;

using ember_test::temp_dir;

// Runs a bench tool from build/bin with the shell; returns its exit code.
int tool(const std::string& name, const std::string& args) {
  auto exe = fs::path(ember_test::bin_dir) / name;
  REQUIRE_MESSAGE(fs::exists(exe), exe.string() << " is missing: build the bench targets");
  int status = std::system((exe.string() + " " + args).c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    lines.push_back(l);
  return lines;
}

std::map<std::string, uint64_t> reference_counts(const std::string& text) {
  std::map<std::string, uint64_t> counts;
  ember::for_each_word(text, [&](std::string_view w) { ++counts[std::string(w)]; });
  return counts;
}

// "word<TAB>count" lines (baseline_wordcount --dump) into a map.
std::map<std::string, uint64_t> parse_dump(const std::string& text) {
  std::map<std::string, uint64_t> counts;
  for (auto& l : lines_of(text)) {
    auto tab = l.rfind('\t');
    REQUIRE(tab != std::string::npos);
    CHECK(counts.emplace(l.substr(0, tab), std::stoull(l.substr(tab + 1))).second);
  }
  return counts;
}

} // namespace

TEST_CASE("gen_text: exact size, same seed same bytes, words of 2-12 letters from the vocabulary") {
  temp_dir t;
  REQUIRE(tool("gen_text", "--bytes 100000 --vocab 500 --seed 7 " + t.file("a")) == 0);
  REQUIRE(tool("gen_text", "--bytes 100000 --vocab 500 --seed 7 " + t.file("b")) == 0);
  REQUIRE(tool("gen_text", "--bytes 100000 --vocab 500 --seed 8 " + t.file("c")) == 0);
  auto a = slurp(t.file("a"));
  CHECK(a.size() == 100000);
  CHECK(a == slurp(t.file("b")));
  CHECK(a != slurp(t.file("c")));
  CHECK(a.back() == '\n');
  auto lines = lines_of(a);
  for (size_t i = 0; i + 1 < lines.size(); ++i) {  // the last line may carry padding
    size_t words = 1 + static_cast<size_t>(std::count(lines[i].begin(), lines[i].end(), ' '));
    CHECK(words >= 8);
    CHECK(words <= 15);
  }
  auto counts = reference_counts(a);
  CHECK(counts.size() <= 500);
  CHECK(counts.size() >= 400);  // Zipf over 500 words: ~all appear in ~13k draws
  for (auto& [w, n] : counts) {
    CHECK(w.size() >= 2);
    CHECK(w.size() <= 12);
    CHECK(std::all_of(w.begin(), w.end(), [](char c) { return c >= 'a' && c <= 'z'; }));
  }
  // Zipf with exponent 1: the most frequent word is about twice as frequent as the second.
  std::vector<uint64_t> freq;
  for (auto& [w, n] : counts)
    freq.push_back(n);
  std::sort(freq.rbegin(), freq.rend());
  CHECK(freq[0] > freq[1] * 3 / 2);
  CHECK(freq[0] < freq[1] * 5 / 2);
}

TEST_CASE("gen_text --cover: every vocabulary word exactly once when no Zipf bytes are asked for") {
  temp_dir t;
  REQUIRE(tool("gen_text", "--bytes 0 --vocab 3000 --cover 1 --seed 2 " + t.file("a")) == 0);
  auto counts = reference_counts(slurp(t.file("a")));
  CHECK(counts.size() == 3000);
  CHECK(std::all_of(counts.begin(), counts.end(), [](auto& c) { return c.second == 1; }));
  // With more bytes asked for, the same cover comes first and Zipf text follows.
  REQUIRE(tool("gen_text", "--bytes 100000 --vocab 3000 --cover 1 --seed 2 " + t.file("b")) == 0);
  auto b = slurp(t.file("b"));
  CHECK(b.size() == 100000);
  CHECK(reference_counts(b).size() == 3000);
}

TEST_CASE("gen_records: 100-byte records, printable key, index, newline; deterministic") {
  temp_dir t;
  REQUIRE(tool("gen_records", "--count 1000 --seed 5 " + t.file("a")) == 0);
  REQUIRE(tool("gen_records", "--count 1000 --seed 5 " + t.file("b")) == 0);
  auto a = slurp(t.file("a"));
  REQUIRE(a.size() == 100000);
  CHECK(a == slurp(t.file("b")));
  std::set<std::string> keys;
  for (size_t i = 0; i < 1000; ++i) {
    std::string r = a.substr(i * 100, 100);
    CHECK(std::all_of(r.begin(), r.begin() + 99, [](char c) { return c >= 0x20 && c <= 0x7e; }));
    CHECK(r[10] == ' ');
    CHECK(std::stoull(r.substr(11, 16), nullptr, 16) == i);
    CHECK(r[27] == ' ');
    CHECK(r[99] == '\n');
    keys.insert(r.substr(0, 10));
  }
  CHECK(keys.size() == 1000);
}

TEST_CASE("gen_graph: E lines of two ids below V, no self-loops, deterministic") {
  temp_dir t;
  REQUIRE(tool("gen_graph", "--vertices 50 --edges 2000 --seed 3 " + t.file("a")) == 0);
  REQUIRE(tool("gen_graph", "--vertices 50 --edges 2000 --seed 3 " + t.file("b")) == 0);
  auto a = slurp(t.file("a"));
  CHECK(a == slurp(t.file("b")));
  auto lines = lines_of(a);
  REQUIRE(lines.size() == 2000);
  std::map<long, int> in_degree;
  for (auto& l : lines) {
    long s = -1, d = -1;
    char extra = 0;
    REQUIRE(std::sscanf(l.c_str(), "%ld %ld%c", &s, &d, &extra) == 2);
    CHECK(s >= 0);
    CHECK(s < 50);
    CHECK(d >= 0);
    CHECK(d < 50);
    CHECK(s != d);
    ++in_degree[d];
  }
  int top = 0;
  for (auto& [v, n] : in_degree)
    top = std::max(top, n);
  CHECK(top > 2000 / 50 * 3);  // heavy-tailed: the hub has far more than the mean in-degree
}

TEST_CASE("baseline_wordcount: counts exactly like ember::for_each_word") {
  temp_dir t;
  std::string odd = "  alpha\tbeta\r\ngamma\f\falpha\vbeta  \n\n \t x y\tx\n alpha";  // no final newline
  std::ofstream(t.file("odd")) << odd;
  REQUIRE(tool("baseline_wordcount", "--dump " + t.file("odd.dump ") + t.file("odd > ") + t.file("odd.out 2>/dev/null")) == 0);
  CHECK(parse_dump(slurp(t.file("odd.dump"))) == reference_counts(odd));
  auto out = slurp(t.file("odd.out"));
  CHECK(out.rfind("# distinct 5\n# total 9\nalpha\t3\n", 0) == 0);

  // 20 MiB crosses the 16 MiB read chunk: a word cut there must be counted once, whole.
  REQUIRE(tool("gen_text", "--bytes 20m --vocab 20000 --seed 11 " + t.file("big")) == 0);
  REQUIRE(tool("baseline_wordcount", "--dump " + t.file("big.dump ") + t.file("big ") + t.file("odd > ") + t.file("big.out 2>/dev/null")) == 0);
  auto expected = reference_counts(slurp(t.file("big")));
  for (auto& [w, n] : reference_counts(odd))
    expected[w] += n;
  CHECK(parse_dump(slurp(t.file("big.dump"))) == expected);
}

TEST_CASE("baseline_sort: both variants write the records sorted by key, the same bytes") {
  temp_dir t;
  REQUIRE(tool("gen_records", "--count 5000 --seed 9 " + t.file("in")) == 0);
  REQUIRE(tool("baseline_sort", "--variant plain " + t.file("in ") + t.file("plain 2>/dev/null")) == 0);
  REQUIRE(tool("baseline_sort", "--variant index " + t.file("in ") + t.file("index 2>/dev/null")) == 0);
  auto in = slurp(t.file("in")), plain = slurp(t.file("plain"));
  CHECK(plain == slurp(t.file("index")));
  std::vector<std::string> expected, got;
  for (size_t i = 0; i < 5000; ++i)
    expected.push_back(in.substr(i * 100, 100)), got.push_back(plain.substr(i * 100, 100));
  std::sort(expected.begin(), expected.end(), [](auto& x, auto& y) { return x.compare(0, 10, y, 0, 10) < 0; });
  CHECK(got == expected);
}

TEST_CASE("same_lines compares as multisets; measure passes the exit code through") {
  temp_dir t;
  std::ofstream(t.file("a")) << "x\t1\ny\t2\n";
  std::ofstream(t.file("b1")) << "y\t2\n";
  std::ofstream(t.file("b2")) << "x\t1\n";
  std::ofstream(t.file("c")) << "x\t1\ny\t3\n";
  CHECK(tool("same_lines", t.file("a -- ") + t.file("b1 ") + t.file("b2 >/dev/null")) == 0);
  CHECK(tool("same_lines", t.file("a -- ") + t.file("c >/dev/null")) == 1);
  CHECK(tool("same_lines", t.file("a -- ") + t.file("b1 >/dev/null")) == 1);

  CHECK(tool("measure", "-o " + t.file("m /bin/sh -c 'exit 3' 2>/dev/null")) == 3);
  auto m = slurp(t.file("m"));
  CHECK(m.rfind("wall_s=", 0) == 0);
  CHECK(m.find(" exit=3 ") != std::string::npos);
  CHECK(m.find(" max_rss_kb=") != std::string::npos);
}
