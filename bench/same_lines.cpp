// same_lines: checks that two groups of files hold the same lines, in any order (as multisets).
// The benchmarks use it to compare Ember's part files with a baseline's output in full.
//
//   same_lines EXPECTED... -- ACTUAL...
//
// Exit 0 and "same_lines: equal, N lines" on stdout when equal; exit 1 and the first line found
// on one side only otherwise.
#include <algorithm>

#include "bench/bench_util.hpp"

using namespace ember::bench;

namespace {

struct side {
  std::vector<std::vector<char>> files;
  std::vector<std::string_view> lines;

  void load(const std::string& path) {
    files.push_back(read_file(path));
    auto& d = files.back();
    size_t b = 0;
    for (size_t i = 0; i < d.size(); ++i)
      if (d[i] == '\n')
        lines.emplace_back(d.data() + b, i - b), b = i + 1;
    if (b < d.size())  // last line without newline
      lines.emplace_back(d.data() + b, d.size() - b);
  }
};

} // namespace

int main(int argc, char** argv) {
  side expected, actual;
  side* cur = &expected;
  bool separator = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--") == 0 && !separator)
      cur = &actual, separator = true;
    else
      cur->load(argv[i]);
  }
  if (!separator)
    die("usage: same_lines EXPECTED... -- ACTUAL...");
  std::sort(expected.lines.begin(), expected.lines.end());
  std::sort(actual.lines.begin(), actual.lines.end());
  auto [e, a] = std::mismatch(expected.lines.begin(), expected.lines.end(), actual.lines.begin(), actual.lines.end());
  if (e == expected.lines.end() && a == actual.lines.end()) {
    std::printf("same_lines: equal, %zu lines\n", expected.lines.size());
    return 0;
  }
  std::printf("same_lines: DIFFERENT: %zu expected lines, %zu actual lines\n", expected.lines.size(), actual.lines.size());
  if (e != expected.lines.end() && (a == actual.lines.end() || *e < *a))
    std::printf("  only in expected: %.*s\n", static_cast<int>(std::min<size_t>(e->size(), 200)), e->data());
  else
    std::printf("  only in actual: %.*s\n", static_cast<int>(std::min<size_t>(a->size(), 200)), a->data());
  return 1;
}
