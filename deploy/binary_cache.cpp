#include "deploy/binary_cache.hpp"

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <system_error>

#include <xxhash.h>

namespace ember::deploy {

namespace fs = std::filesystem;

namespace {

std::string format_hash(XXH64_hash_t h) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return std::string{"xxh64:"} + buf;
}

struct state_deleter {
  void operator()(XXH64_state_t* s) const { XXH64_freeState(s); }
};

} // namespace

std::string content_hash(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in)
    throw std::runtime_error("cannot read binary " + file.string() + ": " + std::strerror(errno));
  std::unique_ptr<XXH64_state_t, state_deleter> state{XXH64_createState()};
  XXH64_reset(state.get(), 0);
  std::array<char, 1 << 16> buf;
  while (in) {
    in.read(buf.data(), buf.size());
    if (in.gcount() > 0)
      XXH64_update(state.get(), buf.data(), static_cast<size_t>(in.gcount()));
  }
  if (in.bad())
    throw std::runtime_error("cannot read binary " + file.string());
  return format_hash(XXH64_digest(state.get()));
}

std::string content_hash_of(std::string_view bytes) {
  return format_hash(XXH64(bytes.data(), bytes.size(), 0));
}

bool valid_content_hash(std::string_view hash) {
  constexpr std::string_view prefix = "xxh64:";
  if (hash.size() != prefix.size() + 16 || hash.substr(0, prefix.size()) != prefix)
    return false;
  for (char c : hash.substr(prefix.size()))
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  return true;
}

std::uint32_t chunk_checksum(std::string_view data) {
  return XXH32(data.data(), data.size(), 0);
}

binary_chunk read_chunk(const fs::path& file, std::uint64_t offset, std::uint32_t max_size) {
  std::ifstream in(file, std::ios::binary);
  if (!in)
    throw std::runtime_error("cannot read binary " + file.string() + ": " + std::strerror(errno));
  in.seekg(0, std::ios::end);
  auto total = static_cast<std::uint64_t>(in.tellg());
  if (offset > total)
    throw std::runtime_error("offset " + std::to_string(offset) + " beyond the end of " + file.string() + " ("
                             + std::to_string(total) + " bytes)");
  binary_chunk c;
  c.offset = offset;
  c.total_size = total;
  auto n = std::min<std::uint64_t>(max_size == 0 ? 1 : max_size, total - offset);
  c.data.resize(n);
  in.seekg(static_cast<std::streamoff>(offset));
  in.read(c.data.data(), static_cast<std::streamsize>(n));
  if (static_cast<std::uint64_t>(in.gcount()) != n)
    throw std::runtime_error("short read of " + file.string());
  c.checksum = chunk_checksum(c.data);
  c.last = offset + n == total;
  return c;
}

// -- binary_cache ----------------------------------------------------------------------------------

binary_cache::binary_cache(fs::path dir) : dir_(std::move(dir)) {
  fs::create_directories(dir_);
}

std::optional<fs::path> binary_cache::lookup(std::string_view hash) const {
  if (!valid_content_hash(hash))
    return std::nullopt;
  auto p = path_for(hash);
  std::error_code ec;
  if (fs::is_regular_file(p, ec))
    return p;
  return std::nullopt;
}

std::optional<fs::path> binary_cache::local_match(const fs::path& local, std::string_view hash) {
  std::error_code ec;
  if (local.empty() || !fs::is_regular_file(local, ec))
    return std::nullopt;
  known_file k;
  k.size = fs::file_size(local, ec);
  if (ec)
    return std::nullopt;
  k.mtime = fs::last_write_time(local, ec);
  if (ec)
    return std::nullopt;
  if (last_ && last_->first == local.string() && last_->second.size == k.size && last_->second.mtime == k.mtime) {
    k.hash = last_->second.hash;
  } else {
    try {
      k.hash = content_hash(local);
    } catch (const std::exception&) {
      return std::nullopt;
    }
    last_ = std::make_pair(local.string(), k);
  }
  if (k.hash != hash)
    return std::nullopt;
  return local;
}

// -- binary_assembly -------------------------------------------------------------------------------

binary_assembly::binary_assembly(const binary_cache& cache, std::string hash) : hash_(std::move(hash)) {
  if (!valid_content_hash(hash_))
    throw std::runtime_error("bad content hash '" + hash_ + "' (expected xxh64:<16 hex digits>)");
  final_ = cache.path_for(hash_);
  part_ = final_;
  part_ += ".part";
  out_.open(part_, std::ios::binary | std::ios::trunc);
  if (!out_)
    throw std::runtime_error("cannot create " + part_.string() + ": " + std::strerror(errno));
}

binary_assembly::~binary_assembly() {
  if (!finished_) {
    out_.close();
    std::error_code ec;
    fs::remove(part_, ec);
  }
}

std::optional<std::string> binary_assembly::add(const binary_chunk& c) {
  if (complete_)
    return "chunk after the last one of " + hash_;
  if (c.offset != received_)
    return "chunk of " + hash_ + " at offset " + std::to_string(c.offset) + ", expected "
           + std::to_string(received_);
  if (received_ > 0 && c.total_size != total_)
    return "chunk of " + hash_ + " changes the total size from " + std::to_string(total_) + " to "
           + std::to_string(c.total_size);
  if (chunk_checksum(c.data) != c.checksum)
    return "chunk of " + hash_ + " at offset " + std::to_string(c.offset) + " fails its checksum";
  if (c.offset + c.data.size() > c.total_size)
    return "chunk of " + hash_ + " runs past the total size " + std::to_string(c.total_size);
  if (c.data.empty() && !c.last)
    return "empty chunk of " + hash_ + " that is not the last";
  total_ = c.total_size;
  out_.write(c.data.data(), static_cast<std::streamsize>(c.data.size()));
  if (!out_)
    return "cannot write " + part_.string();
  received_ += c.data.size();
  if (c.last) {
    if (received_ != total_)
      return "last chunk of " + hash_ + " ends at " + std::to_string(received_) + " of "
             + std::to_string(total_) + " bytes";
    complete_ = true;
  }
  return std::nullopt;
}

fs::path binary_assembly::finish() {
  if (!complete_)
    throw std::runtime_error("binary " + hash_ + " is incomplete (" + std::to_string(received_) + " bytes)");
  out_.close();
  if (!out_)
    throw std::runtime_error("cannot write " + part_.string());
  auto actual = content_hash(part_);
  if (actual != hash_)
    throw std::runtime_error("fetched binary has hash " + actual + ", expected " + hash_);
  fs::permissions(part_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec
                           | fs::perms::others_read | fs::perms::others_exec);
  fs::rename(part_, final_);
  finished_ = true;
  return final_;
}

} // namespace ember::deploy
