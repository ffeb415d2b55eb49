#include "api/narrow.hpp"

#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace ember::detail {

// -- range ---------------------------------------------------------------------

range_node::range_node(uint32_t id, int64_t start, int64_t end, int64_t step, uint32_t slices)
  : registered_node<range_node, int64_t>(id, slices, "range"), start_(start), end_(end), step_(step) {}

void range_node::compute(uint32_t p, task_env& env, sink<int64_t> out) const {
  // Element i of the range is start + i * step; slice p holds elements [p*n/k, (p+1)*n/k).
  int64_t count = step_ > 0 ? (end_ > start_ ? (end_ - start_ + step_ - 1) / step_ : 0)
                            : (start_ > end_ ? (start_ - end_ - step_ - 1) / -step_ : 0);
  auto k = static_cast<int64_t>(num_partitions());
  int64_t b = p * count / k, e = (p + 1) * count / k;
  for (int64_t i = b; i < e; ++i)
    out(start_ + i * step_);
  env.records_read += static_cast<uint64_t>(e - b);
}

void range_node::encode_body(encoder& e) const {
  e(start_);
  e(end_);
  e(step_);
  e(num_partitions());
}

std::shared_ptr<node_base> range_node::decode(uint32_t id, byte_reader& r, decode_context&) {
  auto start = deserialize<int64_t>(r);
  auto end = deserialize<int64_t>(r);
  auto step = deserialize<int64_t>(r);
  return std::make_shared<range_node>(id, start, end, step, deserialize<uint32_t>(r));
}

// -- text files ----------------------------------------------------------------

text_file_node::text_file_node(uint32_t id, std::vector<file_split> splits)
  : registered_node<text_file_node, std::string>(id, static_cast<uint32_t>(splits.size()), "text_file"),
    splits_(std::move(splits)) {}

namespace {

// Reads a file sequentially from an offset with large preads.
class chunk_reader {
public:
  chunk_reader(const std::string& path, uint64_t offset) : path_(path), pos_(offset) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0)
      throw std::system_error(errno, std::generic_category(), "cannot open input file " + path);
    buf_.resize(4 << 20);
  }
  ~chunk_reader() { ::close(fd_); }
  chunk_reader(const chunk_reader&) = delete;
  chunk_reader& operator=(const chunk_reader&) = delete;

  // Refills the buffer keeping bytes [keep, end) at the front; returns false at end of file.
  bool refill(size_t keep) {
    size_t tail = end_ - keep;
    std::memmove(buf_.data(), buf_.data() + keep, tail);
    begin_offset_ += keep;
    end_ = tail;
    if (end_ == buf_.size())
      buf_.resize(buf_.size() * 2); // a line longer than the buffer: grow
    ssize_t n;
    do {
      n = ::pread(fd_, buf_.data() + end_, buf_.size() - end_, static_cast<off_t>(pos_));
    } while (n < 0 && errno == EINTR);
    if (n < 0)
      throw std::system_error(errno, std::generic_category(), "cannot read input file " + path_);
    pos_ += static_cast<uint64_t>(n);
    end_ += static_cast<size_t>(n);
    return n > 0;
  }
  const char* data() const { return buf_.data(); }
  size_t size() const { return end_; }
  // File offset of data()[0].
  uint64_t& begin_offset() { return begin_offset_; }

private:
  std::string path_;
  int fd_ = -1;
  uint64_t pos_;
  uint64_t begin_offset_ = 0;
  std::vector<char> buf_;
  size_t end_ = 0;
};

} // namespace

void text_file_node::compute(uint32_t p, task_env& env, sink<std::string> out) const {
  const auto& s = splits_.at(p);
  uint64_t start = s.offset == 0 ? 0 : s.offset - 1; // back up one byte: see the class comment
  uint64_t end = s.offset + s.length;
  chunk_reader in{s.path, start};
  in.begin_offset() = start;
  size_t pos = 0;
  bool more = in.refill(0);
  bool skip_first = s.offset != 0;
  uint64_t lines = 0, bytes = 0;
  std::string line;
  while (true) {
    const char* nl = static_cast<const char*>(std::memchr(in.data() + pos, '\n', in.size() - pos));
    if (!nl && more) {
      more = in.refill(pos);
      pos = 0;
      continue;
    }
    uint64_t line_start = in.begin_offset() + pos;
    if (!skip_first && line_start >= end)
      break;
    size_t len = nl ? static_cast<size_t>(nl - (in.data() + pos)) : in.size() - pos;
    if (!nl && len == 0)
      break; // end of file right after a newline
    if (skip_first) {
      skip_first = false;
    } else {
      size_t n = len;
      if (n > 0 && in.data()[pos + n - 1] == '\r')
        --n;
      // One buffer for every line: a consumer that only reads the line (most do) leaves its
      // capacity here, so lines longer than the small-string buffer cost no allocation each.
      line.assign(in.data() + pos, n);
      out(std::move(line));
      ++lines;
      bytes += len + 1;
    }
    if (!nl)
      break;
    pos += len + 1;
  }
  env.records_read += lines;
  env.bytes_read += bytes;
}

void text_file_node::encode_body(encoder& e) const { e(splits_); }

std::shared_ptr<node_base> text_file_node::decode(uint32_t id, byte_reader& r, decode_context&) {
  return std::make_shared<text_file_node>(id, deserialize<std::vector<file_split>>(r));
}

namespace {

// The declared files `pattern` names, as a local path would: the file itself, the visible files
// directly in a directory of that name, or the files matching a glob.
std::vector<std::string> match_declared(const std::string& pattern, const declared_files& declared) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  if (declared.empty())
    return out;
  auto abs = fs::absolute(pattern).lexically_normal().string();
  while (abs.size() > 1 && abs.back() == '/')
    abs.pop_back();
  for (const auto& [path, file] : declared) {
    if (path == abs) {
      out.push_back(path);
      continue;
    }
    fs::path p{path};
    auto name = p.filename().string();
    if (p.parent_path().string() == abs) {
      if (!name.starts_with('_') && !name.starts_with('.'))
        out.push_back(path);
      continue;
    }
    if (::fnmatch(abs.c_str(), path.c_str(), FNM_PATHNAME | FNM_PERIOD) == 0)
      out.push_back(path);
  }
  return out;
}

} // namespace

std::vector<file_split> plan_text_splits(const std::string& pattern, uint64_t max_partition_bytes,
                                         uint32_t parallelism, const declared_files& declared) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  glob_t g{};
  int rc = ::glob(pattern.c_str(), GLOB_NOSORT | GLOB_BRACE | GLOB_TILDE, nullptr, &g);
  std::vector<std::string> remote;
  if (rc == GLOB_NOMATCH) {
    globfree(&g);
    remote = match_declared(pattern, declared);
    if (remote.empty())
      throw std::runtime_error("text_file: input path does not exist: " + pattern);
  } else if (rc != 0) {
    throw std::runtime_error("text_file: cannot expand " + pattern);
  }
  for (size_t i = 0; remote.empty() && i < g.gl_pathc; ++i) {
    // Absolute: executors of a cluster run in their own work directories.
    fs::path p = fs::absolute(g.gl_pathv[i]);
    if (fs::is_directory(p)) {
      for (auto& entry : fs::directory_iterator(p)) {
        auto name = entry.path().filename().string();
        if (entry.is_regular_file() && !name.starts_with('_') && !name.starts_with('.'))
          files.push_back(entry.path().string());
      }
    } else {
      files.push_back(p.string());
    }
  }
  if (remote.empty())
    globfree(&g);
  if (files.empty() && remote.empty()) // e.g. an empty local directory: the workers' files by that name
    remote = match_declared(pattern, declared);
  files.insert(files.end(), remote.begin(), remote.end());
  std::sort(files.begin(), files.end());

  constexpr uint64_t open_cost = 4 << 20; // Spark's ember.files.openCostInBytes
  std::vector<uint64_t> sizes;
  uint64_t total = 0;
  for (auto& f : files) {
    // A file only the workers hold: the size they declared.
    if (!remote.empty()) {
      sizes.push_back(declared.at(f).size);
      total += sizes.back() + open_cost;
      continue;
    }
    std::error_code ec;
    auto size = fs::file_size(f, ec);
    if (ec)
      throw std::runtime_error("text_file: cannot read " + f + ": " + ec.message());
    sizes.push_back(size);
    total += size + open_cost;
  }
  uint64_t per_core = total / std::max<uint32_t>(1, parallelism);
  uint64_t split = std::max<uint64_t>(1, std::min(max_partition_bytes, std::max(open_cost, per_core)));
  std::vector<file_split> out;
  for (size_t i = 0; i < files.size(); ++i) {
    if (sizes[i] == 0)
      continue;
    std::vector<std::string> hosts;
    if (auto d = declared.find(fs::path{files[i]}.lexically_normal().string()); d != declared.end())
      hosts = d->second.hosts;
    for (uint64_t off = 0; off < sizes[i]; off += split)
      out.push_back({files[i], off, std::min(split, sizes[i] - off), hosts});
  }
  return out;
}

} // namespace ember::detail
