// Application binaries on a worker: the content hash "xxh64:<16 hex>" that names a binary, the
// per-worker cache <work-dir>/binaries/<hash>, and the assembly of a binary fetched in chunks
// (FetchBinary/BinaryChunk) with per-chunk xxh32 checksums and a whole-file hash check.
// Owned by the worker actor (actors/worker.cpp); the driver endpoint uses read_chunk to serve.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

namespace ember::deploy {

/// "xxh64:<16 lowercase hex digits>" of the whole file (XXH64, seed 0). Throws
/// std::runtime_error naming the file when it cannot be read.
std::string content_hash(const std::filesystem::path& file);

/// The same hash over bytes in memory.
std::string content_hash_of(std::string_view bytes);

/// True for a well-formed "xxh64:<16 hex>" (it becomes a file name, so nothing else is accepted).
bool valid_content_hash(std::string_view hash);

/// xxh32 (seed 0) of one chunk's data: BinaryChunk.checksum.
std::uint32_t chunk_checksum(std::string_view data);

/// One piece of a file, as BinaryChunk carries it.
struct binary_chunk {
  std::uint64_t offset = 0;
  std::uint64_t total_size = 0;
  std::string data;
  std::uint32_t checksum = 0;
  bool last = false;
};

/// Reads [offset, offset + max_size) of `file` for a BinaryChunk. Throws std::runtime_error when
/// the file cannot be read or offset lies beyond its end.
binary_chunk read_chunk(const std::filesystem::path& file, std::uint64_t offset, std::uint32_t max_size);

/// The worker's cache of binaries by content hash, under <work-dir>/binaries/.
class binary_cache {
public:
  explicit binary_cache(std::filesystem::path dir);

  const std::filesystem::path& dir() const { return dir_; }

  /// The cached executable for `hash`, if present.
  std::optional<std::filesystem::path> lookup(std::string_view hash) const;

  /// `local` when that file exists and its content hash is `hash` (the submitting host's path is
  /// visible here, e.g. same machine or shared filesystem). Hashes are remembered by (path, size,
  /// mtime) so a binary is hashed once, not per launch.
  std::optional<std::filesystem::path> local_match(const std::filesystem::path& local, std::string_view hash);

  /// Path a finished assembly is stored at.
  std::filesystem::path path_for(std::string_view hash) const { return dir_ / std::string{hash}; }

private:
  std::filesystem::path dir_;
  struct known_file {
    std::uintmax_t size = 0;
    std::filesystem::file_time_type mtime;
    std::string hash;
  };
  std::optional<std::pair<std::string, known_file>> last_;  // one entry: apps rarely alternate
};

/// Builds one binary from BinaryChunks arriving in order into <cache>/<hash>.part, then checks
/// the whole-file hash, makes it executable and renames it to <cache>/<hash>.
class binary_assembly {
public:
  /// Throws std::runtime_error when the partial file cannot be created.
  binary_assembly(const binary_cache& cache, std::string hash);
  ~binary_assembly();
  binary_assembly(const binary_assembly&) = delete;
  binary_assembly& operator=(const binary_assembly&) = delete;

  /// Next offset to ask for.
  std::uint64_t next_offset() const { return received_; }
  bool complete() const { return complete_; }

  /// Appends one chunk. Returns an error text (wrong hash, offset out of order, bad checksum,
  /// size mismatch, write failure) or nothing; after an error the assembly is unusable.
  std::optional<std::string> add(const binary_chunk& chunk);

  /// After the last chunk: verifies the content hash, chmod 0755, renames into the cache.
  /// Returns the executable's path or throws std::runtime_error with the reason.
  std::filesystem::path finish();

private:
  std::filesystem::path final_;
  std::filesystem::path part_;
  std::string hash_;
  std::ofstream out_;
  std::uint64_t received_ = 0;
  std::uint64_t total_ = 0;
  bool complete_ = false;
  bool finished_ = false;
};

} // namespace ember::deploy
