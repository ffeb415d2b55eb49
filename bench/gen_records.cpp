// gen_records: deterministic 100-byte records for the sort benchmark (TeraSort's shape).
//
//   gen_records --count N --seed S OUTPUT
//
//   bytes 0-9    key: uniformly random printable ASCII (0x20-0x7e)
//   byte  10     ' '
//   bytes 11-26  the record's index, 16 hex digits (records are distinct even if keys repeat)
//   byte  27     ' '
//   bytes 28-98  filler: random [A-Z0-9]
//   byte  99     '\n'
#include "bench/bench_util.hpp"

using namespace ember::bench;

int main(int argc, char** argv) {
  const char* usage = "gen_records --count N --seed S OUTPUT";
  args a(argc, argv, {"count", "seed"}, usage);
  if (a.positional.size() != 1 || !a.flags.count("count"))
    die(std::string("usage: ") + usage);
  uint64_t count = a.number("count", 0);
  rng g(a.number("seed", 1));
  static constexpr char hex[] = "0123456789ABCDEF";
  static constexpr char filler[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  file_writer out(a.positional[0]);
  for (uint64_t i = 0; i < count; ++i) {
    char* r = out.reserve(100);
    for (int k = 0; k < 10; ++k)
      r[k] = static_cast<char>(0x20 + g.below(95));
    r[10] = ' ';
    for (int k = 0; k < 16; ++k)
      r[11 + k] = hex[(i >> (60 - 4 * k)) & 15];
    r[27] = ' ';
    // 71 filler bytes, eight per random number (each byte scaled to the 36 symbols; slightly
    // non-uniform, which does not matter for a payload nobody compares on).
    for (int k = 28; k < 99;) {
      uint64_t x = g.next();
      for (int d = 0; d < 8 && k < 99; ++d, ++k) {
        r[k] = filler[((x & 0xFF) * 36) >> 8];
        x >>= 8;
      }
    }
    r[99] = '\n';
    out.advance(100);
  }
  out.close();
  return 0;
}
