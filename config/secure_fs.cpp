#include "config/secure_fs.hpp"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <optional>
#include <string_view>
#include <system_error>

#include "config/config.hpp"

namespace ember::config {

namespace {

std::string user_name(uid_t uid) {
  // getpwuid_r: the worker and executors run several threads.
  std::vector<char> buf(16384);
  passwd pw{};
  passwd* found = nullptr;
  if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found && found->pw_name && *found->pw_name)
    return found->pw_name;
  return std::to_string(uid);
}

std::string owner_text(uid_t uid) { return user_name(uid) + " (uid " + std::to_string(uid) + ")"; }

std::string mode_text(mode_t m) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m & 07777));
  return buf;
}

[[noreturn]] void refuse(const std::filesystem::path& dir, const std::string& why) {
  throw std::runtime_error("refusing to use directory " + dir.string() + ": " + why);
}

void check_existing(const std::filesystem::path& dir) {
  struct stat st{};
  if (::lstat(dir.c_str(), &st) != 0)
    refuse(dir, std::strerror(errno));
  if (S_ISLNK(st.st_mode))
    refuse(dir, "it is a symbolic link");
  if (!S_ISDIR(st.st_mode))
    refuse(dir, "it exists and is not a directory");
  const uid_t me = ::geteuid();
  if (st.st_uid != me)
    refuse(dir, "it is owned by " + owner_text(st.st_uid) + ", not by " + owner_text(me));
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
    refuse(dir, "it is writable by group or others (mode " + mode_text(st.st_mode) + ")");
}

// ember.local.dir's built-in value, spelled as documented; it stands for default_local_dir().
constexpr std::string_view default_spelling = "$TMPDIR/ember-$USER";

} // namespace

void make_private_dir(const std::filesystem::path& dir) {
  if (::mkdir(dir.c_str(), private_dir_mode) == 0)
    return;
  if (errno != EEXIST)
    throw std::system_error(errno, std::generic_category(), "cannot create directory " + dir.string());
  check_existing(dir);
}

void make_private_dirs(const std::filesystem::path& dir) {
  auto parent = dir.lexically_normal().parent_path();
  if (!parent.empty() && parent != dir) {
    std::vector<std::filesystem::path> missing;
    for (auto p = parent; !p.empty(); p = p.parent_path()) {
      struct stat st{};
      if (::stat(p.c_str(), &st) == 0)
        break;
      missing.push_back(p);
      if (p == p.parent_path())
        break;
    }
    for (auto it = missing.rbegin(); it != missing.rend(); ++it)
      if (::mkdir(it->c_str(), private_dir_mode) != 0 && errno != EEXIST)
        throw std::system_error(errno, std::generic_category(), "cannot create directory " + it->string());
  }
  make_private_dir(dir);
}

int open_private_file(const std::filesystem::path& path, int flags) {
  int fd = ::open(path.c_str(), flags | private_open_flags, private_file_mode);
  if (fd >= 0)
    return fd;
  const int e = errno;
  // O_NOFOLLOW on a symlink gives ELOOP, whose text ("too many levels of symbolic links") misleads.
  if (e == ELOOP)
    throw std::system_error(e, std::generic_category(), "refusing to open " + path.string() + ": it is a symbolic link");
  throw std::system_error(e, std::generic_category(),
                          std::string{(flags & O_CREAT) != 0 ? "cannot create " : "cannot open "} + path.string());
}

void sync_fd(int fd, const std::filesystem::path& path) {
  while (::fsync(fd) != 0)
    if (errno != EINTR)
      throw std::system_error(errno, std::generic_category(), "cannot sync " + path.string());
}

void sync_dir(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    throw std::system_error(errno, std::generic_category(), "cannot open directory " + dir.string() + " to sync it");
  try {
    sync_fd(fd, dir);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
}

std::filesystem::path default_local_dir() {
  const char* tmp = std::getenv("TMPDIR");
  std::filesystem::path base = tmp && *tmp ? tmp : "/tmp";
  return base / ("ember-" + user_name(::geteuid()));
}

namespace {

// The part of a dir setting below "$TMPDIR/ember-$USER", or nullopt for a dir the user named.
std::optional<std::filesystem::path> below_default(std::string_view text) {
  if (!text.starts_with(default_spelling))
    return std::nullopt;
  auto rest = text.substr(default_spelling.size());
  if (!rest.empty() && rest.front() != '/')
    return std::nullopt;
  return std::filesystem::path{rest}.relative_path().lexically_normal();
}

} // namespace

std::filesystem::path expand_dir_setting(std::string_view text) {
  if (auto rest = below_default(text))
    return rest->empty() || *rest == "." ? default_local_dir() : default_local_dir() / *rest;
  return std::filesystem::path{text};
}

std::filesystem::path prepare_dir_setting(std::string_view text) {
  auto path = expand_dir_setting(text);
  if (auto rest = below_default(text)) {
    // In a shared dir (/tmp): another user may have planted any of these, so each is checked.
    auto p = default_local_dir();
    make_private_dirs(p);
    for (auto& part : *rest)
      if (part != "." && !part.empty()) {
        if (part == "..")
          throw std::runtime_error("refusing to use directory " + std::string{text} + ": it leaves " + p.string());
        p /= part;
        make_private_dir(p);
      }
    return path;
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec))
    make_private_dirs(path);
  return path;
}

std::vector<std::filesystem::path> local_dir_paths(const config& conf) {
  std::vector<std::filesystem::path> out;
  for (auto& d : split_list(conf.get(keys::local_dir)))
    out.push_back(expand_dir_setting(d));
  return out;
}

std::vector<std::filesystem::path> local_dirs(const config& conf) {
  std::vector<std::filesystem::path> out;
  for (auto& d : split_list(conf.get(keys::local_dir)))
    out.push_back(prepare_dir_setting(d));
  return out;
}

} // namespace ember::config
