// Host -> rack resolution (Hadoop's rack awareness): a topology file of `host rack` lines
// (ember.topology.file) or an executable script given hosts as arguments that prints one rack per
// host (ember.topology.script). Plain logic; the driver endpoint (actors/cluster_driver.cpp) asks
// a detached resolver actor so that the script never runs on an actor thread.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace ember::scheduler {

// Parses a topology file's text: one `host rack` per line, `#` starts a comment, blank lines are
// skipped. Returns nullopt and sets `error` to one line naming file, line and problem (a line
// without exactly two fields, a host named twice with different racks).
std::optional<std::map<std::string, std::string>> parse_topology(const std::string& text, const std::string& file_name,
                                                                 std::string& error);

// Reads and parses a topology file; throws std::runtime_error with one line naming it.
std::map<std::string, std::string> load_topology(const std::string& path);

// Runs `script host...` (Hadoop's contract) and returns one rack per host, in order: the script
// prints whitespace-separated rack names, one per argument. Throws std::runtime_error with one line
// naming the script when it cannot start, exits non-zero, is killed after `timeout`, or prints a
// different number of racks than hosts.
std::vector<std::string> run_topology_script(const std::string& script, const std::vector<std::string>& hosts,
                                             std::chrono::milliseconds timeout);

// The resolver the driver keeps: a file is read once at start-up; a script is run for hosts not
// seen before and its answers are cached (a failed run is not cached: asked again next time).
// A host the topology does not name has no rack (empty string), as in Spark: no RACK_LOCAL for it.
// Thread-safe: the resolver actor calls rack_of while others may read the cache.
class topology {
public:
  // No topology: every host is rackless.
  topology() = default;
  // From ember.topology.file / ember.topology.script / ember.topology.script.timeout: the file
  // wins when both are set. Throws std::runtime_error naming a bad file or a script that is not
  // an executable file.
  topology(const std::string& file, const std::string& script, std::chrono::milliseconds script_timeout);

  bool enabled() const { return from_file_ || !script_.empty(); }
  bool uses_script() const { return !script_.empty(); }
  // The rack of `host` ("" = none). With a script, may run it (blocking up to the timeout);
  // a failing script throws std::runtime_error naming it.
  std::string rack_of(const std::string& host);
  // The cached answer without running anything: nullopt if a script would have to run.
  std::optional<std::string> cached_rack_of(const std::string& host) const;

private:
  bool from_file_ = false;
  std::map<std::string, std::string> file_map_;
  std::string script_;
  std::chrono::milliseconds timeout_{5000};
  mutable std::mutex mtx_;
  std::map<std::string, std::string> cache_;
};

} // namespace ember::scheduler
