// The `ember` command. Global options (--conf, --properties-file) feed config::load; the
// subcommands (conf, master, worker) run with the resolved configuration; submit and status
// parse their own arguments.
// Exit codes: 0 ok, 1 unexpected failure, 2 configuration or usage error (one line on stderr).

#include <exception>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/chaos_command.hpp"
#include "cli/conf_command.hpp"
#include "cli/master_command.hpp"
#include "cli/status_command.hpp"
#include "cli/submit_command.hpp"
#include "cli/worker_command.hpp"
#include "config/config.hpp"

namespace {

constexpr int exit_ok = 0;
constexpr int exit_failure = 1;
constexpr int exit_usage = 2;

}  // namespace

int main(int argc, char** argv) {
  // submit and status parse their own arguments (submit passes the application's through untouched).
  if (argc >= 2 && (std::string_view{argv[1]} == "submit" || std::string_view{argv[1]} == "status")) {
    std::vector<std::string> rest(argv + 2, argv + argc);
    return std::string_view{argv[1]} == "submit" ? ember::cli::run_submit(rest) : ember::cli::run_status(rest);
  }
  if (argc >= 2 && std::string_view{argv[1]} == "chaos")
    return ember::cli::run_chaos(std::vector<std::string>(argv + 2, argv + argc));
  CLI::App app{"Ember: a native cluster runtime with Spark's architecture", "ember"};
  app.require_subcommand(1);

  std::vector<std::string> conf;
  std::string properties_file;
  app.add_option("--conf", conf, "Set a configuration key: --conf key=value (repeatable)")
      ->allow_extra_args(false)
      ->type_name("KEY=VALUE");
  app.add_option("--properties-file", properties_file,
                 "Defaults file to read instead of $EMBER_CONF_DIR/ember-defaults.conf")
      ->type_name("FILE");

  auto* conf_cmd = app.add_subcommand("conf", "Print the configuration keys, or the effective values");
  conf_cmd->fallthrough();  // `ember conf --effective --conf k=v` works as well
  bool effective = false;
  bool markdown = false;
  auto* effective_flag =
      conf_cmd->add_flag("--effective", effective, "Print the merged values and where each came from");
  conf_cmd->add_flag("--markdown", markdown, "Print the key reference as a Markdown table (docs/configuration.md)")
      ->excludes(effective_flag);

  auto* master_cmd = app.add_subcommand("master", "Run the standalone cluster master");
  master_cmd->fallthrough();
  ember::cli::master_command_options master_options;
  master_cmd->add_option("--host", master_options.host, "Address to listen on (default: every interface)");
  master_cmd->add_option("--port", master_options.port, "Port (default: ember.master.port; 0 = any free port)")
      ->check(CLI::Range(0, 65535));

  auto* worker_cmd = app.add_subcommand("worker", "Run a standalone cluster worker");
  worker_cmd->fallthrough();
  ember::cli::worker_command_options worker_options;
  worker_cmd->add_option("master", worker_options.master_url, "The master: ember://host:port")->required();
  worker_cmd->add_option("--host", worker_options.host, "Host name executors and the master use for this worker");
  worker_cmd->add_option("--cores", worker_options.cores, "Cores to offer (default: hardware threads)");
  worker_cmd->add_option("--memory", worker_options.memory, "Memory to offer, e.g. 8g (default: RAM - 1 GiB)");
  worker_cmd->add_option("--data-dir", worker_options.data_dirs,
                         "Directory whose files this host declares to the master for text_file locality (repeatable)");
  worker_cmd->add_option("--work-dir", worker_options.work_dir, "Directory of executor and driver work dirs")
      ->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "ember: " << e.what() << " (see ember --help)\n";
    return exit_usage;
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
