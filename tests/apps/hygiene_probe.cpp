// hygiene_probe: the application of tests/integration/scratch_permissions_test.cpp.
//
//   hygiene_probe [--master M] [--conf k=v]... OUT_DIR READY_FILE GO_FILE
//       counts x % 100 over range(0, 20000) in 4 partitions with reduce_by_key (a shuffle),
//       persists the counts DISK_ONLY (cached blocks on disk), saves them as text to OUT_DIR, then
//       creates READY_FILE and waits for GO_FILE (the test walks the scratch dirs meanwhile, while
//       the shuffle files, cached blocks and event log exist), then counts the cached dataset again.
//       Prints "<keys> <keys again>".
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <utility>

#include <ember/ember.hpp>

namespace {

int run(int argc, char** argv) {
  auto ctx = ember::context::create(argc, argv);
  if (argc != 4) {
    std::cerr << "usage: hygiene_probe [--master M] [--conf k=v]... OUT_DIR READY_FILE GO_FILE\n";
    return 2;
  }
  using kv = std::pair<int64_t, int64_t>;
  auto counts = ctx.range(0, 20000, 1, 4)
                  .map([](int64_t x) { return kv(x % 100, 1); })
                  .reduce_by_key([](int64_t a, int64_t b) { return a + b; }, 4);
  counts.persist(ember::storage_level::disk_only);
  auto keys = counts.count();
  counts.save_as_text_file(argv[1]);
  std::ofstream{argv[2]} << "ready\n";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes{2};
  while (!std::filesystem::exists(argv[3]) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  std::cout << keys << ' ' << counts.count() << std::endl;
  return 0;
}

} // namespace

int main(int argc, char** argv) { return ember::run_app("hygiene_probe", [&] { return run(argc, argv); }); }
