// Where every shuffle map output lives: one map_status per (shuffle, map partition).
// Plain logic owned by the driver (dag_scheduler / map_output_tracker actors); reducers learn
// block locations from it, the DAG planner learns which map partitions must (re)run.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ember::scheduler {

// The result of one successful map task. `sizes[r]` is the byte size of reduce bucket r; the
// paths let a reader on the same host open the data and index files directly.
struct map_status {
  uint32_t shuffle_id = 0;
  uint32_t map_id = 0;
  uint32_t map_attempt = 0;
  std::string executor_id;
  std::string host;
  uint16_t port = 0;        // the owner's block server (remote fetches); 0 in local mode
  uint64_t map_task_id = 0; // task id of the attempt that wrote it: names its blocks
  std::vector<uint64_t> sizes;
  std::string data_path;
  std::string index_path;
};

class map_output_registry {
public:
  // -- shuffles ----------------------------------------------------------------

  // Idempotent: registering a known shuffle with the same map count keeps its outputs.
  // Returns false (and changes nothing) for a known shuffle with a different map count.
  bool register_shuffle(uint32_t shuffle_id, uint32_t num_maps);
  bool has_shuffle(uint32_t shuffle_id) const { return shuffles_.count(shuffle_id) != 0; }
  // Forgets a shuffle entirely (context cleanup). Bumps the epoch if outputs were dropped.
  void unregister_shuffle(uint32_t shuffle_id);

  // -- outputs -----------------------------------------------------------------

  // Stores (or replaces) the output of `status.map_id`. False for an unknown shuffle or a
  // map id out of range.
  bool register_output(map_status status);
  // Removes the output of one map partition; with `only_executor`, only if that executor
  // holds it (a fetch failure naming an output that a newer attempt already replaced must
  // not drop the new one). Returns the removed status.
  std::optional<map_status> unregister_output(uint32_t shuffle_id, uint32_t map_id,
                                              const std::string* only_executor = nullptr);
  std::vector<map_status> remove_outputs_on_executor(const std::string& executor_id);
  std::vector<map_status> remove_outputs_on_host(const std::string& host);

  // -- queries -----------------------------------------------------------------

  bool is_complete(uint32_t shuffle_id) const;
  uint32_t num_available(uint32_t shuffle_id) const;
  // Map ids without an output, ascending (empty for an unknown shuffle).
  std::vector<uint32_t> missing_maps(uint32_t shuffle_id) const;
  // All statuses in map-id order, only when the shuffle is complete.
  std::optional<std::vector<map_status>> outputs(uint32_t shuffle_id) const;
  const map_status* output(uint32_t shuffle_id, uint32_t map_id) const;
  // Hosts holding at least `fraction` of reduce partition `reduce_id`'s bytes (Spark's
  // reducer locality, 0.2 there), largest first. Empty unless the shuffle is complete.
  std::vector<std::string> hosts_with_largest_outputs(uint32_t shuffle_id, uint32_t reduce_id,
                                                      double fraction) const;

  // Bumped on every removal: a reader that fetched locations at an older epoch must refresh.
  uint64_t epoch() const { return epoch_; }

private:
  struct shuffle_entry {
    std::vector<std::optional<map_status>> maps;
    uint32_t available = 0;
  };
  template <class Pred>
  std::vector<map_status> remove_if_(Pred pred);

  std::map<uint32_t, shuffle_entry> shuffles_;
  uint64_t epoch_ = 0;
};

} // namespace ember::scheduler
