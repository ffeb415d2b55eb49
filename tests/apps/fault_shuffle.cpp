// fault_shuffle: the shuffle job of the executor fault tests (tests/integration/fault_executor_test.cpp).
//
//   fault_shuffle [--master M] [--conf k=v]... OUT_FILE MAPS KEYS REDUCERS MAP_MS COMBINE_MS POST_MS
//                 [STRAGGLE_MS MARKER_FILE]
//
// Records 0 .. MAPS*KEYS-1 in MAPS map partitions (KEYS each), keyed x % KEYS, summed per key into
// REDUCERS reduce partitions. Every map partition holds each key once, so the sum function only
// runs on the reduce side, while the shuffle blocks are read: it sleeps COMBINE_MS per call there
// (a slow shuffle fetch). The map sleeps MAP_MS per record, the reduce side POST_MS per key after
// the fetch. The driver writes "key sum\n" lines sorted by key to OUT_FILE; the test computes the
// same bytes independently: sum(k) = KEYS*MAPS*(MAPS-1)/2 + MAPS*k. With STRAGGLE_MS, the first
// attempt to map record 0 (it creates MARKER_FILE) also sleeps STRAGGLE_MS: a straggler for
// speculation; later attempts find the file and do not.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <utility>

#include <ember/ember.hpp>

namespace {

using kv = std::pair<int64_t, int64_t>;

int run(int argc, char** argv) {
  auto ctx = ember::context::create(argc, argv);
  if (argc != 8 && argc != 10) {
    std::cerr << "usage: fault_shuffle [--master M] [--conf k=v]... OUT_FILE MAPS KEYS REDUCERS MAP_MS COMBINE_MS POST_MS"
                 " [STRAGGLE_MS MARKER_FILE]\n";
    return 2;
  }
  std::string out_file = argv[1];
  auto maps = std::stoll(argv[2]), keys = std::stoll(argv[3]), reducers = std::stoll(argv[4]);
  auto map_ms = std::stoll(argv[5]), combine_ms = std::stoll(argv[6]), post_ms = std::stoll(argv[7]);
  int64_t straggle_ms = argc == 10 ? std::stoll(argv[8]) : 0;
  std::string marker = argc == 10 ? argv[9] : "";
  auto sums = ctx.range(0, maps * keys, 1, static_cast<uint32_t>(maps))
                .map(ember::bind(
                  [](int64_t ms, int64_t k, int64_t straggle_ms, const std::string& marker, int64_t x) {
                    std::this_thread::sleep_for(std::chrono::milliseconds{ms});
                    if (x == 0 && straggle_ms > 0) {
                      int fd = ::open(marker.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644);
                      if (fd >= 0) { // the first attempt only
                        ::close(fd);
                        std::this_thread::sleep_for(std::chrono::milliseconds{straggle_ms});
                      }
                    }
                    return kv{x % k, x};
                  },
                  map_ms, keys, straggle_ms, marker))
                .reduce_by_key(ember::bind(
                                 [](int64_t ms, int64_t a, int64_t b) {
                                   std::this_thread::sleep_for(std::chrono::milliseconds{ms});
                                   return a + b;
                                 },
                                 combine_ms),
                               static_cast<uint32_t>(reducers))
                .map(ember::bind(
                  [](int64_t ms, kv p) {
                    std::this_thread::sleep_for(std::chrono::milliseconds{ms});
                    return p;
                  },
                  post_ms))
                .collect();
  std::sort(sums.begin(), sums.end());
  std::ofstream out{out_file, std::ios::binary};
  for (auto& [k, v] : sums)
    out << k << ' ' << v << '\n';
  std::cout << "keys " << sums.size() << std::endl;
  return out ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) { return ember::run_app("fault_shuffle", [&] { return run(argc, argv); }); }
