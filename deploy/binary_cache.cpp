#include "deploy/binary_cache.hpp"

#include "config/secure_fs.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <system_error>

#include <openssl/evp.h>
#include <xxhash.h>

namespace ember::deploy {

namespace fs = std::filesystem;

namespace {

struct md_ctx_deleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using md_ctx = std::unique_ptr<EVP_MD_CTX, md_ctx_deleter>;

// Incremental SHA-256 over OpenSSL's EVP interface (the one that is not deprecated in 3.0).
class sha256 {
public:
  sha256() : ctx_(EVP_MD_CTX_new()) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1)
      throw std::runtime_error("OpenSSL cannot start a SHA-256 digest");
  }
  void update(const void* data, std::size_t n) {
    if (EVP_DigestUpdate(ctx_.get(), data, n) != 1)
      throw std::runtime_error("OpenSSL SHA-256 update failed");
  }
  std::string hex() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx_.get(), md, &len) != 1)
      throw std::runtime_error("OpenSSL SHA-256 final failed");
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(2 * len);
    for (unsigned i = 0; i < len; ++i) {
      out += digits[md[i] >> 4];
      out += digits[md[i] & 0xf];
    }
    return out;
  }

private:
  md_ctx ctx_;
};

constexpr auto cached_perms = fs::perms::owner_read | fs::perms::owner_exec;

} // namespace

std::string content_hash(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in)
    throw std::runtime_error("cannot read binary " + file.string() + ": " + std::strerror(errno));
  sha256 h;
  std::array<char, 1 << 16> buf;
  while (in) {
    in.read(buf.data(), buf.size());
    if (in.gcount() > 0)
      h.update(buf.data(), static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad())
    throw std::runtime_error("cannot read binary " + file.string());
  return h.hex();
}

std::string content_hash_of(std::string_view bytes) {
  sha256 h;
  h.update(bytes.data(), bytes.size());
  return h.hex();
}

bool valid_content_hash(std::string_view hash) {
  if (hash.size() != 64)
    return false;
  for (char c : hash)
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

binary_cache::binary_cache(fs::path dir, std::uint64_t max_size) : dir_(std::move(dir)), max_size_(max_size) {
  config::make_private_dirs(dir_);  // 0700: nobody else may plant or swap a binary here
  std::vector<std::pair<fs::file_time_type, std::string>> found;
  for (auto& e : fs::directory_iterator(dir_)) {
    std::error_code ec;
    auto name = e.path().filename().string();
    if (!valid_content_hash(name) || !e.is_regular_file(ec)) {
      fs::remove_all(e.path(), ec);  // a partial fetch, or a name from an older format
      continue;
    }
    found.emplace_back(e.last_write_time(ec), name);
  }
  std::sort(found.begin(), found.end());
  for (auto& [mtime, name] : found) {
    std::error_code ec;
    record(name, fs::file_size(dir_ / name, ec));
    entries_.at(name).verified = false;  // hashing up to maxSize here would delay every start
  }
}

void binary_cache::forget(std::map<std::string, entry>::iterator it) {
  total_ -= it->second.size;
  entries_.erase(it);
}

void binary_cache::record(const std::string& hash, std::uint64_t size) {
  auto& e = entries_[hash];
  total_ = total_ - e.size + size;
  e.size = size;
  e.last_use = ++clock_;
}

std::optional<fs::path> binary_cache::lookup(std::string_view hash) {
  if (!valid_content_hash(hash))
    return std::nullopt;
  auto it = entries_.find(std::string{hash});
  if (it == entries_.end())
    return std::nullopt;
  auto p = path_for(hash);
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) {  // removed behind our back
    forget(it);
    return std::nullopt;
  }
  if (!it->second.verified) {
    std::string actual;
    try {
      actual = content_hash(p);
    } catch (const std::exception&) {
    }
    if (actual != hash) {
      fs::remove(p, ec);
      forget(it);
      return std::nullopt;
    }
    it->second.verified = true;
  }
  it->second.last_use = ++clock_;
  return p;
}

std::optional<fs::path> binary_cache::local_match(const fs::path& local, std::string_view hash) {
  std::error_code ec;
  if (!valid_content_hash(hash) || local.empty() || !fs::is_regular_file(local, ec))
    return std::nullopt;
  std::ifstream in(local, std::ios::binary);
  if (!in)
    return std::nullopt;
  auto final_path = path_for(hash);
  auto part = final_path;
  part += ".part";
  std::ofstream out(part, std::ios::binary | std::ios::trunc);
  if (!out)
    return std::nullopt;
  // The digest is computed over the bytes as they are copied: what is verified is what runs.
  sha256 h;
  std::uint64_t size = 0;
  std::array<char, 1 << 16> buf;
  while (in) {
    in.read(buf.data(), buf.size());
    auto n = in.gcount();
    if (n > 0) {
      h.update(buf.data(), static_cast<std::size_t>(n));
      out.write(buf.data(), n);
      size += static_cast<std::uint64_t>(n);
    }
  }
  out.close();
  if (in.bad() || !out || h.hex() != hash) {
    fs::remove(part, ec);
    return std::nullopt;
  }
  fs::permissions(part, cached_perms, ec);
  fs::rename(part, final_path, ec);
  if (ec) {
    fs::remove(part, ec);
    return std::nullopt;
  }
  record(std::string{hash}, size);
  return final_path;
}

void binary_cache::added(std::string_view hash) {
  std::error_code ec;
  auto size = fs::file_size(path_for(hash), ec);
  if (!ec)
    record(std::string{hash}, size);
}

std::vector<std::string> binary_cache::evict(const std::set<std::string>& in_use) {
  std::vector<std::string> removed;
  if (total_ <= max_size_)
    return removed;
  std::vector<std::pair<std::uint64_t, std::string>> order;
  for (auto& [hash, e] : entries_)
    if (in_use.count(hash) == 0)
      order.emplace_back(e.last_use, hash);
  std::sort(order.begin(), order.end());
  for (auto& [use, hash] : order) {
    if (total_ <= max_size_)
      break;
    std::error_code ec;
    fs::remove(path_for(hash), ec);
    forget(entries_.find(hash));
    removed.push_back(hash);
  }
  return removed;
}

// -- binary_assembly -------------------------------------------------------------------------------

binary_assembly::binary_assembly(binary_cache& cache, std::string hash) : cache_(cache), hash_(std::move(hash)) {
  if (!valid_content_hash(hash_))
    throw std::runtime_error("bad content hash '" + hash_ + "' (expected a SHA-256 digest: 64 lowercase hex digits)");
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
    throw std::runtime_error("fetched binary has SHA-256 " + actual + ", expected " + hash_);
  fs::permissions(part_, cached_perms);
  fs::rename(part_, final_);
  finished_ = true;
  cache_.added(hash_);
  return final_;
}

} // namespace ember::deploy
