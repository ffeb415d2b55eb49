#include "security/secret.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>

namespace ember::security {

namespace {

using config::config_error;

std::string errno_text() { return std::strerror(errno); }

std::string read_all(int fd, const std::string& what) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      throw config_error(what + ": cannot read: " + errno_text());
    if (n == 0)
      break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > 64 * 1024)
      throw config_error(what + ": longer than 64 KiB; a secret is a short line");
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r'))
    out.pop_back();
  return out;
}

void check_length(const std::string& secret, const std::string& what) {
  if (secret.size() < min_secret_length)
    throw config_error(what + ": the secret is " + std::to_string(secret.size()) + " bytes; at least "
                       + std::to_string(min_secret_length) + " are needed (e.g. `head -c 32 /dev/urandom | base64`)");
}

// A worker's child reads its secret once, at its first resolve(), and closes the descriptor so
// that its own children cannot inherit it by accident.
std::optional<std::string> inherited_secret() {
  static std::once_flag once;
  static std::optional<std::string> secret;
  std::call_once(once, [] {
    const char* v = std::getenv(secret_fd_variable);
    if (v == nullptr)
      return;
    std::string what = std::string{"$"} + secret_fd_variable + "=" + v;
    char* end = nullptr;
    long fd = std::strtol(v, &end, 10);
    if (end == v || *end != '\0' || fd < 0 || fd > 65535)
      throw config_error(what + ": not a file descriptor number");
    ::lseek(static_cast<int>(fd), 0, SEEK_SET);
    secret = read_all(static_cast<int>(fd), what);
    ::close(static_cast<int>(fd));
    ::unsetenv(secret_fd_variable);
  });
  return secret;
}

}  // namespace

std::string os_user() {
  if (const auto* pw = ::getpwuid(::geteuid()); pw != nullptr && pw->pw_name != nullptr)
    return pw->pw_name;
  return "uid" + std::to_string(::geteuid());
}

bool is_secret_key(std::string_view key) { return key == config::keys::authenticate_secret.name; }

std::string read_secret_file(const std::filesystem::path& path) {
  std::string what = std::string{config::keys::authenticate_secret_file.name} + "=" + path.string();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0)
    throw config_error(what + ": cannot open: " + errno_text());
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    throw config_error(what + ": cannot stat: " + errno_text());
  }
  std::string problem;
  if (!S_ISREG(st.st_mode))
    problem = "not a regular file";
  else if (st.st_uid != ::geteuid())
    problem = "owned by uid " + std::to_string(st.st_uid) + ", not by this user (uid "
              + std::to_string(::geteuid()) + ")";
  else if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    problem = std::string{"mode "} + mode + " lets other users read it; chmod 600 it";
  }
  if (!problem.empty()) {
    ::close(fd);
    throw config_error(what + ": " + problem);
  }
  std::string secret;
  try {
    secret = read_all(fd, what);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  check_length(secret, what);
  return secret;
}

cluster_security resolve(const config::config& c, std::vector<std::string>& warnings) {
  namespace k = config::keys;
  cluster_security s;
  if (c.get(k::ssl_enabled)) {
    s.mode = cluster_security::kind::certificates;
    s.certificate = c.get(k::ssl_certificate);
    s.key = c.get(k::ssl_key);
    s.ca_file = c.get(k::ssl_ca_file);
    for (auto [key, path] : {std::pair{k::ssl_certificate.name, &s.certificate}, std::pair{k::ssl_key.name, &s.key},
                             std::pair{k::ssl_ca_file.name, &s.ca_file}})
      if (::access(path->c_str(), R_OK) != 0)
        throw config_error(std::string{key} + "=" + *path + ": cannot read: " + errno_text());
    return s;
  }
  auto inherited = inherited_secret();  // read even when unused, so the descriptor is closed
  if (!c.get(k::authenticate))
    return s;
  s.mode = cluster_security::kind::shared_secret;
  if (inherited) {
    s.secret = std::move(*inherited);
    check_length(s.secret, std::string{"$"} + secret_fd_variable);
  } else if (auto file = c.get(k::authenticate_secret_file); !file.empty()) {
    s.secret = read_secret_file(file);
  } else if (auto value = c.get(k::authenticate_secret); !value.empty()) {
    s.secret = value;
    check_length(s.secret, std::string{k::authenticate_secret.name});
    warnings.push_back(std::string{k::authenticate_secret.name}
                       + " is set as a value, which other users can see in process listings; put the secret in "
                         "a file of mode 0600 and set "
                       + std::string{k::authenticate_secret_file.name} + " instead");
  } else {
    throw config_error(std::string{k::authenticate.name} + "=true requires " + std::string{k::authenticate_secret_file.name}
                       + " (a file of mode 0600 holding the cluster's secret)");
  }
  return s;
}

// -- memory_file ----------------------------------------------------------------------------

memory_file::memory_file(const std::string& name, std::string_view contents) {
  fd_ = ::memfd_create(name.c_str(), MFD_CLOEXEC);
  if (fd_ < 0)
    throw std::runtime_error("memfd_create " + name + ": " + errno_text());
  std::size_t done = 0;
  while (done < contents.size()) {
    ssize_t n = ::write(fd_, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      int e = errno;
      ::close(fd_);
      throw std::runtime_error("memfd write " + name + ": " + std::strerror(e));
    }
    done += static_cast<std::size_t>(n);
  }
}

memory_file::~memory_file() {
  if (fd_ >= 0)
    ::close(fd_);
}

memory_file::memory_file(memory_file&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

std::string memory_file::path() const { return "/proc/self/fd/" + std::to_string(fd_); }

}  // namespace ember::security
