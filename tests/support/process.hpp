// Child processes for tests, with deadlines: the programs under test (ember master, workers,
// drivers, the examples) started for real, read line by line or through a log file, stopped with
// SIGTERM then SIGKILL, and never outliving their test.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ember_test {

// The directory the build puts the programs in (build/bin).
inline const std::string bin_dir = EMBER_BIN_DIR;

struct spawn_options {
  // stdout and stderr go to `log` (truncated) unless `pipe_stdout`; then stderr alone goes there
  // (appended). Empty: inherited from the test.
  std::filesystem::path log;
  // With `err`: stderr goes there (truncated) instead, `log` keeps stdout.
  std::filesystem::path err;
  bool pipe_stdout = false;  // stdout readable with child::line()
  bool own_group = true;     // its own process group, so stop() reaches its children too
  bool die_with_parent = false;
  std::vector<std::pair<std::string, std::string>> env;  // set in the child only
  std::vector<std::string> unset_env;                    // removed in the child only
};

class child {
public:
  child() = default;
  child(const std::vector<std::string>& argv, std::filesystem::path log_file);
  child(const std::vector<std::string>& argv, spawn_options options);
  child(const child&) = delete;
  child& operator=(const child&) = delete;
  child(child&& other) noexcept;
  child& operator=(child&& other) noexcept;
  // Stops it (SIGTERM, then SIGKILL to its group after 10 s) if it still runs.
  ~child();

  // Starts `argv` (argv[0] a path); a child() default-constructed can be started later.
  void start(const std::vector<std::string>& argv, spawn_options options);

  bool running() const;
  // SIGTERM, then SIGKILL to the whole group if it has not exited within `grace`. The wait status.
  int stop(std::chrono::milliseconds grace = std::chrono::seconds{10});
  // Waits for the exit; its exit code (128 + signal when killed by one).
  int wait();
  // Waits at most `limit`; the raw wait status, or nullopt when it still runs.
  std::optional<int> wait_for(std::chrono::milliseconds limit);
  // The next line of its stdout (with pipe_stdout), or nullopt after `limit` or at its end.
  std::optional<std::string> line(std::chrono::milliseconds limit = std::chrono::seconds{30});

  pid_t pid = -1;
  std::filesystem::path log;

private:
  int out_ = -1;
  std::string buffer_;
  int status_ = 0;
};

// A wait status as a shell reports it: the exit code, or 128 + the signal.
int exit_code(int wait_status);

// Whether `pid` runs; a zombie not yet reaped by its parent counts as gone.
bool alive(pid_t pid);

struct run_result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `argv` to its end (killed after `limit`: exit code 128 + SIGKILL), stdout and stderr
// captured; `options.log` and `options.err` are ignored.
run_result run(const std::vector<std::string>& argv, spawn_options options = {},
               std::chrono::milliseconds limit = std::chrono::minutes{5});

// Runs a shell command line to its end; stdout and stderr captured through files in `dir`.
run_result sh(const std::string& cmd, const std::filesystem::path& dir);

// 'text' for a shell command line (single quotes inside escaped).
std::string quoted(const std::string& text);

// The port of a "<marker> http(s)://host:port" line in `text` (a server announcing where it
// listens: the UIs, the history server); nullopt if there is none yet. Tests talk to 127.0.0.1:
// the host named may not resolve here.
std::optional<int> url_port(const std::string& text, const std::string& marker);

// A loopback TCP port nobody listens on right now (the kernel's next ephemeral one).
int free_port();

} // namespace ember_test
