// LZ4 framing (shuffle/frame.hpp): round trips, incompressible fallback, and every kind of
// damage reported as corruption_error naming source and offset.
#include <doctest/doctest.h>

#include <random>

#include "shuffle/frame.hpp"

using namespace ember::shuffle;

namespace {

std::string compressible(size_t n) {
  std::string s;
  while (s.size() < n)
    s += "the quick brown fox " + std::to_string(s.size() % 97) + " ";
  s.resize(n);
  return s;
}

std::string random_bytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s)
    c = static_cast<char>(rng());
  return s;
}

std::string error_of(const std::string& framed, const std::string& source = "src.data",
                     size_t max_frame = default_max_frame_size) {
  try {
    decode_frames(framed.data(), framed.size(), source, [](std::string_view) {}, max_frame);
  } catch (const corruption_error& e) {
    return e.what();
  }
  return "no error";
}

} // namespace

TEST_CASE("frames round trip with lz4 and none, several per buffer") {
  std::vector<std::string> blocks{compressible(100000), random_bytes(5000, 1), "", "x",
                                  compressible(65536)};
  for (codec c : {codec::lz4, codec::none}) {
    std::string framed;
    for (auto& b : blocks)
      encode_frame(c, b.data(), b.size(), framed);
    std::vector<std::string> out;
    decode_frames(framed.data(), framed.size(), "mem", [&](std::string_view raw) { out.emplace_back(raw); });
    CHECK(out == blocks);
  }
}

TEST_CASE("lz4 shrinks compressible data and stores incompressible data raw") {
  std::string text = compressible(100000);
  std::string framed;
  encode_frame(codec::lz4, text.data(), text.size(), framed);
  CHECK(framed.size() < text.size() / 3);
  CHECK(static_cast<uint8_t>(framed[0]) == frame_magic);
  CHECK(framed[1] == static_cast<char>(codec::lz4));
  std::string noise = random_bytes(4096, 9), framed2;
  encode_frame(codec::lz4, noise.data(), noise.size(), framed2);
  CHECK(framed2[1] == static_cast<char>(codec::none));
  CHECK(framed2.size() == frame_header_size + noise.size());
  CHECK(parse_codec("lz4") == codec::lz4);
  CHECK(parse_codec("none") == codec::none);
  CHECK_THROWS_AS(parse_codec("zstd"), std::invalid_argument);
}

TEST_CASE("a flipped byte is a checksum mismatch naming file and frame offset") {
  std::string a = compressible(70000), b = compressible(30000);
  std::string framed;
  encode_frame(codec::lz4, a.data(), a.size(), framed);
  size_t second = framed.size();
  encode_frame(codec::lz4, b.data(), b.size(), framed);
  std::string bad = framed;
  bad[second + frame_header_size + 10] ^= 0x20;
  CHECK(error_of(bad, "/tmp/x/shuffle_3_7.data").rfind(
          "checksum mismatch (stored 0x", 0) == 0);
  CHECK(error_of(bad, "/tmp/x/shuffle_3_7.data").find(
          "in /tmp/x/shuffle_3_7.data at offset " + std::to_string(second)) != std::string::npos);
  // the same for an uncompressed frame and for damage in the header's length field
  std::string raw;
  encode_frame(codec::none, a.data(), 1000, raw);
  raw[500] ^= 1;
  CHECK(error_of(raw).find("checksum mismatch") == 0);
  std::string hdr = framed;
  hdr[2] ^= 1; // raw length
  CHECK(error_of(hdr).find("at offset 0") != std::string::npos);
  try {
    decode_frames(bad.data(), bad.size(), "f", [](std::string_view) {});
    FAIL("expected corruption_error");
  } catch (const corruption_error& e) {
    CHECK(e.source() == "f");
    CHECK(e.offset() == second);
  }
}

TEST_CASE("truncation and bad headers are reported") {
  std::string a = compressible(10000);
  std::string framed;
  encode_frame(codec::lz4, a.data(), a.size(), framed);
  CHECK(error_of(framed.substr(0, framed.size() - 1)).find("truncated frame (needs") == 0);
  CHECK(error_of(framed.substr(0, 5)) == "truncated frame header (5 of 14 bytes) in src.data at offset 0");
  std::string magic = framed;
  magic[0] = 0x12;
  CHECK(error_of(magic) == "bad frame magic 0x12 (expected 0xeb) in src.data at offset 0");
  std::string cod = framed;
  cod[1] = 9;
  CHECK(error_of(cod) == "unknown frame codec 9 in src.data at offset 0");
  CHECK(error_of(framed, "src.data", 1000).find("exceeds the limit of 1000 bytes") != std::string::npos);
  std::string lens;
  encode_frame(codec::none, a.data(), 100, lens);
  lens[6] = 99; // stored length != raw length for an uncompressed frame
  CHECK(error_of(lens).find("uncompressed frame with raw length 100 != stored length 99") == 0);
}
