// ember::for_each_word (api/context.hpp) splits at ASCII whitespace 64 bytes at a time through a
// bit mask. Checked against the plain per-byte definition on random text with every whitespace
// kind, bytes above 127 and NUL (not whitespace), and lines whose length or words straddle the
// 64-byte blocks.
#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "api/context.hpp"

namespace {

std::vector<std::string> words_by_bytes(const std::string& s) {
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && ws(s[i]))
      ++i;
    size_t b = i;
    while (i < s.size() && !ws(s[i]))
      ++i;
    if (i > b)
      out.push_back(s.substr(b, i - b));
  }
  return out;
}

std::vector<std::string> words_of(const std::string& s) {
  std::vector<std::string> out;
  ember::for_each_word(s, [&](std::string_view w) { out.emplace_back(w); });
  return out;
}

} // namespace

TEST_CASE("for_each_word finds the words of random text exactly") {
  std::mt19937 rng(42);
  const std::string alphabet = std::string("ab \t\n\r\v\fxyz\x80\xff!", 15) + std::string(1, '\0') + "\x08\x0e\x1f";
  for (int t = 0; t < 20000; ++t) {
    size_t n = rng() % 300;
    std::string s(n, 'a');
    for (auto& c : s)
      c = alphabet[rng() % alphabet.size()];
    CAPTURE(s);
    CHECK(words_of(s) == words_by_bytes(s));
  }
}

TEST_CASE("for_each_word at the 64-byte block edges") {
  CHECK(words_of("").empty());
  CHECK(words_of(std::string(200, ' ')).empty());
  for (size_t n : {63, 64, 65, 127, 128, 129, 192}) {
    CAPTURE(n);
    std::string one(n, 'w'); // one word filling whole blocks, ending exactly at a block end
    CHECK(words_of(one) == std::vector<std::string>{one});
    std::string padded = " " + one + " ";
    CHECK(words_of(padded) == std::vector<std::string>{one});
    std::string split = std::string(n, 'x');
    split[n / 2] = '\t';
    CHECK(words_of(split) == words_by_bytes(split));
    CHECK(words_of(split).size() == (n / 2 + 1 < n ? 2u : 1u));
  }
  std::string straddle = std::string(60, ' ') + "crossing" + std::string(60, ' ') + "end";
  CHECK(words_of(straddle) == std::vector<std::string>{"crossing", "end"});
}
