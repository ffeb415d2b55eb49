#include "chaos/verdict.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace ember::chaos {

void observed::add(const event& e) {
  ++events;
  if (e.kind == "executorAdded") {
    ++executors_added;
  } else if (e.kind == "executorRemoved") {
    removed_times.push_back(e.time_ms);
    removed_causes.push_back("executor " + e.executor_id + ": " + e.cause + (e.reason.empty() ? "" : ": " + e.reason));
  } else if (e.kind == "taskEnd") {
    if (e.state == "failed")
      ++tasks_failed;
    else if (e.state == "lost")
      ++tasks_lost;
  } else if (e.kind == "stageSubmitted") {
    if (e.attempt > 0)
      ++stages_retried;
  } else if (e.kind == "jobEnd") {
    last_job_end_ms = std::max(last_job_end_ms, e.time_ms);
    removed_at_last_job_end = static_cast<int>(removed_times.size());
    if (e.job_ok) {
      ++jobs_ok;
    } else {
      if (jobs_failed++ == 0)
        job_error = e.job_error;
    }
  }
}

void time_faults(std::vector<fault_record>& faults, const observed& o) {
  for (auto& f : faults) {
    if (!f.fired || !f.error.empty())
      continue;
    for (auto t : o.removed_times) {
      if (f.detectable && t >= f.fired_ms) {
        f.detection_ms = t - f.fired_ms;
        break;
      }
    }
    if (o.last_job_end_ms >= f.fired_ms)
      f.recovery_ms = o.last_job_end_ms - f.fired_ms;
  }
}

verdict judge(const scenario& s, const observed& o, const std::vector<fault_record>& faults, const run_facts& f) {
  verdict v;
  auto& why = v.failures;
  if (!f.setup_error.empty()) {
    // Nothing else is meaningful when the cluster or the input could not be prepared.
    why.push_back("setup: " + f.setup_error);
    for (auto& p : f.leftover_processes)
      why.push_back("process left behind: " + p);
    return v;
  }
  if (f.timed_out)
    why.push_back("the job did not end within " + std::to_string(s.timeout_s) + " s (timeout_s)");
  for (auto& r : faults) {
    if (!r.error.empty())
      why.push_back("fault '" + r.name + "' could not be injected: " + r.error);
    else if (!r.fired && s.expect.all_faults_fire)
      why.push_back("fault '" + r.name + "' never fired: its trigger (" + r.what + ") did not match");
  }
  if (!f.timed_out) {
    if (s.expect.success) {
      if (f.exit_code != 0)
        why.push_back("the job failed (exit code " + std::to_string(f.exit_code) + ")"
                      + (o.job_error.empty() ? "" : ": " + o.job_error));
      else if (f.output_difference)
        why.push_back("the output differs from the reference: " + *f.output_difference);
    } else {
      if (f.exit_code == 0)
        why.push_back("the job succeeded but the scenario expects it to fail");
      else if (!s.expect.error_contains.empty() && f.driver_stderr.find(s.expect.error_contains) == std::string::npos)
        why.push_back("the job failed without the expected error '" + s.expect.error_contains + "'");
    }
  }
  if (s.job.cluster_mode() && !f.timed_out) {
    // The master's final word must agree with the outcome: a supervised driver that was relaunched
    // and then finished is a success; without supervision a killed driver stays failed or killed.
    auto state = f.driver_state.empty() ? std::string{"unknown"} : f.driver_state;
    if (s.expect.success && state != "finished")
      why.push_back("the driver ended " + state + " (the master's state), expected finished");
    if (!s.expect.success && state != "failed" && state != "killed" && state != "error")
      why.push_back("the driver ended " + state + " (the master's state), expected failed or killed");
    if (s.expect.driver_restarts && f.driver_restarts != *s.expect.driver_restarts)
      why.push_back("driver relaunches: " + std::to_string(f.driver_restarts) + ", expected "
                    + std::to_string(*s.expect.driver_restarts));
    if (f.driver_runs != f.driver_restarts + 1)
      why.push_back("event logs of " + std::to_string(f.driver_runs) + " driver run(s), but the master counted "
                    + std::to_string(f.driver_restarts) + " relaunch(es)");
  }
  int removed = o.executors_lost();
  if (removed < s.expect.min_executors_removed)
    why.push_back("executors removed: " + std::to_string(removed) + ", expected at least "
                  + std::to_string(s.expect.min_executors_removed));
  int retried = o.tasks_failed + o.tasks_lost;
  if (retried < s.expect.min_tasks_retried)
    why.push_back("tasks failed or lost: " + std::to_string(retried) + ", expected at least "
                  + std::to_string(s.expect.min_tasks_retried));
  if (o.stages_retried < s.expect.min_stages_retried)
    why.push_back("stage attempts > 0: " + std::to_string(o.stages_retried) + ", expected at least "
                  + std::to_string(s.expect.min_stages_retried));
  for (auto& p : f.leftover_processes)
    why.push_back("process left behind: " + p);
  for (auto& p : f.leftover_files)
    why.push_back("file left behind: " + p);
  v.pass = why.empty();
  return v;
}

namespace {

bool read_lines(const std::string& path, std::vector<std::string>& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return false;
  std::string line;
  while (std::getline(in, line))
    out.push_back(line);
  return true;
}

// The lines of the reference files and of the output files, in file order; or what could not be read.
std::optional<std::string> read_both(const std::vector<std::string>& expected_files,
                                     const std::vector<std::string>& actual_files, std::vector<std::string>& expected,
                                     std::vector<std::string>& actual) {
  for (auto& p : expected_files)
    if (!read_lines(p, expected))
      return "cannot read the reference " + p;
  for (auto& p : actual_files)
    if (!read_lines(p, actual))
      return "cannot read the output " + p;
  return std::nullopt;
}

} // namespace

std::optional<std::string> compare_lines(const std::vector<std::string>& expected_files,
                                         const std::vector<std::string>& actual_files) {
  std::vector<std::string> expected, actual;
  if (auto error = read_both(expected_files, actual_files, expected, actual))
    return error;
  std::sort(expected.begin(), expected.end());
  std::sort(actual.begin(), actual.end());
  if (expected == actual)
    return std::nullopt;
  auto counts = " (" + std::to_string(expected.size()) + " lines expected, " + std::to_string(actual.size()) + " found)";
  size_t i = 0, j = 0;
  while (i < expected.size() && j < actual.size()) {
    if (expected[i] == actual[j]) {
      ++i;
      ++j;
    } else if (expected[i] < actual[j]) {
      return "missing line '" + expected[i] + "'" + counts;
    } else {
      return "unexpected line '" + actual[j] + "'" + counts;
    }
  }
  if (i < expected.size())
    return "missing line '" + expected[i] + "'" + counts;
  return "unexpected line '" + actual[j] + "'" + counts;
}

std::optional<std::string> compare_ordered(const std::vector<std::string>& expected_files,
                                           const std::vector<std::string>& actual_files) {
  std::vector<std::string> expected, actual;
  if (auto error = read_both(expected_files, actual_files, expected, actual))
    return error;
  auto counts = " (" + std::to_string(expected.size()) + " lines expected, " + std::to_string(actual.size()) + " found)";
  for (size_t i = 0; i < expected.size() && i < actual.size(); ++i)
    if (expected[i] != actual[i])
      return "line " + std::to_string(i + 1) + " is '" + actual[i] + "', expected '" + expected[i] + "'" + counts;
  if (expected.size() == actual.size())
    return std::nullopt;
  return (expected.size() > actual.size() ? "output ends early" : "output goes on past the reference") + counts;
}

} // namespace ember::chaos
