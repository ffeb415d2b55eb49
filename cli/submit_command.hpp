// `ember submit`: spark-submit for Ember. Client mode runs the application binary in this process
// (execv, the driver is the submitting process); cluster mode asks the standalone master to start
// the driver on a worker (RequestSubmitDriver), and --kill / --status manage such drivers.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "config/config.hpp"

namespace ember::cli {

// A command line `ember submit` cannot run: unknown flag, missing value, bad combination.
class usage_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The parsed command line (before validation through the config registry).
struct submit_options {
  std::optional<std::string> master;       // --master; else ember.master from the configuration
  std::string deploy_mode = "client";      // --deploy-mode client|cluster
  std::vector<config::flag_setting> flags; // --name, --executor-memory, ... as registry keys
  std::vector<std::string> conf;           // --conf k=v, in order
  std::optional<std::string> properties_file;
  bool supervise = false;
  bool verbose = false;
  bool help = false;
  std::optional<std::string> kill_id;      // --kill ID
  std::optional<std::string> status_id;    // --status ID
  std::string binary;                      // the application binary (first non-flag argument)
  std::vector<std::string> app_args;       // everything after the binary, untouched
};

// Parses `ember submit` arguments (without "submit"). Throws usage_error.
submit_options parse_submit_args(const std::vector<std::string>& args);

// SHA-256 of a file's bytes (64 lowercase hex digits, deploy::content_hash), and its size. Throws
// std::runtime_error naming the file when it cannot be read.
std::pair<std::string, std::uint64_t> content_hash(const std::string& path);

// Runs `ember submit ARGS...`. Client mode replaces this process with the application (returns only
// on failure). Exit codes: 0 ok, 1 failure (master unreachable, refused), 2 usage or configuration.
int run_submit(const std::vector<std::string>& args);

}  // namespace ember::cli
