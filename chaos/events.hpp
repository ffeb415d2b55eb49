// The driver's event log as `ember chaos` follows it while the job runs: a reader for a JSON-lines
// file that is still growing, the few fields of each event the harness needs, and the trigger
// engine that decides when a scenario's faults fire (docs/events.md has the event format).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "chaos/scenario.hpp"

namespace ember::chaos {

// One attempt an executorMetricsUpdate lists (a heartbeat of its executor).
struct task_update {
  std::string task_id;
  int stage = -1;                       // -1 when the driver did not know it (stageKnown false)
  std::uint32_t fetches_in_flight = 0;  // remote shuffle fetches it waited for at the heartbeat
};

// One listener event, reduced to what triggers and verdicts read.
struct event {
  std::string kind;         // "taskEnd", "stageSubmitted", ... (the JSON object's single key)
  int stage = -1;           // stageId of stage and task events
  int attempt = 0;          // stageSubmitted/stageCompleted: the stage attempt; task events: task attempt
  std::string task_id;      // task events
  std::string executor_id;  // task and executor events
  std::string state;        // taskEnd: finished, failed, killed, lost
  std::string reason;       // taskEnd reason, executorRemoved message, stageCompleted failureReason
  std::string cause;        // executorRemoved cause
  std::int64_t time_ms = 0; // the event's own time (launch/finish time for tasks), ms since the epoch
  bool job_ok = true;       // jobEnd
  std::string job_error;    // jobEnd with result error
  std::vector<task_update> tasks; // executorMetricsUpdate
};

// Parses one event log line; nullopt when it is not a single-key JSON object.
std::optional<event> parse_event(std::string_view line);

// Follows a file that another process appends to: each poll returns the complete lines written
// since the last one (a partial last line waits for its newline). The file may appear late.
class log_follower {
public:
  explicit log_follower(std::string path) : path_(std::move(path)) {}
  ~log_follower();
  log_follower(const log_follower&) = delete;
  log_follower& operator=(const log_follower&) = delete;

  std::vector<std::string> poll();
  const std::string& path() const { return path_; }
  // False until a poll() opened the file (it may have been renamed before the first one).
  bool is_open() const { return fd_ >= 0; }
  // The open file's inode (0 before): a log renamed after it was opened is still the same log.
  std::uint64_t inode() const { return inode_; }

private:
  std::string path_;
  int fd_ = -1;
  std::uint64_t inode_ = 0;
  std::string partial_;
};

// Fires each trigger at most once, in the order the events arrive. It also keeps the run's state
// the fault actions pick their targets from: which executors run a stage, which map tasks finished.
class trigger_engine {
public:
  explicit trigger_engine(std::vector<trigger> triggers);

  // Indices of the triggers this event fires.
  std::vector<size_t> on_event(const event& e);
  // Indices of the time triggers due `ms` after the submit.
  std::vector<size_t> on_time(std::int64_t ms);

  bool fired(size_t i) const { return fired_.at(i); }
  // Executors with a task of `stage` launched and not ended, lowest id first.
  std::vector<std::string> executors_running(int stage) const;
  // Task ids of finished tasks of `stage` (any attempt), in finishing order.
  const std::vector<std::string>& finished_tasks(int stage) const;
  // The executor of the latest executorRemoved event (empty before any).
  const std::string& last_removed() const { return last_removed_; }
  // The executor whose executorMetricsUpdate fired the latest fetching trigger (empty before).
  const std::string& last_fetching() const { return last_fetching_; }
  // Executors added and not removed, other than `id`, lowest id first.
  std::vector<std::string> executors_other_than(const std::string& id) const;

private:
  std::vector<trigger> triggers_;
  std::vector<bool> fired_;
  std::map<int, std::vector<std::string>> finished_;         // stage -> task ids
  std::map<std::string, std::pair<int, std::string>> running_; // task id -> (stage, executor)
  std::set<int> started_stages_;
  int executors_added_ = 0;
  int executors_removed_ = 0;
  std::string last_removed_;
  std::string last_fetching_;
  std::set<std::string> alive_;  // executorAdded minus executorRemoved
};

} // namespace ember::chaos
