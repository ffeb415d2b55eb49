// `ember chaos`: parses its arguments, loads every scenario first (a bad file stops the run before
// any cluster starts), runs them one after the other, prints the summary table and writes the report.

#include "cli/chaos_command.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>

#include "chaos/report.hpp"
#include "chaos/runner.hpp"
#include "chaos/scenario.hpp"

namespace ember::cli {

namespace {

constexpr int exit_ok = 0;
constexpr int exit_failed = 1;
constexpr int exit_usage = 2;

std::atomic<bool> interrupted{false};

void on_signal(int) { interrupted.store(true); }

// The directory of the running `ember` binary: the job binaries and bench tools are built there.
std::string own_bin_dir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string{"."} : exe.parent_path().string();
}

}  // namespace

int run_chaos(const std::vector<std::string>& args) {
  CLI::App app{"Run fault-injection scenarios against clusters started for the purpose", "ember chaos"};
  std::vector<std::string> files;
  std::string report;
  unsigned long long seed = 0;
  chaos::runner_options options;
  options.bin_dir = own_bin_dir();
  if (const char* t = std::getenv("TMPDIR"); t && *t)
    options.temp_root = t;
  app.footer(
      "Examples:\n"
      "  ember chaos tests/fault/worker_kill.json\n"
      "  ember chaos --seed 7 --keep tests/fault/executor_kill_map.json   other data; logs kept\n"
      "  ember chaos --secure --report chaos-report.json tests/fault/*.json");
  app.add_option("scenarios", files, "Scenario files (JSON, see docs/chaos.md)")->required()->type_name("SCENARIO.json");
  app.add_option("--report", report, "Write the JSON report here")->type_name("FILE.json");
  auto* seed_opt = app.add_option("--seed", seed, "Seed for every scenario (default: each scenario's own)");
  bool secure = false;
  app.add_flag("--secure", secure, "Run every scenario on a secured cluster (ember.authenticate, docs/security.md)");
  app.add_flag("--keep", options.keep, "Keep each scenario's temp dir (logs, event log, input, output)");
  app.add_option("--bin-dir", options.bin_dir, "Where ember, the examples and the bench tools are")
      ->capture_default_str();
  app.add_option("--temp-dir", options.temp_root, "Where the scenarios' temp dirs go")->capture_default_str();
  try {
    std::vector<std::string> rev(args.rbegin(), args.rend());
    app.parse(rev);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "ember chaos: " << e.what() << " (see ember chaos --help)\n";
    return exit_usage;
  }
  if (*seed_opt)
    options.seed = seed;
  // The scenario's processes run in its temp dir: relative paths would not resolve there.
  options.bin_dir = std::filesystem::absolute(options.bin_dir).string();
  options.temp_root = std::filesystem::absolute(options.temp_root).string();

  std::vector<chaos::scenario> scenarios;
  try {
    for (auto& f : files)
      scenarios.push_back(chaos::load_scenario(f));
    if (secure)
      for (auto& s : scenarios)
        s.cluster.secure = true;
  } catch (const chaos::scenario_error& e) {
    std::cerr << "ember chaos: " << e.what() << '\n';
    return exit_usage;
  }

  options.progress = &std::cerr;
  // SIGINT/SIGTERM: the running scenario stops its job and cleans up its cluster; no more start.
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  ::sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  options.interrupted = &interrupted;
  std::vector<chaos::scenario_result> results;
  for (auto& s : scenarios) {
    if (interrupted.load())
      break;
    std::cerr << "scenario " << s.name << " (" << s.file << ")\n";
    results.push_back(chaos::run_scenario(s, options));
    auto& r = results.back();
    std::cerr << "  " << (r.outcome.pass ? "PASS" : "FAIL") << " in " << r.seconds << " s"
              << (options.keep ? ", kept " + r.work_dir : std::string{}) << '\n';
  }
  std::cout << chaos::summary_table(results);
  std::cout.flush();
  if (!report.empty()) {
    std::ofstream out(report, std::ios::binary);
    out << chaos::report_json(results, options.seed ? *options.seed : 0);
    if (!out) {
      std::cerr << "ember chaos: cannot write the report " << report << '\n';
      return exit_failed;
    }
  }
  if (interrupted.load())
    return 128 + SIGINT;
  for (auto& r : results)
    if (!r.outcome.pass)
      return exit_failed;
  return exit_ok;
}

}  // namespace ember::cli
