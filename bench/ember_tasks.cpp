// ember_tasks: Ember's per-task and per-job overheads, in local mode.
//
//   ember_tasks [--master local[2]] [--conf k=v]... [TASKS [RUNS]]
//
//   trivial tasks   ctx.range(0, TASKS, 1, TASKS).count(): TASKS one-element partitions in one
//                   stage, reported as tasks per second (default TASKS = 100000).
//   empty job       ctx.range(0, 1, 1, 1).count() RUNS times (default 2000) after 50 warm-up
//                   jobs: the latency of a one-task, one-stage job, p50 / p99 / max.
// One machine-readable line per metric on stdout:
//   trivial_tasks tasks=N wall_s=S tasks_per_s=R
//   empty_job runs=N p50_ms=A p99_ms=B max_ms=C mean_ms=D
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <ember/ember.hpp>

int run(int argc, char** argv) {
  auto ctx = ember::context::create(argc, argv);
  int64_t tasks = argc > 1 ? std::stoll(argv[1]) : 100000;
  int runs = argc > 2 ? std::stoi(argv[2]) : 2000;
  if (tasks < 1 || runs < 1) {
    std::cerr << "usage: ember_tasks [--master M] [--conf k=v]... [TASKS [RUNS]]\n";
    return 2;
  }
  using clock = std::chrono::steady_clock;

  auto t0 = clock::now();
  uint64_t n = ctx.range(0, tasks, 1, static_cast<uint32_t>(tasks)).count();
  double wall = std::chrono::duration<double>(clock::now() - t0).count();
  if (n != static_cast<uint64_t>(tasks)) {
    std::cerr << "ember_tasks: range count returned " << n << ", expected " << tasks << '\n';
    return 1;
  }
  std::printf("trivial_tasks tasks=%lld wall_s=%.3f tasks_per_s=%.0f\n", static_cast<long long>(tasks), wall,
              static_cast<double>(tasks) / wall);
  std::fflush(stdout);

  for (int i = 0; i < 50; ++i)
    ctx.range(0, 1, 1, 1).count();
  std::vector<double> ms(static_cast<size_t>(runs));
  for (auto& m : ms) {
    auto t = clock::now();
    uint64_t c = ctx.range(0, 1, 1, 1).count();
    m = std::chrono::duration<double, std::milli>(clock::now() - t).count();
    if (c != 1) {
      std::cerr << "ember_tasks: empty job counted " << c << ", expected 1\n";
      return 1;
    }
  }
  double mean = 0;
  for (auto m : ms)
    mean += m / static_cast<double>(ms.size());
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double p) { return ms[std::min(ms.size() - 1, static_cast<size_t>(p * static_cast<double>(ms.size())))]; };
  std::printf("empty_job runs=%d p50_ms=%.3f p99_ms=%.3f max_ms=%.3f mean_ms=%.3f\n", runs, pct(0.50), pct(0.99),
              ms.back(), mean);
  return 0;
}

int main(int argc, char** argv) { return ember::run_app("ember_tasks", [&] { return run(argc, argv); }); }
