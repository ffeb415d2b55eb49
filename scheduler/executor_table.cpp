#include "scheduler/executor_table.hpp"

#include <algorithm>

namespace ember::scheduler {

bool executor_table::add(executor_info info) {
  if (by_id_.count(info.id) != 0)
    return false;
  ++hosts_[info.host];
  if (!info.rack.empty()) {
    ++racks_[info.rack];
    host_rack_[info.host] = info.rack;
  }
  order_.push_back(info.id);
  std::string id = info.id;
  by_id_.emplace(std::move(id), std::move(info));
  return true;
}

std::optional<executor_info> executor_table::remove(const std::string& id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end())
    return std::nullopt;
  executor_info info = std::move(it->second);
  by_id_.erase(it);
  order_.erase(std::find(order_.begin(), order_.end(), id));
  if (--hosts_[info.host] == 0) {
    hosts_.erase(info.host);
    host_rack_.erase(info.host);
  }
  if (!info.rack.empty() && --racks_[info.rack] == 0)
    racks_.erase(info.rack);
  return info;
}

executor_info* executor_table::find(const std::string& id) {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &it->second;
}

const executor_info* executor_table::find(const std::string& id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &it->second;
}

std::optional<std::string> executor_table::rack_of(const std::string& host) const {
  auto it = host_rack_.find(host);
  if (it == host_rack_.end())
    return std::nullopt;
  return it->second;
}

} // namespace ember::scheduler
