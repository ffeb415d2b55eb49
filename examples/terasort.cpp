// terasort INPUT OUTPUT_DIR: sorts 100-byte records (99 printable bytes + '\n', the first 10
// bytes the key, as bench/gen_records writes them) through the range-partitioned shuffle. The
// part files, concatenated in order, are the input sorted by key, byte for byte.
#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>

#include <ember/ember.hpp>

using key = std::array<char, 10>;

int run(int argc, char** argv) {
  auto ctx = ember::context::create(argc, argv);
  if (argc != 3) {
    std::cerr << "usage: terasort [--master M] [--conf k=v]... INPUT OUTPUT_DIR\n";
    return 2;
  }
  auto start = std::chrono::steady_clock::now();
  ctx.text_file(argv[1])
    .map([](std::string line) {
      key k{};
      std::memcpy(k.data(), line.data(), std::min(line.size(), k.size()));
      return std::pair{k, std::move(line)};
    })
    .sort_by_key()
    .values()
    .save_as_text_file(argv[2]);
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "terasort: %.3f s\n", secs);
  return 0;
}

int main(int argc, char** argv) { return ember::run_app("terasort", [&] { return run(argc, argv); }); }
