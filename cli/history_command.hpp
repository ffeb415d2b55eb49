// `ember history-server [--dir DIR] [--host H] [--port P]`: serves the web UI and REST API of the
// applications whose event logs are in ember.history.fs.logDirectory (ui/history.hpp), until
// SIGTERM/SIGINT. Prints "ember history server at http://H:P" once listening.
#pragma once

#include <optional>
#include <string>

namespace ember::config {
class config;
}

namespace ember::cli {

struct history_command_options {
  std::string dir;           // default ember.history.fs.logDirectory
  std::string host;          // default: as ember.ui.host
  std::optional<int> port;   // default ember.history.ui.port; 0 = any free port
};

/// The process exit code: 0 after a signal, 1 when it cannot listen, 2 on a bad setting.
int run_history_server(const config::config& c, const history_command_options& options);

} // namespace ember::cli
