// A cluster application for the broadcast integration test (tests/integration/broadcast_cluster_test.cpp):
//   broadcast_probe [ember options] OUT_FILE VALUES
// broadcasts VALUES int64s, then writes to OUT_FILE one line per phase and executor:
//   first <executor> <sum> <fetches> <from driver> <from peers>   (a 1-task job: one executor)
//   spread <executor> <sum> <fetches> <from driver> <from peers>  (jobs until both executors ran)
//   refetch <executor> <sum> <fetches> ...                         (after b.unpersist())
//   destroyed <the failed job's message>                           (after b.destroy())
//   expected <sum>
#include <fstream>
#include <map>
#include <numeric>
#include <set>
#include <string>
#include <tuple>

#include <ember/ember.hpp>

namespace {

using values = std::vector<int64_t>;
using row = std::tuple<std::string, int64_t, uint64_t, uint64_t, uint64_t>;

std::vector<row> probe(ember::context& ctx, const ember::broadcast<values>& b, uint32_t tasks) {
  return ctx.range(0, tasks, 1, tasks)
    .map(ember::bind([](const ember::broadcast<values>& bv, int64_t) {
      auto sum = std::accumulate(bv.value().begin(), bv.value().end(), int64_t{0});
      auto s = bv.local_stats();
      return row{s.executor_id, sum, s.fetches, s.pieces_from_driver, s.pieces_from_peers};
    }, b))
    .collect();
}

// Runs 4-task jobs until both executors ran one (bounded), keeping each executor's last row.
std::map<std::string, row> until_both(ember::context& ctx, const ember::broadcast<values>& b) {
  std::map<std::string, row> seen;
  for (int round = 0; round < 50 && seen.size() < 2; ++round)
    for (auto& r : probe(ctx, b, 4))
      seen[std::get<0>(r)] = r;
  return seen;
}

void write(std::ofstream& out, const char* phase, const row& r) {
  out << phase << ' ' << std::get<0>(r) << ' ' << std::get<1>(r) << ' ' << std::get<2>(r) << ' ' << std::get<3>(r)
      << ' ' << std::get<4>(r) << '\n';
}

} // namespace

int main(int argc, char** argv) {
  auto ctx = ember::context::create(argc, argv);
  return ember::run_app("broadcast_probe", [&] {
    if (argc != 3)
      throw std::invalid_argument("usage: broadcast_probe OUT_FILE VALUES");
    std::ofstream out{argv[1]};
    values v(std::stoull(argv[2]));
    for (size_t i = 0; i < v.size(); ++i)
      v[i] = static_cast<int64_t>((i * 2654435761u) % 1000003);
    auto b = ctx.broadcast(v);
    for (auto& r : probe(ctx, b, 1))
      write(out, "first", r);
    for (auto& [id, r] : until_both(ctx, b))
      write(out, "spread", r);
    b.unpersist();
    for (auto& [id, r] : until_both(ctx, b))
      write(out, "refetch", r);
    b.destroy();
    try {
      probe(ctx, b, 2);
      out << "destroyed (the job succeeded)\n";
    } catch (const std::exception& e) {
      out << "destroyed " << e.what() << '\n';
    }
    out << "expected " << std::accumulate(v.begin(), v.end(), int64_t{0}) << '\n';
    return 0;
  });
}
