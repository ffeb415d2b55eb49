// The results of an `ember chaos` run: one row per scenario on the terminal, the same in full as
// a JSON report (--report FILE), for people and for CI.
#pragma once

#include <string>
#include <vector>

#include "chaos/verdict.hpp"

namespace ember::chaos {

struct scenario_result {
  std::string name;
  std::string file;
  bool expect_success = true;
  unsigned long long seed = 0;  // the seed the run used (the scenario's, or --seed)
  double seconds = 0;  // wall time of the whole scenario (cluster start to cleanup)
  observed seen;
  std::vector<fault_record> faults;
  run_facts facts;
  verdict outcome;
  std::string work_dir;  // kept with --keep, else removed
};

// Fixed-width table: scenario, verdict, job outcome, faults fired, detection and recovery times,
// executors removed, tasks and stages retried; then each failure reason under its scenario.
std::string summary_table(const std::vector<scenario_result>& results);

// The JSON report: {"seed":..,"passed":..,"failed":..,"scenarios":[{...}]}.
std::string report_json(const std::vector<scenario_result>& results, unsigned long long seed);

} // namespace ember::chaos
