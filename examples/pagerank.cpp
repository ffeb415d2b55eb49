// pagerank EDGES ITERATIONS OUTPUT_DIR: the classic PageRank over "src dst" lines (Spark's
// example: rank = 0.15 + 0.85 * sum of contributions); writes "page<TAB>rank" lines.
// As in Spark's example the links are cached: the first iteration parses, deduplicates and
// groups the edges once, later ones read the cached links. Each iteration's ranks are computed
// (and cached, the previous ones unpersisted) by a count, so its time is printed on its own:
// "pagerank: iteration I: S s (CPU C s)" on stderr.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

#include <ember/ember.hpp>

// CPU seconds of this process so far (every thread; in local mode the executor's too).
double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

int run(int argc, char** argv) {
  auto ctx = ember::context::create(argc, argv);
  if (argc != 4) {
    std::cerr << "usage: pagerank [--master M] [--conf k=v]... EDGES ITERATIONS OUTPUT_DIR\n";
    return 2;
  }
  int iterations = std::stoi(argv[2]);
  auto start = std::chrono::steady_clock::now();
  auto links = ctx.text_file(argv[1])
                 .flat_map<std::pair<std::string, std::string>>([](const std::string& line, auto& out) {
                   std::string_view fields[2];
                   int n = 0;
                   ember::for_each_word(line, [&](std::string_view w) {
                     if (n < 2)
                       fields[n] = w;
                     ++n;
                   });
                   if (n >= 2)
                     out({std::string(fields[0]), std::string(fields[1])});
                 })
                 .distinct()
                 .group_by_key()
                 .cache();
  auto ranks = links.map_values([](const std::vector<std::string>&) { return 1.0; });
  for (int i = 0; i < iterations; ++i) {
    auto it_start = std::chrono::steady_clock::now();
    auto it_cpu = cpu_seconds();
    auto previous = ranks;
    auto contribs = links.join(ranks).flat_map<std::pair<std::string, double>>(
      [](const std::pair<std::string, std::pair<std::vector<std::string>, double>>& x, auto& out) {
        auto& [urls, rank] = x.second;
        for (auto& u : urls)
          out({u, rank / static_cast<double>(urls.size())});
      });
    ranks = contribs.reduce_by_key([](double a, double b) { return a + b; })
              .map_values([](double sum) { return 0.15 + 0.85 * sum; })
              .cache();
    ranks.count();
    previous.unpersist(false);
    std::fprintf(stderr, "pagerank: iteration %d: %.3f s (CPU %.3f s)\n", i + 1,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - it_start).count(),
                 cpu_seconds() - it_cpu);
  }
  ranks.sort_by_key().save_as_text_file(argv[3]);
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "pagerank: %d iterations, %.3f s\n", iterations, secs);
  return 0;
}

int main(int argc, char** argv) { return ember::run_app("pagerank", [&] { return run(argc, argv); }); }
