// cache_probe: the application of the cluster cache tests (tests/integration/cache_cluster_test.cpp).
//
//   cache_probe [--master M] [--conf k=v]... OUT MARKS RECORDS TASKS LEVEL [GO_FILE]
//       persists range(0, RECORDS) cut into TASKS partitions, mapped x -> 3x + 1, at storage level
//       LEVEL (memory_only, memory_and_disk_ser, disk_only, ...), and runs two actions over it:
//       a sum, then (after GO_FILE exists, if given: a test may kill an executor meanwhile)
//       a sum and a count again. Every computation of a partition creates one file
//       MARKS/part-<partition>-XXXXXX, in whichever process computed it, so the test counts
//       exactly which partitions were (re)computed. Writes "sum1 sum2 count2\n" to OUT.
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <ember/ember.hpp>

namespace {

ember::storage_level parse_level(const std::string& name) {
  static const std::map<std::string, ember::storage_level> levels{
    {"memory_only", ember::storage_level::memory_only},
    {"memory_only_2", ember::storage_level::memory_only_2},
    {"memory_only_ser", ember::storage_level::memory_only_ser},
    {"memory_and_disk", ember::storage_level::memory_and_disk},
    {"memory_and_disk_ser", ember::storage_level::memory_and_disk_ser},
    {"disk_only", ember::storage_level::disk_only},
  };
  return levels.at(name);
}

int run(int argc, char** argv) {
  auto ctx = ember::context::create(argc, argv);
  if (argc != 6 && argc != 7) {
    std::cerr << "usage: cache_probe [--master M] [--conf k=v]... OUT MARKS RECORDS TASKS LEVEL [GO_FILE]\n";
    return 2;
  }
  std::string out = argv[1];
  std::string marks = argv[2];
  auto records = std::stoll(argv[3]);
  auto tasks = static_cast<uint32_t>(std::stoul(argv[4]));
  auto level = parse_level(argv[5]);
  auto per_task = (records + tasks - 1) / tasks;
  // range() cuts [0, records) evenly: a partition is named by its first record / per_task.
  auto ds = ctx.range(0, records, 1, tasks)
              .map_partitions(ember::bind(
                [](const std::string& dir, int64_t per, std::vector<int64_t>&& xs) {
                  if (!xs.empty()) {
                    auto tmpl = dir + "/part-" + std::to_string(xs.front() / per) + "-XXXXXX";
                    int fd = ::mkstemp(tmpl.data());
                    if (fd >= 0)
                      ::close(fd);
                  }
                  for (auto& x : xs)
                    x = 3 * x + 1;
                  return std::move(xs);
                },
                marks, per_task));
  ds.persist(level);
  auto sum = [](int64_t a, int64_t b) { return a + b; };
  auto sum1 = ds.reduce(sum);
  std::cout << "first action done" << std::endl;
  if (argc == 7) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes{2};
    while (!std::filesystem::exists(argv[6]) && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  auto sum2 = ds.reduce(sum);
  auto count2 = ds.count();
  {
    std::ofstream f{out + ".tmp", std::ios::trunc};
    f << sum1 << ' ' << sum2 << ' ' << count2 << '\n';
  }
  std::filesystem::rename(out + ".tmp", out);
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "cache_probe: " << e.what() << std::endl;
    return 1;
  }
}
