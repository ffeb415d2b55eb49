#include "api/actions.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include "config/secure_fs.hpp"

namespace ember::detail {

text_part_writer::text_part_writer(const std::string& dir, uint32_t partition, uint64_t task_id,
                                   uint32_t attempt) {
  char name[64];
  std::snprintf(name, sizeof name, "part-%05u", partition);
  auto attempt_dir = std::filesystem::path{dir} / "_temporary"
                     / ("attempt_" + std::to_string(task_id) + "_" + std::to_string(attempt));
  // Not creating _temporary: the driver made it at the job's start and removes it at the commit,
  // so an attempt still starting after the commit fails here. The attempt's own dir is private (a planted dir or symlink there is refused); the part file
  // keeps the umask's mode, as the output is the user's product, but never follows a symlink.
  config::make_private_dir(attempt_dir);
  path_ = (attempt_dir / name).string();
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | config::private_open_flags, 0644);
  if (fd_ < 0)
    throw std::system_error(errno, std::generic_category(), "cannot create output file " + path_);
}

text_part_writer::~text_part_writer() {
  if (fd_ >= 0)
    ::close(fd_);
}

void text_part_writer::flush() {
  size_t off = 0;
  while (off < buf_.size()) {
    auto n = ::write(fd_, buf_.data() + off, buf_.size() - off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      throw std::system_error(errno, std::generic_category(), "cannot write output file " + path_);
    off += static_cast<size_t>(n);
  }
  buf_.clear();
}

std::string text_part_writer::close() {
  flush();
  // Durable before the driver renames it into place and writes _SUCCESS.
  if (::fsync(fd_) != 0) {
    int e = errno;
    ::close(fd_);
    fd_ = -1;
    throw std::system_error(e, std::generic_category(), "cannot sync output file " + path_);
  }
  if (::close(fd_) != 0) {
    fd_ = -1;
    throw std::system_error(errno, std::generic_category(), "cannot close output file " + path_);
  }
  fd_ = -1;
  return path_;
}

} // namespace ember::detail

namespace ember::detail {

namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && s.size() <= 20 && s.find_first_not_of("0123456789") == std::string_view::npos;
}

// A task result names the file its attempt wrote; it comes from an executor, so before the driver
// renames it the path must be exactly <dir>/_temporary/attempt_<task>_<attempt>/part-<partition>
// for the partition it answers, with nothing on the way a symlink out of the output dir.
std::filesystem::path checked_attempt_file(const std::filesystem::path& dir, const std::string& attempt,
                                           std::size_t partition) {
  namespace fs = std::filesystem;
  auto refuse = [&](const std::string& why) {
    return std::invalid_argument("output commit: task result for partition " + std::to_string(partition)
                                 + " names '" + attempt + "': " + why);
  };
  const fs::path src = fs::path{attempt}.lexically_normal();
  char name[64];
  std::snprintf(name, sizeof name, "part-%05zu", partition);
  if (!src.is_absolute())
    throw refuse("not an absolute path");
  if (src.filename() != name)
    throw refuse(std::string{"expected a file named "} + name);
  auto attempt_dir = src.parent_path().filename().string();
  auto sep = attempt_dir.find('_', 8);
  if (attempt_dir.rfind("attempt_", 0) != 0 || sep == std::string::npos
      || !all_digits(std::string_view{attempt_dir}.substr(8, sep - 8))
      || !all_digits(std::string_view{attempt_dir}.substr(sep + 1)))
    throw refuse("not in an attempt_<task>_<attempt> dir");
  const auto temporary = (dir / "_temporary").lexically_normal();
  if (src.parent_path().parent_path() != temporary)
    throw refuse("outside " + temporary.string());
  // Resolved, the attempt dir must still be inside the resolved _temporary (no symlinked dirs).
  std::error_code ec;
  auto real_temporary = fs::canonical(temporary, ec);
  auto real_parent = ec ? fs::path{} : fs::canonical(src.parent_path(), ec);
  if (ec || real_parent.parent_path() != real_temporary)
    throw refuse("does not resolve to a dir inside " + temporary.string());
  struct stat st{};
  if (::lstat(src.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    throw refuse("not a regular file");
  return src;
}

} // namespace

void commit_text_output(const std::string& dir, const std::vector<std::string>& attempt_files) {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  const fs::path out{dir};
  std::vector<fs::path> sources;
  sources.reserve(attempt_files.size());
  for (std::size_t p = 0; p < attempt_files.size(); ++p)
    sources.push_back(checked_attempt_file(out, attempt_files[p], p));
  for (auto& src : sources)
    fs::rename(src, out / src.filename());
  fs::remove_all(out / "_temporary");
  // The renames durable before _SUCCESS says the output is complete, then _SUCCESS itself.
  config::sync_dir(out);
  auto success = out / "_SUCCESS";
  int fd = ::open(success.c_str(), O_WRONLY | O_CREAT | O_TRUNC | config::private_open_flags, 0644);
  if (fd < 0)
    throw std::system_error(errno, std::generic_category(), "cannot write " + success.string());
  try {
    config::sync_fd(fd, success);
  } catch (...) {
    ::close(fd);
    throw;
  }
  if (::close(fd) != 0)
    throw std::system_error(errno, std::generic_category(), "cannot write " + success.string());
  config::sync_dir(out);
}

namespace {

// `dir` exists: removes it when it holds an output that was never committed, else throws.
void clear_uncommitted(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  bool uncommitted = fs::is_directory(dir, ec);
  for (auto it = fs::directory_iterator(dir, ec); uncommitted && !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    auto name = it->path().filename().string();
    uncommitted = name == "_temporary" || name.rfind("part-", 0) == 0;
  }
  if (!uncommitted || ec)
    throw std::invalid_argument("save_as_text_file: output directory already exists: " + dir);
  fs::remove_all(dir);
}

}  // namespace

void setup_text_output(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(dir, ec))
    clear_uncommitted(dir);
  fs::create_directories(dir);
  config::make_private_dir(fs::path{dir} / "_temporary");
}

} // namespace ember::detail
