// Writes the fuzzers' seed corpora from the tests' schema-driven sample messages
// (tests/support/sample_messages.hpp), so every field of every message type is present in some
// seed and the fuzzers start from valid frames instead of guessing the Cap'n Proto layout:
//
//   fuzz_seed_corpus DIR   ->  DIR/wire/<Type>-<seed>      selector byte + frame
//                              DIR/event_log/<n>.jsonl     event-log lines (JsonCodec, as the
//                                                          listener bus writes them)
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include <capnp/compat/json.h>

#include "fuzz/wire_types.hpp"
#include "protocol/wire.hpp"
#include "tests/support/sample_messages.hpp"

namespace fs = std::filesystem;

namespace {

void write_file(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out)
    throw std::runtime_error("cannot write " + p.string());
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_seed_corpus DIR\n";
    return 2;
  }
  try {
    fs::path dir = argv[1];
    fs::create_directories(dir / "wire");
    fs::create_directories(dir / "event_log");
    std::size_t wire_files = 0;
    for (std::size_t i = 0; i < ember::fuzz::wire_type_count; ++i) {
      ember::fuzz::dispatch_wire_type(static_cast<std::uint8_t>(i), [&]<class T>() {
        // Seeds 1..3 pick different union members; depth 1 gives small frames to mutate too.
        for (std::uint64_t seed = 1; seed <= 3; ++seed)
          for (int depth : {1, 4}) {
            auto frame = ember::sample_wire<T>(seed, depth).encode();
            write_file(dir / "wire" / (ember::wire_name<T>() + "-" + std::to_string(seed) + "-" + std::to_string(depth)),
                       std::string(1, static_cast<char>(i)) + frame);
            ++wire_files;
          }
        // The default (empty) message: the smallest valid frame.
        write_file(dir / "wire" / (ember::wire_name<T>() + "-empty"),
                   std::string(1, static_cast<char>(i)) + ember::wire<T>{}.encode());
        ++wire_files;
      });
    }
    capnp::JsonCodec codec;
    std::string all;
    constexpr std::uint64_t events = 32;  // seed % members covers every ListenerEvent member
    for (std::uint64_t seed = 0; seed < events; ++seed) {
      auto ev = ember::sample_wire<ember::proto::ListenerEvent>(seed);
      std::string line = codec.encode(ev.reader()).cStr();
      line += '\n';
      write_file(dir / "event_log" / (std::to_string(seed) + ".jsonl"), line);
      all += line;
    }
    write_file(dir / "event_log" / "all.jsonl", all);
    std::cout << "seed corpus: " << wire_files << " wire frames, " << events + 1 << " event logs in " << dir.string()
              << '\n';
    return 0;
  } catch (const std::exception& ex) {
    std::cerr << "fuzz_seed_corpus: " << ex.what() << '\n';
    return 1;
  }
}
