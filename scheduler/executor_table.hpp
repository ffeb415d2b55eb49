// The live executors as the task scheduler sees them: id, host, rack, cores, free cores.
// Owned by task_scheduler; task set managers read it to know which locality levels can still
// be satisfied (a preferred executor, host or rack with nothing alive on it is no preference).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ember::scheduler {

struct executor_info {
  std::string id;
  std::string host;
  std::string rack; // empty: unknown rack
  uint32_t cores = 0;
  uint32_t free_cores = 0;
};

class executor_table {
public:
  // False if the id is already registered (registration must be idempotent, not a reset).
  bool add(executor_info info);
  std::optional<executor_info> remove(const std::string& id);

  executor_info* find(const std::string& id);
  const executor_info* find(const std::string& id) const;
  bool executor_alive(const std::string& id) const { return by_id_.count(id) != 0; }
  bool host_alive(const std::string& host) const { return hosts_.count(host) != 0; }
  bool rack_alive(const std::string& rack) const { return racks_.count(rack) != 0; }
  // The rack of a host with a live executor, if known.
  std::optional<std::string> rack_of(const std::string& host) const;
  // Executor ids in registration order: offers go round-robin in this order.
  const std::vector<std::string>& order() const { return order_; }
  size_t size() const { return order_.size(); }

private:
  std::map<std::string, executor_info> by_id_;
  std::vector<std::string> order_;
  std::map<std::string, uint32_t> hosts_; // host -> executors on it
  std::map<std::string, uint32_t> racks_;
  std::map<std::string, std::string> host_rack_;
};

} // namespace ember::scheduler
