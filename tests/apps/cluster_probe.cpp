// cluster_probe: an application for the cluster tests — behaviours no example has.
//
//   cluster_probe [--master M] [--conf k=v]... alloc TASKS TASK_MS GO_FILE
//       counts TASKS one-element partitions, each task sleeping TASK_MS (a backlog for dynamic
//       allocation), prints "count N", then stays idle until GO_FILE exists (so the test can watch
//       the application shrink) and exits.
//   cluster_probe ... oom
//       one task allocates address space until std::bad_alloc (the executor's memory limit).
//   cluster_probe ... pools
//       two threads run jobs at once in FAIR pools "a" and "b"; prints "a SUM" and "b SUM".
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <ember/ember.hpp>

namespace {

int alloc(ember::context& ctx, int64_t tasks, int64_t task_ms, const std::string& go_file) {
  auto n = ctx.range(0, tasks, 1, static_cast<uint32_t>(tasks))
             .map(ember::bind(
               [](int64_t ms, int64_t x) {
                 std::this_thread::sleep_for(std::chrono::milliseconds{ms});
                 return x;
               },
               task_ms))
             .count();
  std::cout << "count " << n << std::endl;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes{2};
  while (!std::filesystem::exists(go_file) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  return 0;
}

int oom(ember::context& ctx) {
  auto n = ctx.range(0, 1, 1, 1)
             .map([](int64_t x) {
               // Reserve (not touch) address space until the limit says no.
               std::vector<std::unique_ptr<char[]>> hold;
               for (;;)
                 hold.emplace_back(new char[256u << 20]);
               return x;
             })
             .count();
  std::cout << "count " << n << std::endl;
  return 0;
}

int pools(ember::context& ctx) {
  int64_t sums[2] = {0, 0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i)
    threads.emplace_back([&, i] {
      ctx.set_local_property("ember.scheduler.pool", i == 0 ? "a" : "b");
      sums[i] = ctx.range(0, 100000 * (i + 1), 1, 8).reduce([](int64_t a, int64_t b) { return a + b; });
    });
  for (auto& t : threads)
    t.join();
  std::cout << "a " << sums[0] << "\nb " << sums[1] << std::endl;
  return 0;
}

int run(int argc, char** argv) {
  auto ctx = ember::context::create(argc, argv);
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "alloc" && argc == 5)
    return alloc(ctx, std::stoll(argv[2]), std::stoll(argv[3]), argv[4]);
  if (mode == "oom")
    return oom(ctx);
  if (mode == "pools")
    return pools(ctx);
  std::cerr << "usage: cluster_probe [--master M] [--conf k=v]... alloc TASKS TASK_MS GO_FILE | oom | pools\n";
  return 2;
}

} // namespace

int main(int argc, char** argv) { return ember::run_app("cluster_probe", [&] { return run(argc, argv); }); }
