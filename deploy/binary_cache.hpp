// Application binaries on a worker: the SHA-256 digest (64 lowercase hex digits) that names a
// binary, the per-worker cache <work-dir>/binaries/<digest> (LRU-evicted beyond
// ember.worker.binaryCache.maxSize), and the assembly of a binary fetched in chunks
// (FetchBinary/BinaryChunk) with per-chunk xxh32 checksums (transport errors only) and a
// whole-file SHA-256 check (what makes a binary trusted).
// Owned by the worker actor (actors/worker.cpp); the driver endpoint uses read_chunk to serve.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace ember::deploy {

/// SHA-256 (OpenSSL EVP) of the whole file as 64 lowercase hex digits, as `sha256sum` prints it.
/// Throws std::runtime_error naming the file when it cannot be read.
std::string content_hash(const std::filesystem::path& file);

/// The same digest over bytes in memory.
std::string content_hash_of(std::string_view bytes);

/// True for exactly 64 lowercase hex digits (it becomes a file name, so nothing else is accepted).
bool valid_content_hash(std::string_view hash);

/// xxh32 (seed 0) of one chunk's data: BinaryChunk.checksum. Catches transport damage early; the
/// whole-file digest is the security check.
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

/// The worker's cache of verified binaries by digest, under <work-dir>/binaries/. Every program
/// the worker starts is a file of this cache: a binary enters it only after its digest was
/// computed over the very bytes written there, and cached files are read-only (0500).
class binary_cache {
public:
  /// Creates `dir` and adopts the files an earlier run left in it (least recently modified
  /// first; each is verified against its name at its first lookup); stray partial files and
  /// other names are removed.
  binary_cache(std::filesystem::path dir, std::uint64_t max_size);

  const std::filesystem::path& dir() const { return dir_; }

  /// The cached executable for `hash`, if present; counts as a use for the LRU order. A file left
  /// by an earlier run whose content no longer has its digest is deleted, not returned.
  std::optional<std::filesystem::path> lookup(std::string_view hash);

  /// When `local` exists (the submitting host's path is visible here: same machine or a shared
  /// filesystem) and its content has digest `hash`: a copy in the cache, verified over the copied
  /// bytes, so a file changed after it was hashed never runs. Nothing otherwise.
  std::optional<std::filesystem::path> local_match(const std::filesystem::path& local, std::string_view hash);

  /// Records a file just stored at path_for(hash) (by binary_assembly::finish).
  void added(std::string_view hash);

  /// Removes least recently used binaries not in `in_use` until the total size is at most the
  /// limit. Returns the digests removed, oldest first.
  std::vector<std::string> evict(const std::set<std::string>& in_use);

  std::uint64_t total_size() const { return total_; }
  bool contains(std::string_view hash) const { return entries_.count(std::string{hash}) != 0; }

  /// Path a finished assembly is stored at.
  std::filesystem::path path_for(std::string_view hash) const { return dir_ / std::string{hash}; }

private:
  struct entry {
    std::uint64_t size = 0;
    std::uint64_t last_use = 0;
    bool verified = true;  // false for files adopted at start-up until their first lookup
  };
  void record(const std::string& hash, std::uint64_t size);
  void forget(std::map<std::string, entry>::iterator it);

  std::filesystem::path dir_;
  std::uint64_t max_size_;
  std::map<std::string, entry> entries_;
  std::uint64_t total_ = 0;
  std::uint64_t clock_ = 0;  // use counter: the LRU order, immune to clock steps
};

/// Builds one binary from BinaryChunks arriving in order into <cache>/<hash>.part, then checks
/// the whole-file digest, makes it executable and renames it to <cache>/<hash>.
class binary_assembly {
public:
  /// Throws std::runtime_error when the hash is malformed or the partial file cannot be created.
  binary_assembly(binary_cache& cache, std::string hash);
  ~binary_assembly();
  binary_assembly(const binary_assembly&) = delete;
  binary_assembly& operator=(const binary_assembly&) = delete;

  /// Next offset to ask for.
  std::uint64_t next_offset() const { return received_; }
  bool complete() const { return complete_; }

  /// Appends one chunk. Returns an error text (wrong hash, offset out of order, bad checksum,
  /// size mismatch, write failure) or nothing; after an error the assembly is unusable.
  std::optional<std::string> add(const binary_chunk& chunk);

  /// After the last chunk: verifies the digest of the bytes received, chmod 0500, renames into
  /// the cache and records it there. Returns the executable's path or throws std::runtime_error
  /// with the reason.
  std::filesystem::path finish();

private:
  binary_cache& cache_;
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
