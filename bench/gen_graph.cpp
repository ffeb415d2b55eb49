// gen_graph: a deterministic directed graph with power-law degrees for the PageRank benchmark.
//
//   gen_graph --vertices V --edges E --seed S [--exponent 0.9] OUTPUT
//
// Writes E lines "src dst" (decimal vertex ids in [0, V)). Sources and destinations are each
// drawn from a Zipf distribution over vertex ranks, mapped through two independent random
// permutations of the ids, so out- and in-degrees are both heavy-tailed (a few hubs, a long
// tail) and hubs are not simply the small ids. No self-loops; duplicate edges may occur (the
// PageRank example removes them with distinct()).
#include <algorithm>
#include <charconv>

#include "bench/bench_util.hpp"

using namespace ember::bench;

int main(int argc, char** argv) {
  const char* usage = "gen_graph --vertices V --edges E --seed S [--exponent X] OUTPUT";
  args a(argc, argv, {"vertices", "edges", "seed", "exponent"}, usage);
  if (a.positional.size() != 1 || !a.flags.count("vertices") || !a.flags.count("edges"))
    die(std::string("usage: ") + usage);
  uint64_t v = a.number("vertices", 0);
  uint64_t e = a.number("edges", 0);
  if (v < 2 || v > 0xFFFFFFFFull)
    die("gen_graph: --vertices must be in [2, 2^32)");
  rng g(a.number("seed", 1));
  double exponent = a.real("exponent", 0.9);

  auto permutation = [&] {
    std::vector<uint32_t> p(v);
    for (uint32_t i = 0; i < v; ++i)
      p[i] = i;
    for (uint64_t i = v - 1; i > 0; --i)  // Fisher-Yates with our PRNG (std::shuffle is not portable)
      std::swap(p[i], p[g.next() % (i + 1)]);
    return p;
  };
  auto src_of = permutation();
  auto dst_of = permutation();
  zipf_sampler zipf(static_cast<uint32_t>(v), exponent);

  file_writer out(a.positional[0]);
  for (uint64_t i = 0; i < e; ++i) {
    uint32_t s = src_of[zipf(g)], d;
    do
      d = dst_of[zipf(g)];
    while (d == s);
    char* p = out.reserve(32);
    char* q = std::to_chars(p, p + 16, s).ptr;
    *q++ = ' ';
    q = std::to_chars(q, q + 16, d).ptr;
    *q++ = '\n';
    out.advance(static_cast<size_t>(q - p));
  }
  out.close();
  return 0;
}
