#include "chaos/report.hpp"

#include <cstdio>

#include <nlohmann/json.hpp>

namespace ember::chaos {

namespace {

std::string ms_or_dash(const std::optional<std::int64_t>& v) { return v ? std::to_string(*v) : "-"; }

// The first fired fault's times stand for the scenario in the table (the JSON has them all).
const fault_record* first_fired(const std::vector<fault_record>& faults) {
  for (auto& f : faults)
    if (f.fired && f.error.empty())
      return &f;
  return nullptr;
}

} // namespace

std::string summary_table(const std::vector<scenario_result>& results) {
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line, "%-30s %-5s %-8s %-6s %9s %9s %4s %5s %6s %7s\n", "scenario", "pass", "job",
                "faults", "detect_ms", "recov_ms", "rm", "tasks", "stages", "secs");
  out += line;
  int passed = 0;
  for (auto& r : results) {
    int fired = 0;
    for (auto& f : r.faults)
      fired += f.fired ? 1 : 0;
    auto* f = first_fired(r.faults);
    std::string job = r.facts.timed_out ? "timeout" : r.facts.exit_code == 0 ? "ok" : "failed";
    std::string faults = std::to_string(fired) + "/" + std::to_string(r.faults.size());
    std::snprintf(line, sizeof line, "%-30s %-5s %-8s %-6s %9s %9s %4d %5d %6d %7.1f\n", r.name.c_str(),
                  r.outcome.pass ? "PASS" : "FAIL", job.c_str(), faults.c_str(),
                  f ? ms_or_dash(f->detection_ms).c_str() : "-", f ? ms_or_dash(f->recovery_ms).c_str() : "-",
                  r.seen.executors_lost(), r.seen.tasks_failed + r.seen.tasks_lost, r.seen.stages_retried, r.seconds);
    out += line;
    if (!r.facts.driver_id.empty())
      out += "    driver " + r.facts.driver_id + " " + (r.facts.driver_state.empty() ? "(no final state)" : r.facts.driver_state) + " after " + std::to_string(r.facts.driver_runs) + " run(s), "
             + std::to_string(r.facts.driver_restarts) + " relaunch(es) (cluster mode)\n";
    for (auto& why : r.outcome.failures)
      out += "    - " + why + "\n";
    passed += r.outcome.pass ? 1 : 0;
  }
  out += std::to_string(passed) + " of " + std::to_string(results.size()) + " scenario(s) passed\n";
  return out;
}

std::string report_json(const std::vector<scenario_result>& results, unsigned long long seed) {
  using json = nlohmann::json;
  json all = json::array();
  int passed = 0;
  for (auto& r : results) {
    json faults = json::array();
    for (auto& f : r.faults) {
      json jf{{"name", f.name}, {"what", f.what}, {"fired", f.fired}, {"target", f.target}};
      if (f.fired)
        jf["firedMs"] = f.fired_ms;
      if (!f.error.empty())
        jf["error"] = f.error;
      jf["detectionMs"] = f.detection_ms ? json(*f.detection_ms) : json(nullptr);
      jf["recoveryMs"] = f.recovery_ms ? json(*f.recovery_ms) : json(nullptr);
      faults.push_back(std::move(jf));
    }
    json s{{"name", r.name},
           {"file", r.file},
           {"seed", r.seed},
           {"pass", r.outcome.pass},
           {"failures", r.outcome.failures},
           {"expected", r.expect_success ? "success" : "failure"},
           {"exitCode", r.facts.exit_code},
           {"timedOut", r.facts.timed_out},
           {"outputMatches", !r.facts.output_difference.has_value()},
           {"seconds", r.seconds},
           {"events", r.seen.events},
           {"executorsAdded", r.seen.executors_added},
           {"executorsRemoved", r.seen.removed_causes},
           {"executorsLost", r.seen.executors_lost()},
           {"tasksFailed", r.seen.tasks_failed},
           {"tasksLost", r.seen.tasks_lost},
           {"stagesRetried", r.seen.stages_retried},
           {"jobsOk", r.seen.jobs_ok},
           {"jobsFailed", r.seen.jobs_failed},
           {"jobError", r.seen.job_error},
           {"faults", std::move(faults)},
           {"leftoverProcesses", r.facts.leftover_processes},
           {"leftoverFiles", r.facts.leftover_files},
           {"workDir", r.work_dir}};
    if (r.facts.output_difference)
      s["outputDifference"] = *r.facts.output_difference;
    if (!r.facts.driver_id.empty()) {  // cluster deploy mode
      s["driverId"] = r.facts.driver_id;
      s["driverState"] = r.facts.driver_state;
      s["driverRestarts"] = r.facts.driver_restarts;
      s["driverRuns"] = r.facts.driver_runs;
    }
    all.push_back(std::move(s));
    passed += r.outcome.pass ? 1 : 0;
  }
  json top{{"seed", seed},
           {"passed", passed},
           {"failed", static_cast<int>(results.size()) - passed},
           {"scenarios", std::move(all)}};
  return top.dump(2) + "\n";
}

} // namespace ember::chaos
