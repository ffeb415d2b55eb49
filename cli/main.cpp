// The `ember` command. Global options (--conf, --properties-file) feed config::load; the
// subcommands (conf, master, worker) run with the resolved configuration; submit, status and
// chaos parse their own arguments (submit passes the application's through untouched).
// Exit codes: 0 ok, 1 unexpected failure, 2 configuration or usage error (one line on stderr).

#include <exception>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/chaos_command.hpp"
#include "cli/conf_command.hpp"
#include "cli/history_command.hpp"
#include "cli/master_command.hpp"
#include "cli/status_command.hpp"
#include "cli/submit_command.hpp"
#include "cli/version.hpp"
#include "cli/worker_command.hpp"
#include "config/config.hpp"

namespace {

constexpr int exit_ok = 0;
constexpr int exit_failure = 1;
constexpr int exit_usage = 2;

std::string version_line() {
  std::string line = std::string{"ember "} + ember::cli::version;
  if (*ember::cli::git_commit != '\0')
    line += std::string{" (git "} + ember::cli::git_commit + ")";
  return line;
}

// The subcommands that parse their own arguments, given everything after their name.
using raw_runner = int (*)(const std::vector<std::string>&);
struct raw_command {
  std::string_view name;
  std::string_view description;
  raw_runner run;
};
constexpr raw_command raw_commands[] = {
    {"submit", "Run an application: its driver here (client mode) or on a worker (cluster mode)",
     ember::cli::run_submit},
    {"status", "Show a standalone master's workers, applications, executors and drivers",
     ember::cli::run_status},
    {"chaos", "Run fault-injection scenarios (tests/fault/*.json) on clusters started for them",
     ember::cli::run_chaos},
};

constexpr std::string_view subcommand_names = "master, worker, submit, status, history-server, conf, chaos or version";

constexpr std::string_view top_examples =
    "Examples:\n"
    "  ember master --host 127.0.0.1                 a master on ember://127.0.0.1:7077\n"
    "  ember worker ember://127.0.0.1:7077           a worker offering this host's cores and memory\n"
    "  ember submit --master ember://127.0.0.1:7077 --conf ember.driver.host=127.0.0.1 \\\n"
    "      build/bin/wordcount INPUT OUTPUT_DIR\n"
    "  ember status --master ember://127.0.0.1:7077\n"
    "\n"
    "Run 'ember SUBCOMMAND --help' for its options and examples (docs/cluster.md for clusters).";

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2)
    for (const auto& raw : raw_commands)
      if (std::string_view{argv[1]} == raw.name)
        return raw.run(std::vector<std::string>(argv + 2, argv + argc));

  CLI::App app{"Ember: a native cluster runtime with Spark's architecture", "ember"};
  app.require_subcommand(1);
  app.set_version_flag("--version", version_line(), "Print the version and exit");
  app.footer(std::string{top_examples});

  std::vector<std::string> conf;
  std::string properties_file;
  app.add_option("--conf", conf, "Set a configuration key: --conf key=value (repeatable)")
      ->allow_extra_args(false)
      ->type_name("KEY=VALUE");
  app.add_option("--properties-file", properties_file,
                 "Defaults file to read instead of $EMBER_CONF_DIR/ember-defaults.conf")
      ->type_name("FILE");

  auto* master_cmd = app.add_subcommand("master", "Run the standalone cluster master");
  master_cmd->fallthrough();
  master_cmd->footer(
      "Examples:\n"
      "  ember master                                 every interface, port ember.master.port (7077)\n"
      "  ember master --host 127.0.0.1 --port 0       loopback only, any free port (printed once listening)\n"
      "  ember --conf ember.deploy.recoveryMode=FILESYSTEM \\\n"
      "        --conf ember.deploy.recoveryDirectory=/var/lib/ember/recovery master\n"
      "                                               a restarted master takes its workers and drivers back");
  ember::cli::master_command_options master_options;
  master_cmd->add_option("--host", master_options.host, "Address to listen on (default: every interface)");
  master_cmd->add_option("--port", master_options.port, "Port (default: ember.master.port; 0 = any free port)")
      ->check(CLI::Range(0, 65535));

  auto* worker_cmd = app.add_subcommand("worker", "Run a standalone cluster worker");
  worker_cmd->fallthrough();
  worker_cmd->footer(
      "Examples:\n"
      "  ember worker ember://127.0.0.1:7077          this host's cores, its memory less 1 GiB\n"
      "  ember worker ember://master-host:7077 --cores 4 --memory 8g --work-dir /var/lib/ember/work\n"
      "  ember worker ember://master-host:7077 --data-dir /data/logs\n"
      "                                               text_file splits under /data/logs prefer this host");
  ember::cli::worker_command_options worker_options;
  worker_cmd->add_option("master", worker_options.master_url, "The master: ember://host:port")->required();
  worker_cmd->add_option("--host", worker_options.host, "Host name executors and the master use for this worker");
  worker_cmd->add_option("--cores", worker_options.cores, "Cores to offer (default: hardware threads)");
  worker_cmd->add_option("--memory", worker_options.memory, "Memory to offer, e.g. 8g (default: RAM - 1 GiB)");
  worker_cmd->add_option("--data-dir", worker_options.data_dirs,
                         "Directory whose files this host declares to the master for text_file locality (repeatable)");
  worker_cmd->add_option("--work-dir", worker_options.work_dir, "Directory of executor and driver work dirs")
      ->capture_default_str();

  auto* history_cmd = app.add_subcommand("history-server", "Serve the web UI of finished and running applications from their event logs");
  history_cmd->fallthrough();
  history_cmd->footer(
      "Examples:\n"
      "  ember history-server                         ember.history.fs.logDirectory, port ember.history.ui.port (18080)\n"
      "  ember history-server --dir /var/log/ember/events --port 0\n"
      "                                               another directory, any free port (printed once listening)");
  ember::cli::history_command_options history_options;
  history_cmd->add_option("--dir", history_options.dir, "Event log directory (default: ember.history.fs.logDirectory)");
  history_cmd->add_option("--host", history_options.host, "Address to listen on (default: as ember.ui.host)");
  history_cmd->add_option("--port", history_options.port, "Port (default: ember.history.ui.port; 0 = any free port)")
      ->check(CLI::Range(0, 65535));

  // Listed here for `ember --help`; they run above when named first, and below after global
  // options (`ember --conf k=v submit ...`), with their arguments untouched.
  std::vector<std::pair<const raw_command*, CLI::App*>> raw_cmds;
  for (const auto& raw : raw_commands) {
    auto* cmd = app.add_subcommand(std::string{raw.name}, std::string{raw.description});
    cmd->prefix_command();
    cmd->set_help_flag();  // their own --help
    raw_cmds.emplace_back(&raw, cmd);
  }

  auto* conf_cmd = app.add_subcommand("conf", "Print the configuration keys, or the effective values");
  conf_cmd->fallthrough();  // `ember conf --effective --conf k=v` works as well
  conf_cmd->footer(
      "Examples:\n"
      "  ember conf                                   every key: default, unit, valid values, doc\n"
      "  ember conf --effective --conf ember.executor.memory=4g\n"
      "                                               the merged values and where each came from\n"
      "  EMBER_CONF_DIR=/etc/ember ember conf --effective   what a site's ember-defaults.conf sets");
  bool effective = false;
  bool markdown = false;
  auto* effective_flag =
      conf_cmd->add_flag("--effective", effective, "Print the merged values and where each came from");
  conf_cmd->add_flag("--markdown", markdown, "Print the key reference as a Markdown table (docs/configuration.md)")
      ->excludes(effective_flag);

  auto* version_cmd = app.add_subcommand("version", "Print the version (as ember --version)");
  version_cmd->footer("Examples:\n  ember version\n  ember --version");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // CLI11 reports a misspelt subcommand as "A subcommand is required": name what was wrong.
    auto chosen = app.get_subcommands();
    std::string where = chosen.empty() ? "ember" : "ember " + chosen.front()->get_name();
    auto extra = app.remaining(true);
    if (!extra.empty() && extra.front().starts_with('-'))
      std::cerr << where << ": unknown option '" << extra.front() << "' (see " << where << " --help)\n";
    else if (!extra.empty() && chosen.empty())
      std::cerr << "ember: unknown subcommand '" << extra.front() << "': expected " << subcommand_names
                << " (see ember --help)\n";
    else if (!extra.empty())
      std::cerr << where << ": unexpected argument '" << extra.front() << "' (see " << where << " --help)\n";
    else if (chosen.empty())
      std::cerr << "ember: missing the subcommand: " << subcommand_names << " (see ember --help)\n";
    else
      std::cerr << where << ": " << e.what() << " (see " << where << " --help)\n";
    return exit_usage;
  }

  if (version_cmd->parsed()) {
    std::cout << version_line() << '\n';
    return exit_ok;
  }
  for (auto& [raw, cmd] : raw_cmds)
    if (cmd->parsed()) {
      // Global options before the name: hand them on as the subcommand's own.
      std::vector<std::string> args;
      for (auto& c : conf)
        args.insert(args.end(), {"--conf", c});
      if (!properties_file.empty())
        args.insert(args.end(), {"--properties-file", properties_file});
      if (!args.empty() && raw->name == "chaos") {
        std::cerr << "ember chaos: takes no --conf or --properties-file (see ember chaos --help)\n";
        return exit_usage;
      }
      auto rest = cmd->remaining();
      args.insert(args.end(), rest.begin(), rest.end());
      return raw->run(args);
    }

  try {
    ember::config::load_options options;
    options.conf = conf;
    if (!properties_file.empty())
      options.properties_file = properties_file;
    auto config = ember::config::load(options);
    if (master_cmd->parsed())
      return ember::cli::run_master(config, master_options);
    if (worker_cmd->parsed())
      return ember::cli::run_worker(config, worker_options);
    if (history_cmd->parsed())
      return ember::cli::run_history_server(config, history_options);
    if (conf_cmd->parsed()) {
      if (effective)
        ember::cli::print_effective(std::cout, config);
      else if (markdown)
        ember::cli::print_markdown(std::cout);
      else
        ember::cli::print_registry(std::cout);
    }
    std::cout.flush();
    return std::cout ? exit_ok : exit_failure;
  } catch (const ember::config::config_error& e) {
    std::cerr << "ember: " << e.what() << '\n';
    return exit_usage;
  } catch (const std::exception& e) {
    std::cerr << "ember: internal error: " << e.what() << '\n';
    return exit_failure;
  }
}
