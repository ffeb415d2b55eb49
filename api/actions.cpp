#include "api/actions.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <system_error>

namespace ember::detail {

text_part_writer::text_part_writer(const std::string& dir, uint32_t partition, uint64_t task_id,
                                   uint32_t attempt) {
  char name[64];
  std::snprintf(name, sizeof name, "part-%05u", partition);
  auto attempt_dir = std::filesystem::path{dir} / "_temporary"
                     / ("attempt_" + std::to_string(task_id) + "_" + std::to_string(attempt));
  std::filesystem::create_directories(attempt_dir);
  path_ = (attempt_dir / name).string();
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
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
  if (::close(fd_) != 0) {
    fd_ = -1;
    throw std::system_error(errno, std::generic_category(), "cannot close output file " + path_);
  }
  fd_ = -1;
  return path_;
}

} // namespace ember::detail

namespace ember::detail {

void commit_text_output(const std::string& dir, const std::vector<std::string>& attempt_files) {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  for (auto& attempt : attempt_files) {
    fs::path src{attempt};
    fs::rename(src, fs::path{dir} / src.filename());
  }
  fs::remove_all(fs::path{dir} / "_temporary");
  std::FILE* f = std::fopen((fs::path{dir} / "_SUCCESS").c_str(), "w");
  if (!f || std::fclose(f) != 0)
    throw std::system_error(errno, std::generic_category(), "cannot write " + dir + "/_SUCCESS");
}

void clear_uncommitted_output(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(dir, ec))
    return;
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

} // namespace ember::detail
