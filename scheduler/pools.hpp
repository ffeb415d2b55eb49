// FAIR scheduling pools within one application (Spark's Pool, FairSchedulingAlgorithm and
// fairscheduler.xml): the pools file `ember.scheduler.allocation.file` and the two orderings the
// task_scheduler (inside the task_scheduler actor) uses to decide which task set gets a free slot.
//
//  pools file, one pool per line; settings optional, in any order; `#` starts a comment:
//    # name      settings (defaults: schedulingMode=FIFO weight=1 minShare=0)
//    production  schedulingMode=FAIR weight=3 minShare=2
//    adhoc       schedulingMode=FIFO weight=1
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ember::scheduler {

enum class scheduling_mode { fifo, fair };
const char* to_string(scheduling_mode mode);
// "FIFO" | "FAIR", case-insensitive (as Spark reads schedulingMode).
std::optional<scheduling_mode> parse_scheduling_mode(std::string_view text);

// A pool as the file declares it. A job naming a pool the file does not declare gets one with
// the defaults (as Spark does), and so does "default" unless the file declares it.
struct pool_spec {
  std::string name;
  scheduling_mode mode = scheduling_mode::fifo; // order of the task sets inside the pool
  uint32_t weight = 1;                          // share relative to other pools, >= 1
  uint32_t min_share = 0;                       // running tasks the pool gets before weights count
  bool operator==(const pool_spec&) const = default;
};

struct pools_file {
  std::vector<pool_spec> pools; // in file order
  std::string error;            // "<file>:<line>: <what was wrong>"; empty when parsed
  bool ok() const { return error.empty(); }
};

// `file_name` only names the source in errors.
pools_file parse_pools(std::string_view text, std::string_view file_name);
// Reads and parses `path`; an unreadable file is an error naming the path.
pools_file load_pools(const std::string& path);

// One side of a comparison: a pool, or a task set inside a FAIR pool (weight 1, min share 0).
struct fair_entity {
  std::string_view name;
  uint32_t running_tasks = 0;
  uint32_t min_share = 0;
  uint32_t weight = 1;
};

// Spark's FairSchedulingAlgorithm: true when `a` goes first. Needy entities (running below their
// min share) first, ordered by running / min share; then by running / weight; then by name.
bool fair_before(const fair_entity& a, const fair_entity& b);

// Spark's FIFOSchedulingAlgorithm: lower job id first, then lower stage id.
inline bool fifo_before(uint32_t job_a, uint32_t stage_a, uint32_t job_b, uint32_t stage_b) {
  return job_a != job_b ? job_a < job_b : stage_a < stage_b;
}

} // namespace ember::scheduler
