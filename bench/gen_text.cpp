// gen_text: deterministic Zipf-distributed text for the word count benchmarks. The same flags
// give the same bytes on every machine (integer PRNG, alias table built in a fixed order).
//
//   gen_text --bytes N --vocab V --seed S [--exponent 1.0] [--cover 1] OUTPUT
//
// Vocabulary: V unique pseudo-words of 2-12 lowercase letters. Word i gets a length drawn from
// an English-like distribution; the j-th word of length L is (j * m + c) mod 26^L written in
// base 26 with L digits (m coprime with 26, so distinct j give distinct words).
// Text: lines of 8-15 words separated by single spaces; word rank r (0 = most frequent) is
// drawn with P(r) ~ 1/(r+1)^exponent. The file is exactly N bytes: when the next word no longer
// fits, the last line is padded with spaces (whitespace, so no word is cut). With --cover 1 every
// vocabulary word is written once first (ranks 0..V-1, same line shape), so the file has
// exactly V distinct words; Zipf text then fills up to N bytes (nothing more if the covering
// part is already N bytes or longer).
#include <array>

#include "bench/bench_util.hpp"

using namespace ember::bench;

namespace {

struct vocabulary {
  std::string arena;
  std::vector<uint64_t> offset;  // word i = arena[offset[i], offset[i+1])
  std::string_view word(uint32_t i) const { return {arena.data() + offset[i], offset[i + 1] - offset[i]}; }
};

vocabulary make_vocabulary(uint32_t v, uint64_t seed) {
  constexpr int min_len = 2, max_len = 12;
  // Relative weights of lengths 2..12.
  constexpr std::array<uint32_t, 11> weight{4, 8, 12, 14, 14, 13, 11, 9, 7, 5, 3};
  uint32_t weight_sum = 0;
  for (auto w : weight)
    weight_sum += w;
  std::array<uint64_t, max_len + 1> capacity{}, used{}, offset{};
  rng g(seed ^ 0x766f636162ull);  // "vocab"
  for (int l = min_len; l <= max_len; ++l) {
    capacity[l] = 1;
    for (int k = 0; k < l; ++k)
      capacity[l] *= 26;
    offset[l] = g.next() % capacity[l];
  }
  uint64_t m = 0x5851F42D4C957F2Dull;
  while (m % 2 == 0 || m % 13 == 0)
    ++m;

  vocabulary voc;
  voc.offset.reserve(size_t{v} + 1);
  voc.arena.reserve(size_t{v} * 8);
  voc.offset.push_back(0);
  char buf[max_len];
  for (uint32_t i = 0; i < v; ++i) {
    uint32_t x = g.below(weight_sum);
    int l = min_len;
    while (x >= weight[l - min_len])
      x -= weight[l - min_len], ++l;
    while (l <= max_len && used[l] == capacity[l])
      ++l;
    if (l > max_len) {  // only reachable for V beyond 26^2+...+26^12
      l = min_len;
      while (used[l] == capacity[l])
        ++l;
    }
    auto j = static_cast<unsigned __int128>(used[l]++);
    auto code = static_cast<uint64_t>((j * m + offset[l]) % capacity[l]);
    for (int k = l - 1; k >= 0; --k, code /= 26)
      buf[k] = static_cast<char>('a' + code % 26);
    voc.arena.append(buf, static_cast<size_t>(l));
    voc.offset.push_back(voc.arena.size());
  }
  return voc;
}

} // namespace

int main(int argc, char** argv) {
  const char* usage = "gen_text --bytes N --vocab V --seed S [--exponent E] [--cover 0|1] OUTPUT";
  args a(argc, argv, {"bytes", "vocab", "seed", "exponent", "cover"}, usage);
  if (a.positional.size() != 1 || !a.flags.count("bytes") || !a.flags.count("vocab"))
    die(std::string("usage: ") + usage);
  uint64_t limit = a.number("bytes", 0);
  uint64_t v = a.number("vocab", 0);
  uint64_t seed = a.number("seed", 1);
  double exponent = a.real("exponent", 1.0);
  bool cover = a.number("cover", 0) != 0;
  if (v < 1 || v > 0xFFFFFFFFull)
    die("gen_text: --vocab must be in [1, 2^32)");

  auto voc = make_vocabulary(static_cast<uint32_t>(v), seed);
  file_writer out(a.positional[0]);
  rng g(seed);

  if (cover) {
    uint32_t next = 0;
    while (next < v) {
      uint32_t words = 8 + g.below(8);
      for (uint32_t k = 0; k < words && next < v; ++k, ++next) {
        auto w = voc.word(next);
        char* dst = out.reserve(w.size() + 1);
        std::memcpy(dst, w.data(), w.size());
        dst[w.size()] = k + 1 == words || next + 1 == v ? '\n' : ' ';
        out.advance(w.size() + 1);
      }
    }
  }
  if (out.written() < limit) {
    zipf_sampler zipf(static_cast<uint32_t>(v), exponent);
    for (bool full = false; !full;) {
      uint32_t words = 8 + g.below(8);
      for (uint32_t k = 0; k < words; ++k) {
        auto w = voc.word(zipf(g));
        // Keep one byte for the final newline: a word goes in only if word + separator fit
        // strictly below the limit; otherwise pad the last line with spaces.
        if (out.written() + w.size() + 1 > limit - 1) {
          uint64_t pad = limit - out.written();
          for (uint64_t p = 0; p + 1 < pad; ++p)
            out.put(' ');
          out.put('\n');
          full = true;
          break;
        }
        char* dst = out.reserve(w.size() + 1);
        std::memcpy(dst, w.data(), w.size());
        dst[w.size()] = k + 1 == words ? '\n' : ' ';
        out.advance(w.size() + 1);
      }
    }
  }
  out.close();
  return 0;
}
