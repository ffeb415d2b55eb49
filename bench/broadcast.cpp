// Broadcast benchmark (scripts/bench --only broadcast): the time from ctx.broadcast(v) of MIB MiB
// to every executor holding it, measured as ctx.broadcast plus 2-task jobs that read
// b.value().size() until both executors did (one job, unless both tasks went to one executor).
//   bench_broadcast [ember options] MIB
// Prints: broadcast mib=.. wall_s=.. create_s=.. executors=.. fetches=.. pieces_from_driver=.. pieces_from_peers=..
//         driver_cpu_s=.. (the driver process over the measured span) executor_cpu_s=.. (the larger of the
//         two executor processes' CPU during its first value()) ok=0|1
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <tuple>

#include <ember/ember.hpp>

namespace {

using values = std::vector<int64_t>;
// executor, size, fetches, pieces from the driver, from peers, CPU seconds of the executor process during value()
using row = std::tuple<std::string, uint64_t, uint64_t, uint64_t, uint64_t, double>;

double process_cpu_s() {
  timespec t{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

std::vector<row> read_size(ember::context& ctx, const ember::broadcast<values>& b) {
  return ctx.range(0, 2, 1, 2)
    .map(ember::bind([](const ember::broadcast<values>& bv, int64_t) {
      auto cpu = process_cpu_s(); // 1-core executors: no other task runs meanwhile
      auto n = static_cast<uint64_t>(bv.value().size());
      cpu = process_cpu_s() - cpu;
      auto s = bv.local_stats();
      return row{s.executor_id, n, s.fetches, s.pieces_from_driver, s.pieces_from_peers, cpu};
    }, b))
    .collect();
}

} // namespace

int main(int argc, char** argv) {
  auto ctx = ember::context::create(argc, argv);
  return ember::run_app("bench_broadcast", [&] {
    if (argc != 2)
      throw std::invalid_argument("usage: bench_broadcast [ember options] MIB");
    size_t n = std::stoull(argv[1]) * (1u << 20) / sizeof(int64_t);
    values v(n);
    for (size_t i = 0; i < n; ++i)
      v[i] = static_cast<int64_t>((i * 2654435761u) % 1000003);
    // Both executors registered and connected first (what is measured is the broadcast).
    auto warm = ctx.broadcast(values{1, 2, 3});
    std::map<std::string, row> seen;
    for (int i = 0; i < 100 && seen.size() < 2; ++i)
      for (auto& r : read_size(ctx, warm))
        seen[std::get<0>(r)] = r;
    warm.destroy();

    auto driver_cpu_start = process_cpu_s();
    auto start = std::chrono::steady_clock::now();
    auto b = ctx.broadcast(v);
    auto created = std::chrono::steady_clock::now();
    seen.clear();
    bool ok = true;
    for (int i = 0; i < 100 && seen.size() < 2; ++i)
      for (auto& r : read_size(ctx, b)) {
        ok = ok && std::get<1>(r) == n;
        seen[std::get<0>(r)] = r;
      }
    auto done = std::chrono::steady_clock::now();
    auto driver_cpu = process_cpu_s() - driver_cpu_start;
    uint64_t from_driver = 0, from_peers = 0, fetches = 0;
    double exec_cpu = 0;
    for (auto& [id, r] : seen) {
      exec_cpu = std::max(exec_cpu, std::get<5>(r));
      fetches += std::get<2>(r);
      from_driver += std::get<3>(r);
      from_peers += std::get<4>(r);
    }
    ok = ok && seen.size() == 2 && fetches == 2;
    std::printf("broadcast mib=%s wall_s=%.3f create_s=%.3f executors=%zu fetches=%llu pieces_from_driver=%llu "
                "pieces_from_peers=%llu driver_cpu_s=%.3f executor_cpu_s=%.3f ok=%d\n",
                argv[1], std::chrono::duration<double>(done - start).count(),
                std::chrono::duration<double>(created - start).count(), seen.size(),
                static_cast<unsigned long long>(fetches), static_cast<unsigned long long>(from_driver),
                static_cast<unsigned long long>(from_peers), driver_cpu, exec_cpu, ok ? 1 : 0);
    return ok ? 0 : 1;
  });
}
