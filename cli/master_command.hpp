// `ember master [--host H] [--port P]`: runs the standalone master (actors/master.hpp) until
// SIGTERM/SIGINT. Prints "ember master listening on ember://H:P" once published; logs to stderr.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <caf/actor_system_config.hpp>

namespace ember::config {
class config;
}

namespace ember::cli {

struct master_command_options {
  std::string host;          // empty: listen on every interface, advertise this host's name
  std::optional<int> port;   // default ember.master.port; 0 = any free port
};

/// Returns the process exit code: 0 after a signal, 1 when the port cannot be opened.
int run_master(const config::config& c, const master_command_options& options);

/// Blocks SIGTERM and SIGINT in the calling thread (call first in main, before any thread starts,
/// so every thread inherits the mask) and returns a waiter that sigwait()s for them.
class signal_waiter {
public:
  signal_waiter();
  /// Runs `on_signal` on a dedicated thread when SIGTERM/SIGINT arrives.
  void start(std::function<void(int)> on_signal);
  /// Stops the thread (if no signal came) and joins it.
  void stop();
  ~signal_waiter();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Runs until `service` (the master or worker actor) ends; SIGTERM/SIGINT call `stop` on the
/// waiter's thread. Returns the exit code: 0 when it ended normally or on request, else 1 with one
/// line "ember: <what> stopped: <reason>".
int serve_until_down(caf::actor_system& sys, const caf::actor& service, signal_waiter& signals,
                     std::function<void()> stop, const std::string& what);

} // namespace ember::cli
