// Runs one scenario end to end: its own cluster (`ember master` and `ember worker` processes on
// loopback, own ports, work and local dirs in a temp dir), the generated input and the reference
// (bench/baseline_wordcount --dump), the job through `ember submit` with its event log followed
// live, the faults fired when their triggers match, then the cleanup and leftover checks.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "chaos/report.hpp"
#include "chaos/scenario.hpp"

namespace ember::chaos {

struct runner_options {
  std::string bin_dir;                    // absolute; holds ember, gen_text, baseline_wordcount and the job binaries
  std::optional<std::uint64_t> seed;      // --seed: replaces every scenario's seed
  bool keep = false;                      // --keep: leave the scenario's temp dir (logs, events)
  std::string temp_root = "/tmp";
  std::ostream* progress = nullptr;       // one line per step and fault, when set
  const std::atomic<bool>* interrupted = nullptr;  // set (by a signal handler): stop the job, clean up
};

scenario_result run_scenario(const scenario& s, const runner_options& options);

} // namespace ember::chaos
