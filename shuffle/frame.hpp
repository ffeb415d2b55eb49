// LZ4 block framing with a checksum per block: the unit in which shuffle files, spill files and
// fetched shuffle blocks store data. A reader can validate and decode each frame on its own, so a
// flipped bit is reported with the file and offset instead of yielding wrong records.
//
//   frame = header (14 bytes, little-endian) + stored bytes
//   +-------+-------+-------------+---------------+-------------+--------------------+
//   | magic | codec | raw_length  | stored_length | checksum    | stored bytes ...   |
//   | 0xEB  | u8    | u32         | u32           | u32         | (stored_length)    |
//   +-------+-------+-------------+---------------+-------------+--------------------+
//   codec: 0 = none (stored == raw), 1 = lz4 block. checksum = low 32 bits of
//   XXH3_64(stored bytes, seed = raw_length | stored_length << 32 | codec << 62), so the header
//   fields are covered too. A block that LZ4 cannot shrink is stored with codec none.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "storage/serde.hpp"

namespace ember::shuffle {

enum class codec : uint8_t { none = 0, lz4 = 1 };

/// "lz4" or "none" (the values of ember.io.compression.codec); throws std::invalid_argument.
codec parse_codec(std::string_view name);
std::string_view codec_name(codec c);

/// Corrupt or truncated shuffle/spill data. The message names the source, offset and problem:
/// "checksum mismatch in /tmp/x/shuffle_3_7.data at offset 65536 (stored 0x.., computed 0x..)".
class corruption_error : public std::runtime_error {
public:
  corruption_error(std::string source, uint64_t offset, const std::string& problem);
  const std::string& source() const noexcept { return source_; }
  uint64_t offset() const noexcept { return offset_; }

private:
  std::string source_;
  uint64_t offset_;
};

inline constexpr size_t frame_header_size = 14;
inline constexpr uint8_t frame_magic = 0xEB;
/// Largest raw or stored frame length the format allows (LZ4's limit is a bit below 2 GiB).
inline constexpr size_t max_frame_length = size_t{1} << 30;
/// Default cap a decoder accepts; a hostile length field is rejected before allocating.
inline constexpr size_t default_max_frame_size = size_t{256} << 20;

struct frame_header {
  codec stored_codec;
  uint32_t raw_length;
  uint32_t stored_length;
  uint32_t checksum;
};

/// Upper bound of encode_frame's output for n raw bytes.
size_t max_encoded_size(size_t n);

/// Encodes raw[0..n) as one frame into dst (which has room for max_encoded_size(n) bytes);
/// returns the frame's size. n must be <= max_frame_length.
size_t encode_frame(codec c, const char* raw, size_t n, char* dst);

/// Appends one frame holding raw[0..n) to out.
void encode_frame(codec c, const char* raw, size_t n, std::string& out);
void encode_frame(codec c, const char* raw, size_t n, byte_writer& out);

/// Validates and decodes frames. Keeps one reusable output buffer: a returned view stays valid
/// until the next decode call. `source` (a file name or "fetch from executor 3") goes into errors.
class frame_decoder {
public:
  explicit frame_decoder(std::string source, size_t max_frame_size = default_max_frame_size);

  /// Parses and checks a header (magic, codec, lengths against the limit). `avail` is how many
  /// bytes follow p in the source; `offset` is p's position in the source, for messages.
  frame_header read_header(const char* p, size_t avail, uint64_t offset) const;

  /// Decodes the frame at p (avail bytes available from p). Sets consumed to the frame's size and
  /// returns the raw block (pointing into p for codec none, else into the decoder's buffer).
  std::string_view decode(const char* p, size_t avail, uint64_t offset, size_t& consumed);

  /// Decodes every frame in data[0..n), calling on_block(std::string_view raw) for each.
  /// base_offset is data's position in the source.
  template <class F>
  void decode_all(const char* data, size_t n, uint64_t base_offset, F&& on_block) {
    size_t pos = 0;
    while (pos < n) {
      size_t consumed = 0;
      std::string_view raw = decode(data + pos, n - pos, base_offset + pos, consumed);
      on_block(raw);
      pos += consumed;
    }
  }

  const std::string& source() const noexcept { return source_; }
  void set_source(std::string source) { source_ = std::move(source); }
  size_t max_frame_size() const noexcept { return max_; }

private:
  std::string source_;
  size_t max_;
  std::unique_ptr<char[]> buf_;
  size_t cap_ = 0;
};

/// Decodes framed bytes held in memory (e.g. a fetched remote block), one callback per block.
template <class F>
void decode_frames(const char* data, size_t n, std::string source, F&& on_block,
                   size_t max_frame_size = default_max_frame_size) {
  frame_decoder dec(std::move(source), max_frame_size);
  dec.decode_all(data, n, 0, std::forward<F>(on_block));
}

} // namespace ember::shuffle
