// The scheduler's view of a dataset's lineage: partitions and dependencies, without types.
// api/'s typed dataset nodes derive from lineage_node; the DAG scheduler cuts stages from this
// graph at shuffle dependencies, the task scheduler asks it for preferred locations.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ember::scheduler {

class lineage_node;
using lineage_ptr = std::shared_ptr<const lineage_node>;

// A shuffle dependency: the map side (`parent`, num_map_partitions = parent->num_partitions())
// writes `num_reduce_partitions` buckets per map task; the child reads one bucket of every map
// output. shuffle_id is unique for the context's lifetime, so a shuffle computed by one job
// is reused by the next.
struct shuffle_dependency {
  uint32_t shuffle_id = 0;
  lineage_ptr parent;
  uint32_t num_reduce_partitions = 0;
};
using shuffle_dependency_ptr = std::shared_ptr<const shuffle_dependency>;

class lineage_node {
public:
  lineage_node(uint32_t id, uint32_t num_partitions, std::string name)
    : id_(id), num_partitions_(num_partitions), name_(std::move(name)) {}
  virtual ~lineage_node() = default;

  uint32_t id() const { return id_; }
  uint32_t num_partitions() const { return num_partitions_; }
  // Short operator name for stage names and events ("map", "reduce_by_key", "text_file").
  const std::string& name() const { return name_; }
  // A decoded node takes the name the user's operator gave it (decode_context::decode).
  void set_name(std::string name) { name_ = std::move(name); }

  // Parents computed in the same task (one-to-one, union, coalesce...).
  const std::vector<lineage_ptr>& narrow_parents() const { return narrow_parents_; }
  // Parents across a stage boundary.
  const std::vector<shuffle_dependency_ptr>& shuffle_parents() const { return shuffle_parents_; }

  // Hosts holding this partition's input (empty: no preference).
  virtual std::vector<std::string> preferred_hosts(uint32_t /*partition*/) const { return {}; }

protected:
  std::vector<lineage_ptr> narrow_parents_;
  std::vector<shuffle_dependency_ptr> shuffle_parents_;

private:
  uint32_t id_;
  uint32_t num_partitions_;
  std::string name_;
};

} // namespace ember::scheduler
