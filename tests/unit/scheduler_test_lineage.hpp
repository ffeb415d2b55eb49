// Tiny lineage graphs for the scheduler unit tests: untyped nodes with chosen partitions,
// parents and preferred hosts (api/'s typed datasets are not needed to test stage cutting).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "scheduler/lineage.hpp"

namespace ember::scheduler::testing {

class test_node : public lineage_node {
public:
  test_node(uint32_t id, uint32_t n, std::string name, std::vector<lineage_ptr> narrow,
            std::vector<shuffle_dependency_ptr> shuffles, std::vector<std::vector<std::string>> hosts)
    : lineage_node(id, n, std::move(name)), hosts_(std::move(hosts)) {
    narrow_parents_ = std::move(narrow);
    shuffle_parents_ = std::move(shuffles);
  }
  std::vector<std::string> preferred_hosts(uint32_t p) const override {
    return p < hosts_.size() ? hosts_[p] : std::vector<std::string>{};
  }

private:
  std::vector<std::vector<std::string>> hosts_;
};

inline lineage_ptr source(uint32_t id, uint32_t n, std::string name = "source",
                          std::vector<std::vector<std::string>> hosts = {}) {
  return std::make_shared<test_node>(id, n, std::move(name), std::vector<lineage_ptr>{},
                                     std::vector<shuffle_dependency_ptr>{}, std::move(hosts));
}

inline lineage_ptr narrow(uint32_t id, std::vector<lineage_ptr> parents, std::string name = "map") {
  uint32_t n = parents.front()->num_partitions();
  return std::make_shared<test_node>(id, n, std::move(name), std::move(parents),
                                     std::vector<shuffle_dependency_ptr>{}, std::vector<std::vector<std::string>>{});
}

inline shuffle_dependency_ptr shuffle(uint32_t shuffle_id, lineage_ptr parent, uint32_t reduce_partitions) {
  return std::make_shared<shuffle_dependency>(shuffle_dependency{shuffle_id, std::move(parent), reduce_partitions});
}

// A node reading the given shuffles (all with the same reduce partition count).
inline lineage_ptr shuffled(uint32_t id, std::vector<shuffle_dependency_ptr> deps, std::string name) {
  uint32_t n = deps.front()->num_reduce_partitions;
  return std::make_shared<test_node>(id, n, std::move(name), std::vector<lineage_ptr>{}, std::move(deps),
                                     std::vector<std::vector<std::string>>{});
}

} // namespace ember::scheduler::testing
