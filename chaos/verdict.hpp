// What a scenario run saw and whether it passed: the facts gathered from the event log (executors
// removed, tasks and stages retried, job ends), from the processes (exit code, leftovers) and from
// the output compared with the reference; the verdict lists every expectation that did not hold.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "chaos/events.hpp"
#include "chaos/scenario.hpp"

namespace ember::chaos {

// Counts and times from the driver's event log.
struct observed {
  int events = 0;
  int executors_added = 0;
  std::vector<std::int64_t> removed_times;  // executorRemoved times (ms since the epoch)
  std::vector<std::string> removed_causes;  // "executor 1: cause: message"
  int tasks_failed = 0;                     // taskEnd state failed
  int tasks_lost = 0;                       // taskEnd state lost
  int stages_retried = 0;                   // stageSubmitted with attempt > 0
  int jobs_ok = 0;
  int jobs_failed = 0;
  std::int64_t last_job_end_ms = 0;
  std::string job_error;  // the first failed job's message
  int removed_at_last_job_end = 0;  // executorRemoved events before the last jobEnd

  void add(const event& e);
  // Executors lost while jobs ran: the removals an application logs as it stops (its executors
  // are killed after its last job) do not count, unless no job ended at all.
  int executors_lost() const {
    return jobs_ok + jobs_failed > 0 ? removed_at_last_job_end : static_cast<int>(removed_times.size());
  }
};

// One fault as it happened.
struct fault_record {
  std::string name;
  std::string what;     // describe(trigger) + " -> " + describe(action)
  bool fired = false;
  std::int64_t fired_ms = 0;  // ms since the epoch
  std::string target;   // "executor 1 (pid 4242)", "worker 0 (pid 77)", a file path
  bool detectable = false;  // a process fault the driver must notice (kill, stop): detection time applies
  std::string error;    // the action could not be carried out
  std::optional<std::int64_t> detection_ms;  // fault -> first executorRemoved after it
  std::optional<std::int64_t> recovery_ms;   // fault -> last jobEnd
};

// Fills recovery times of fired faults, and detection times of detectable ones, from the event
// log's times.
void time_faults(std::vector<fault_record>& faults, const observed& o);

struct run_facts {
  int exit_code = -1;        // the driver's (128 + signal when killed)
  bool timed_out = false;    // the scenario's timeout passed
  std::string driver_stderr; // its last lines, for the error check and the report
  std::optional<std::string> output_difference;  // set when the output differs from the reference
  std::vector<std::string> leftover_processes;   // "pid 123: /path/ember worker ..."
  std::vector<std::string> leftover_files;       // left after the run, relative to the scenario dir: "local/…/1: 3 file(s), e.g. …"
  std::string setup_error;   // the cluster or the input could not be prepared
  // Cluster deploy mode: what the master said of the driver, and the event logs seen (one per run).
  std::string driver_id;     // the master's id of it (empty: client mode)
  std::string driver_state;  // its final state: finished, failed, killed, error (empty: client mode or never ended)
  int driver_restarts = 0;   // relaunches the master counted
  int driver_runs = 0;       // event logs of the driver's runs
};

struct verdict {
  bool pass = false;
  std::vector<std::string> failures;  // one line per expectation that did not hold
};

verdict judge(const scenario& s, const observed& o, const std::vector<fault_record>& faults, const run_facts& f);

// Compares two groups of text files as multisets of lines (part files come in any order).
// nullopt when equal, else the first line found on one side only and the line counts.
std::optional<std::string> compare_lines(const std::vector<std::string>& expected_files,
                                         const std::vector<std::string>& actual_files);

// Compares the lines of `actual_files` concatenated in the order given with the reference's, line
// for line: a sort's part files in partition order must be the sorted input. nullopt when equal,
// else the first line number that differs, or which side ends first.
std::optional<std::string> compare_ordered(const std::vector<std::string>& expected_files,
                                           const std::vector<std::string>& actual_files);

} // namespace ember::chaos
