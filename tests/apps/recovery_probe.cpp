// recovery_probe: the application of the fault tests (tests/integration/cluster_recovery_test.cpp).
//
//   recovery_probe [--master M] [--conf k=v]... OUT RECORDS TASKS SLEEP_MS [GO_FILE]
//       sums the numbers 0..RECORDS-1 by their remainder mod 7 through a shuffle, each map task
//       sleeping SLEEP_MS per record (slow on purpose, so a test can kill processes mid-job), and
//       writes "key sum" lines sorted by key to OUT (atomically: OUT.tmp, then rename). With
//       GO_FILE it then stays up until that file exists, so a test can look at the running
//       application, and exits 0.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <ember/ember.hpp>

namespace {

int run(int argc, char** argv) {
  auto ctx = ember::context::create(argc, argv);
  if (argc != 5 && argc != 6) {
    std::cerr << "usage: recovery_probe [--master M] [--conf k=v]... OUT RECORDS TASKS SLEEP_MS [GO_FILE]\n";
    return 2;
  }
  std::string out = argv[1];
  auto records = std::stoll(argv[2]);
  auto tasks = static_cast<uint32_t>(std::stoul(argv[3]));
  auto sleep_ms = std::stoll(argv[4]);
  auto sums = ctx.range(0, records, 1, tasks)
                .map(ember::bind(
                  [](int64_t ms, int64_t x) {
                    std::this_thread::sleep_for(std::chrono::milliseconds{ms});
                    return std::pair<int64_t, int64_t>{x % 7, x};
                  },
                  sleep_ms))
                .reduce_by_key([](int64_t a, int64_t b) { return a + b; })
                .collect();
  std::sort(sums.begin(), sums.end());
  {
    std::ofstream f{out + ".tmp", std::ios::trunc};
    for (auto& [k, v] : sums)
      f << k << ' ' << v << '\n';
  }
  std::filesystem::rename(out + ".tmp", out);
  std::cout << "wrote " << sums.size() << " keys" << std::endl;
  if (argc == 6) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes{2};
    while (!std::filesystem::exists(argv[5]) && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  return 0;
}

} // namespace

int main(int argc, char** argv) { return ember::run_app("recovery_probe", [&] { return run(argc, argv); }); }
