// The partitioned shuffle file: what one map task leaves behind for all reducers (and the format
// of every spill file, so spills are merged by copying frames). Written by the executor's task
// threads, read by local reducers directly and served to remote ones by the block manager.
//
//   <data file>                                     <index file>
//   +------------------------------------------+    +--------------------------+
//   | partition 0: frame frame ...             |    | u64 offset[0] = 0        |
//   +------------------------------------------+    | u64 offset[1]            |
//   | partition 1: (empty: no frames)          |    | ...                      |
//   +------------------------------------------+    | u64 offset[n] = data size|
//   | partition 2: frame ...                   |    | u64 XXH3_64 of offsets   |
//   +------------------------------------------+    +--------------------------+
//   partition p = data[offset[p] .. offset[p+1]); frames as in frame.hpp; every frame holds
//   whole records (a record larger than the block size gets a frame of its own).
//   All integers little-endian. Both files are written under temporary names and renamed into
//   place by commit(), data first: an index that exists always describes a complete data file.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "shuffle/frame.hpp"
#include "storage/serde.hpp"

namespace ember::shuffle {

inline constexpr size_t default_block_size = size_t{64} << 10;

/// Removes its file when destroyed (unless released). Keeps spill files from leaking on errors.
class scoped_file {
public:
  scoped_file() = default;
  explicit scoped_file(std::string path) : path_(std::move(path)) {}
  scoped_file(scoped_file&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  scoped_file& operator=(scoped_file&& other) noexcept;
  scoped_file(const scoped_file&) = delete;
  scoped_file& operator=(const scoped_file&) = delete;
  ~scoped_file() { remove(); }

  const std::string& path() const noexcept { return path_; }
  void remove() noexcept;

private:
  std::string path_;
};

/// A fresh path "<dir>/<stem>-<pid>-<n>" that no other object of this process uses.
std::string unique_temp_path(std::string_view dir, std::string_view stem);

/// A data+index pair that is deleted with this object (spill files, sort runs).
struct temp_shuffle_file {
  scoped_file data;
  scoped_file index;
  static temp_shuffle_file create(std::string_view dir, std::string_view stem);
};

class shuffle_file_writer {
public:
  shuffle_file_writer(std::string data_path, std::string index_path, size_t num_partitions,
                      codec c = codec::lz4, size_t block_size = default_block_size);
  shuffle_file_writer(const shuffle_file_writer&) = delete;
  shuffle_file_writer& operator=(const shuffle_file_writer&) = delete;
  /// Deletes the temporary files unless commit() succeeded.
  ~shuffle_file_writer();

  /// Appends already-serialized records to `partition`. Partitions must be written in
  /// non-decreasing order. One call's bytes never straddle two frames.
  void write(size_t partition, const char* bytes, size_t n);
  void write(size_t partition, std::string_view bytes) { write(partition, bytes.data(), bytes.size()); }

  /// Appends whole frames (e.g. copied from a spill file) to `partition` without recompressing.
  void append_frames(size_t partition, const char* framed, size_t n);
  void append_frames(size_t partition, std::string_view framed) {
    append_frames(partition, framed.data(), framed.size());
  }

  /// Flushes, writes the index, renames both files into place; returns each partition's length
  /// in bytes (the MapStatus sizes).
  std::vector<uint64_t> commit();

  size_t num_partitions() const noexcept { return num_partitions_; }
  /// Bytes of frames produced so far (including ones still buffered).
  uint64_t bytes_written() const noexcept { return position_; }

private:
  void switch_to(size_t partition);
  void seal_block();
  void flush_out();
  void discard() noexcept;

  std::string data_path_, index_path_, data_tmp_, index_tmp_;
  size_t num_partitions_;
  codec codec_;
  size_t block_size_;
  int fd_ = -1;
  size_t current_ = 0;
  std::vector<uint64_t> offsets_; // offsets_[p] = start of partition p, filled as we go
  byte_writer raw_;               // the open block of the current partition
  byte_writer out_;               // frames not yet written to the file
  uint64_t position_ = 0;
  bool committed_ = false;
};

/// Reads the index file: validates size, checksum, monotonic offsets starting at 0. If
/// data_size is given the last offset must equal it. Throws corruption_error naming the file.
std::vector<uint64_t> read_shuffle_index(const std::string& index_path, int64_t data_size = -1);

class shuffle_file_reader;

/// Pull-style iteration over one partition's decoded blocks. Reads with pread in chunks.
class partition_cursor {
public:
  /// Next raw block (valid until the next call); false at the end of the partition.
  bool next(std::string_view& raw);

private:
  friend class shuffle_file_reader;
  partition_cursor(const shuffle_file_reader& file, uint64_t begin, uint64_t end);
  bool fill(size_t need);

  const shuffle_file_reader* file_;
  frame_decoder decoder_;
  uint64_t file_pos_;  // next byte to read from the file
  uint64_t end_;       // end of the partition in the file
  uint64_t buf_start_; // file offset of buf_[0]
  std::unique_ptr<char[]> buf_;
  size_t cap_ = 0, pos_ = 0, len_ = 0;
};

class shuffle_file_reader {
public:
  /// Opens both files and validates the index against the data file's size.
  shuffle_file_reader(std::string data_path, std::string index_path,
                      size_t max_frame_size = default_max_frame_size);
  shuffle_file_reader(shuffle_file_reader&& other) noexcept;
  shuffle_file_reader& operator=(shuffle_file_reader&&) = delete;
  shuffle_file_reader(const shuffle_file_reader&) = delete;
  ~shuffle_file_reader();

  size_t num_partitions() const noexcept { return offsets_.size() - 1; }
  uint64_t partition_offset(size_t p) const { return offsets_.at(p); }
  uint64_t partition_size(size_t p) const { return offsets_.at(p + 1) - offsets_.at(p); }
  const std::string& data_path() const noexcept { return data_path_; }
  size_t max_frame_size() const noexcept { return max_frame_size_; }

  /// Partition p's framed bytes as stored (what a remote fetch ships); replaces out's content.
  void read_partition_bytes(size_t p, std::string& out) const;

  partition_cursor open_partition(size_t p) const;

  /// Calls on_block(std::string_view raw) for each decoded block of partition p.
  template <class F>
  void for_each_block(size_t p, F&& on_block) const {
    partition_cursor c = open_partition(p);
    std::string_view raw;
    while (c.next(raw))
      on_block(raw);
  }

private:
  friend class partition_cursor;
  /// pread exactly n bytes at offset, or throw corruption_error (file shorter than its index).
  void read_at(char* dst, size_t n, uint64_t offset) const;

  std::string data_path_;
  size_t max_frame_size_;
  std::vector<uint64_t> offsets_;
  int fd_ = -1;
};

/// Decodes every record of type T in framed bytes held in memory (a fetched block).
template <class T, class F>
void for_each_record_in_frames(const char* data, size_t n, std::string source, F&& fn) {
  decode_frames(data, n, std::move(source), [&](std::string_view raw) {
    byte_reader r(raw);
    while (!r.at_end()) {
      T x{};
      deserialize(r, x);
      fn(std::move(x));
    }
  });
}

} // namespace ember::shuffle
