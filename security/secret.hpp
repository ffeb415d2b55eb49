// The cluster's shared secret (ember.authenticate): where a process finds it, and the rules that
// keep it out of files, command lines, environments and logs. CAF-free. Read by actors/remoting
// (which derives the TLS credentials from it) and by the worker, which hands it to the executors
// and drivers it starts through an inherited file descriptor, never through argv or a variable.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace ember::security {

// Names the descriptor a child inherits its secret on ("EMBER_AUTHENTICATE_SECRET_FD=5"): the
// environment holds a number, never the secret.
inline constexpr const char* secret_fd_variable = "EMBER_AUTHENTICATE_SECRET_FD";

// Shortest secret accepted (bytes): guessing one must be as hard as breaking the TLS it keys.
inline constexpr std::size_t min_secret_length = 16;

// The OS user this process runs as (getpwuid of the effective uid; "uid<N>" without a passwd
// entry): the owner of what it submits, the user in its certificate and in ACL checks.
std::string os_user();

// Keys whose values are credentials: printed as "*****", never forwarded to another process.
bool is_secret_key(std::string_view key);
inline constexpr std::string_view redacted = "*****";

// How this process proves itself to its peers.
struct cluster_security {
  enum class kind { none, shared_secret, certificates };
  kind mode = kind::none;
  std::string secret;                       // shared_secret
  std::string certificate, key, ca_file;    // certificates (ember.ssl.*)
  bool enabled() const { return mode != kind::none; }
};

// Resolves ember.authenticate / ember.ssl.* of `c`: the secret from ember.authenticate.secret.file
// (a regular file of this user, no group or other permissions), from a descriptor a parent passed
// (secret_fd_variable), or from ember.authenticate.secret (a warning goes to `warnings`: the value
// shows in process listings). Throws config::config_error naming the key and what is wrong.
cluster_security resolve(const config::config& c, std::vector<std::string>& warnings);

// The contents of a secret file, checked as resolve() says; trailing newlines dropped.
std::string read_secret_file(const std::filesystem::path& path);

// A memory-only file (memfd, close-on-exec) holding `contents`, readable by path in this process
// ("/proc/self/fd/N") but nowhere on disk: how the TLS key reaches CAF, which reads files.
class memory_file {
 public:
  memory_file(const std::string& name, std::string_view contents);
  ~memory_file();
  memory_file(const memory_file&) = delete;
  memory_file& operator=(const memory_file&) = delete;
  memory_file(memory_file&& other) noexcept;
  int fd() const { return fd_; }
  std::string path() const;

 private:
  int fd_ = -1;
};

}  // namespace ember::security
