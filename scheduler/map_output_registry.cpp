#include "scheduler/map_output_registry.hpp"

#include <algorithm>
#include <utility>

#include "config/assert.hpp"

namespace ember::scheduler {

bool map_output_registry::register_shuffle(uint32_t shuffle_id, uint32_t num_maps) {
  auto it = shuffles_.find(shuffle_id);
  if (it != shuffles_.end())
    return it->second.maps.size() == num_maps;
  shuffles_[shuffle_id].maps.resize(num_maps);
  return true;
}

void map_output_registry::unregister_shuffle(uint32_t shuffle_id) {
  auto it = shuffles_.find(shuffle_id);
  if (it == shuffles_.end())
    return;
  if (it->second.available > 0)
    ++epoch_;
  shuffles_.erase(it);
}

bool map_output_registry::register_output(map_status status) {
  auto it = shuffles_.find(status.shuffle_id);
  if (it == shuffles_.end() || status.map_id >= it->second.maps.size())
    return false;
  auto& slot = it->second.maps[status.map_id];
  if (!slot)
    ++it->second.available;
  slot = std::move(status);
  return true;
}

std::optional<map_status> map_output_registry::unregister_output(uint32_t shuffle_id, uint32_t map_id,
                                                                 const std::string* only_executor) {
  auto it = shuffles_.find(shuffle_id);
  if (it == shuffles_.end() || map_id >= it->second.maps.size())
    return std::nullopt;
  auto& slot = it->second.maps[map_id];
  if (!slot || (only_executor != nullptr && slot->executor_id != *only_executor))
    return std::nullopt;
  std::optional<map_status> removed = std::move(slot);
  slot.reset();
  EMBER_ASSERT(it->second.available > 0, "available counts every registered map output");
  --it->second.available;
  ++epoch_;
  return removed;
}

template <class Pred>
std::vector<map_status> map_output_registry::remove_if_(Pred pred) {
  std::vector<map_status> removed;
  for (auto& [id, entry] : shuffles_) {
    for (auto& slot : entry.maps) {
      if (slot && pred(*slot)) {
        removed.push_back(std::move(*slot));
        slot.reset();
        --entry.available;
      }
    }
  }
  if (!removed.empty())
    ++epoch_;
  return removed;
}

std::vector<map_status> map_output_registry::remove_outputs_on_executor(const std::string& executor_id) {
  return remove_if_([&](const map_status& s) { return s.executor_id == executor_id; });
}

std::vector<map_status> map_output_registry::remove_outputs_on_host(const std::string& host) {
  return remove_if_([&](const map_status& s) { return s.host == host; });
}

bool map_output_registry::is_complete(uint32_t shuffle_id) const {
  auto it = shuffles_.find(shuffle_id);
  return it != shuffles_.end() && it->second.available == it->second.maps.size();
}

uint32_t map_output_registry::num_available(uint32_t shuffle_id) const {
  auto it = shuffles_.find(shuffle_id);
  return it == shuffles_.end() ? 0 : it->second.available;
}

std::vector<uint32_t> map_output_registry::missing_maps(uint32_t shuffle_id) const {
  std::vector<uint32_t> result;
  auto it = shuffles_.find(shuffle_id);
  if (it == shuffles_.end())
    return result;
  for (uint32_t i = 0; i < it->second.maps.size(); ++i)
    if (!it->second.maps[i])
      result.push_back(i);
  return result;
}

std::optional<std::vector<map_status>> map_output_registry::outputs(uint32_t shuffle_id) const {
  if (!is_complete(shuffle_id))
    return std::nullopt;
  std::vector<map_status> result;
  for (const auto& slot : shuffles_.at(shuffle_id).maps)
    result.push_back(*slot);
  return result;
}

const map_status* map_output_registry::output(uint32_t shuffle_id, uint32_t map_id) const {
  auto it = shuffles_.find(shuffle_id);
  if (it == shuffles_.end() || map_id >= it->second.maps.size() || !it->second.maps[map_id])
    return nullptr;
  return &*it->second.maps[map_id];
}

std::vector<std::string> map_output_registry::hosts_with_largest_outputs(uint32_t shuffle_id, uint32_t reduce_id,
                                                                         double fraction) const {
  std::vector<std::string> result;
  if (!is_complete(shuffle_id))
    return result;
  std::map<std::string, uint64_t> per_host;
  uint64_t total = 0;
  for (const auto& slot : shuffles_.at(shuffle_id).maps) {
    if (reduce_id >= slot->sizes.size())
      continue;
    per_host[slot->host] += slot->sizes[reduce_id];
    total += slot->sizes[reduce_id];
  }
  if (total == 0)
    return result;
  std::vector<std::pair<uint64_t, std::string>> ranked;
  for (auto& [host, bytes] : per_host)
    if (static_cast<double>(bytes) >= fraction * static_cast<double>(total))
      ranked.emplace_back(bytes, host);
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (auto& [bytes, host] : ranked)
    result.push_back(std::move(host));
  return result;
}

} // namespace ember::scheduler
