// LZ4 block framing with per-frame checksums (see frame.hpp for the layout).
#include "shuffle/frame.hpp"

#include <cstdio>
#include <cstring>

#include <lz4.h>
#include <xxhash.h>

namespace ember::shuffle {

namespace {

void put_u32(char* p, uint32_t v) { std::memcpy(p, &v, 4); }
uint32_t get_u32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

uint32_t frame_checksum(codec c, uint32_t raw_length, const char* stored, uint32_t stored_length) {
  uint64_t seed = uint64_t{raw_length} | (uint64_t{stored_length} << 32) |
                  (uint64_t{static_cast<uint8_t>(c)} << 62);
  return static_cast<uint32_t>(XXH3_64bits_withSeed(stored, stored_length, seed));
}

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

std::string hex8(uint8_t v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", v);
  return buf;
}

} // namespace

codec parse_codec(std::string_view name) {
  if (name == "lz4")
    return codec::lz4;
  if (name == "none")
    return codec::none;
  throw std::invalid_argument("unknown compression codec '" + std::string(name) +
                              "' (expected lz4 or none)");
}

std::string_view codec_name(codec c) { return c == codec::lz4 ? "lz4" : "none"; }

corruption_error::corruption_error(std::string source, uint64_t offset, const std::string& problem)
  : std::runtime_error(problem + " in " + source + " at offset " + std::to_string(offset)),
    source_(std::move(source)),
    offset_(offset) {}

size_t max_encoded_size(size_t n) {
  return frame_header_size + static_cast<size_t>(LZ4_compressBound(static_cast<int>(n)));
}

size_t encode_frame(codec c, const char* raw, size_t n, char* dst) {
  if (n > max_frame_length)
    throw std::length_error("shuffle frame: block of " + std::to_string(n) +
                            " bytes exceeds the 1 GiB frame limit");
  char* body = dst + frame_header_size;
  size_t stored = n;
  codec used = codec::none;
  if (c == codec::lz4 && n > 0) {
    int k = LZ4_compress_default(raw, body, static_cast<int>(n), LZ4_compressBound(static_cast<int>(n)));
    if (k > 0 && static_cast<size_t>(k) < n) {
      stored = static_cast<size_t>(k);
      used = codec::lz4;
    }
  }
  if (used == codec::none && n > 0)
    std::memcpy(body, raw, n);
  dst[0] = static_cast<char>(frame_magic);
  dst[1] = static_cast<char>(used);
  put_u32(dst + 2, static_cast<uint32_t>(n));
  put_u32(dst + 6, static_cast<uint32_t>(stored));
  put_u32(dst + 10, frame_checksum(used, static_cast<uint32_t>(n), body, static_cast<uint32_t>(stored)));
  return frame_header_size + stored;
}

void encode_frame(codec c, const char* raw, size_t n, std::string& out) {
  size_t old = out.size();
  out.resize(old + max_encoded_size(n));
  size_t k = encode_frame(c, raw, n, out.data() + old);
  out.resize(old + k);
}

void encode_frame(codec c, const char* raw, size_t n, byte_writer& out) {
  size_t old = out.size();
  char* dst = out.extend(max_encoded_size(n));
  size_t k = encode_frame(c, raw, n, dst);
  out.truncate(old + k);
}

frame_decoder::frame_decoder(std::string source, size_t max_frame_size)
  : source_(std::move(source)), max_(max_frame_size < max_frame_length ? max_frame_size : max_frame_length) {}

frame_header frame_decoder::read_header(const char* p, size_t avail, uint64_t offset) const {
  if (avail < frame_header_size)
    throw corruption_error(source_, offset,
                           "truncated frame header (" + std::to_string(avail) + " of " +
                             std::to_string(frame_header_size) + " bytes)");
  auto magic = static_cast<uint8_t>(p[0]);
  if (magic != frame_magic)
    throw corruption_error(source_, offset, "bad frame magic " + hex8(magic) + " (expected 0xeb)");
  auto c = static_cast<uint8_t>(p[1]);
  if (c > static_cast<uint8_t>(codec::lz4))
    throw corruption_error(source_, offset, "unknown frame codec " + std::to_string(c));
  frame_header h{static_cast<codec>(c), get_u32(p + 2), get_u32(p + 6), get_u32(p + 10)};
  if (h.raw_length > max_ || h.stored_length > max_)
    throw corruption_error(source_, offset,
                           "frame length (raw " + std::to_string(h.raw_length) + ", stored " +
                             std::to_string(h.stored_length) + ") exceeds the limit of " +
                             std::to_string(max_) + " bytes");
  if (h.stored_codec == codec::none && h.raw_length != h.stored_length)
    throw corruption_error(source_, offset,
                           "uncompressed frame with raw length " + std::to_string(h.raw_length) +
                             " != stored length " + std::to_string(h.stored_length));
  if (h.stored_codec == codec::lz4 && h.stored_length == 0)
    throw corruption_error(source_, offset, "empty lz4 frame");
  return h;
}

std::string_view frame_decoder::decode(const char* p, size_t avail, uint64_t offset, size_t& consumed) {
  frame_header h = read_header(p, avail, offset);
  if (avail - frame_header_size < h.stored_length)
    throw corruption_error(source_, offset,
                           "truncated frame (needs " + std::to_string(h.stored_length) +
                             " stored bytes, " + std::to_string(avail - frame_header_size) +
                             " left)");
  const char* body = p + frame_header_size;
  uint32_t actual = frame_checksum(h.stored_codec, h.raw_length, body, h.stored_length);
  if (actual != h.checksum)
    throw corruption_error(source_, offset,
                           "checksum mismatch (stored " + hex32(h.checksum) + ", computed " +
                             hex32(actual) + ")");
  consumed = frame_header_size + h.stored_length;
  if (h.stored_codec == codec::none)
    return {body, h.stored_length};
  if (cap_ < h.raw_length) {
    size_t next = cap_ * 2 > h.raw_length ? cap_ * 2 : h.raw_length;
    buf_.reset(new char[next]);
    cap_ = next;
  }
  int k = LZ4_decompress_safe(body, buf_.get(), static_cast<int>(h.stored_length),
                              static_cast<int>(h.raw_length));
  if (k < 0 || static_cast<uint32_t>(k) != h.raw_length)
    throw corruption_error(source_, offset,
                           k < 0 ? std::string("lz4 decompression failed")
                                 : "lz4 frame decompressed to " + std::to_string(k) +
                                     " bytes, header says " + std::to_string(h.raw_length));
  return {buf_.get(), h.raw_length};
}

} // namespace ember::shuffle
