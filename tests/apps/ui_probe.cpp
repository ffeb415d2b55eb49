// ui_probe: the application of the browser test (tests/ui/ui_pages_test.cpp), which looks at the
// web UI while a job runs and after it has ended.
//
//   ui_probe [--master M] [--conf k=v]... GO_FILE END_FILE
//       job 0: range(0, 1000) in 4 partitions, persisted in memory, counted (the Storage tab has
//              a cached dataset);
//       job 1: those records keyed by x % 10 and summed by key into 3 partitions; its 4 map tasks
//              wait until GO_FILE exists (at most 2 minutes), so the test sees them running;
//       then prints "jobs done" on stdout and waits for END_FILE (at most 2 minutes) before it
//       stops its context, so the test sees the finished jobs with the UI still up.
#include <chrono>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <ember/ember.hpp>

namespace {

void wait_for_file(const std::string& path) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes{2};
  while (!std::filesystem::exists(path) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
}

int run(int argc, char** argv) {
  auto ctx = ember::context::create(argc, argv);
  if (argc != 3) {
    std::cerr << "usage: ui_probe [--master M] [--conf k=v]... GO_FILE END_FILE\n";
    return 2;
  }
  std::string go = argv[1];
  std::string end = argv[2];
  auto numbers = ctx.range(0, 1000, 1, 4);
  numbers.persist(ember::storage_level::memory_only);
  std::cout << "count " << numbers.count() << std::endl;
  auto sums = numbers
                .map_partitions(ember::bind(
                  [](const std::string& go_file, std::vector<int64_t>&& xs) {
                    wait_for_file(go_file);
                    return std::move(xs);
                  },
                  go))
                .map([](int64_t x) { return std::pair<int64_t, int64_t>{x % 10, x}; })
                .reduce_by_key([](int64_t a, int64_t b) { return a + b; }, 3)
                .collect();
  std::cout << "keys " << sums.size() << std::endl;
  std::cout << "jobs done" << std::endl;
  wait_for_file(end);
  return 0;
}

} // namespace

int main(int argc, char** argv) { return ember::run_app("ui_probe", [&] { return run(argc, argv); }); }
