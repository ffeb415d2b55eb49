// `ember worker ember://H:P [--host H] [--cores N] [--memory 8g] [--work-dir DIR] [--data-dir DIR]...`: runs one
// worker (actors/worker.hpp) until SIGTERM/SIGINT, then kills its executors and drivers.
// Prints "ember worker <id> registered with ember://H:P" once the master accepted it.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace ember::config {
class config;
}

namespace ember::cli {

struct worker_command_options {
  std::string master_url;
  std::string host;                   // empty: 127.0.0.1 for a loopback master, else this host's name
  std::optional<int> cores;           // default: hardware threads
  std::optional<std::string> memory;  // default: total RAM - 1 GiB ("8g", plain number = MiB)
  std::string work_dir = "work";
  std::vector<std::string> data_dirs; // --data-dir (repeatable), added to ember.worker.dataDirs
};

/// Returns the exit code: 0 after a signal, 1 when the master refused the worker or the port
/// cannot be opened, 2 for a bad URL or value (one line on stderr).
int run_worker(const config::config& c, const worker_command_options& options);

} // namespace ember::cli
