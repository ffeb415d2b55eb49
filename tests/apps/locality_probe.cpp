// locality_probe: the application of the three-host locality tests (tests/integration/locality_netns_test.cpp).
//
//   locality_probe [--master M] [--conf k=v]... count FILE
//       counts the lines of FILE (a path perhaps held only by some workers' hosts): "count N".
//   locality_probe ... busy BUSY_FILE BUSY_TASKS MAIN_FILE DIR
//       one thread runs a job over BUSY_FILE whose tasks each write DIR/started-* and then hold
//       their core until DIR/release exists; once BUSY_TASKS of them run, the main thread counts
//       MAIN_FILE ("count N"), then writes DIR/release and waits for the busy job ("busy N").
//   locality_probe ... cached FILE
//       caches FILE's lines and counts them twice: "count N\nagain N" (the second from the cache).
//   locality_probe ... slow FILE TASK_MS
//       counts FILE's lines with every task taking at least TASK_MS: "count N".
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <ember/ember.hpp>

namespace {

namespace fs = std::filesystem;

size_t started(const std::string& dir) {
  size_t n = 0;
  for (auto& e : fs::directory_iterator(dir))
    n += e.path().filename().string().starts_with("started-");
  return n;
}

int busy(ember::context& ctx, const std::string& busy_file, size_t busy_tasks, const std::string& main_file,
         const std::string& dir) {
  int64_t busy_count = -1;
  std::string busy_error;
  std::thread holder([&] {
    try {
      busy_count = ctx.text_file(busy_file)
                     .map_partitions(ember::bind(
                       [](const std::string& d, std::vector<std::string>&& lines) {
                         static std::atomic<int> seq{0};
                         std::ofstream{d + "/started-" + std::to_string(::getpid()) + "-" + std::to_string(seq++)};
                         // Holds the core until the test's job has run (a limit only for a broken run).
                         auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes{2};
                         while (!fs::exists(d + "/release") && std::chrono::steady_clock::now() < deadline)
                           std::this_thread::sleep_for(std::chrono::milliseconds{10});
                         return std::move(lines);
                       },
                       dir))
                     .count();
    } catch (const std::exception& e) {
      busy_error = e.what();
    }
  });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes{1};
  while (started(dir) < busy_tasks && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  int64_t n = -1;
  std::string error;
  if (started(dir) >= busy_tasks) {
    try {
      n = ctx.text_file(main_file).count();
    } catch (const std::exception& e) {
      error = e.what();
    }
  } else {
    error = "the busy job's tasks did not all start";
  }
  std::ofstream{dir + "/release"};
  holder.join();
  if (!error.empty() || !busy_error.empty()) {
    std::cerr << "locality_probe: " << error << (error.empty() ? "" : "; ") << busy_error << std::endl;
    return 1;
  }
  std::cout << "count " << n << "\nbusy " << busy_count << std::endl;
  return 0;
}

int run(int argc, char** argv) {
  auto ctx = ember::context::create(argc, argv);
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "count" && argc == 3) {
    std::cout << "count " << ctx.text_file(argv[2]).count() << std::endl;
    return 0;
  }
  if (mode == "cached" && argc == 3) {
    auto lines = ctx.text_file(argv[2]);
    lines.cache();
    auto first = lines.count();
    auto second = lines.count();
    std::cout << "count " << first << "\nagain " << second << std::endl;
    return 0;
  }
  if (mode == "busy" && argc == 6)
    return busy(ctx, argv[2], std::stoul(argv[3]), argv[4], argv[5]);
  if (mode == "slow" && argc == 4) {
    auto n = ctx.text_file(argv[2])
               .map_partitions(ember::bind(
                 [](int64_t ms, std::vector<std::string>&& lines) {
                   std::this_thread::sleep_for(std::chrono::milliseconds{ms}); // the task's length, not a wait
                   return std::move(lines);
                 },
                 static_cast<int64_t>(std::stoll(argv[3]))))
               .count();
    std::cout << "count " << n << std::endl;
    return 0;
  }
  std::cerr << "usage: locality_probe [--master M] [--conf k=v]... count FILE | busy BUSY_FILE BUSY_TASKS MAIN_FILE DIR"
               " | slow FILE TASK_MS\n";
  return 2;
}

} // namespace

int main(int argc, char** argv) { return ember::run_app("locality_probe", [&] { return run(argc, argv); }); }
