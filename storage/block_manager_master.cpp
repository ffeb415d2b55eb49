#include "storage/block_manager_master.hpp"

#include <algorithm>

namespace ember::storage {

void block_manager_master::update(const std::string& executor_id, const std::string& host, uint16_t port,
                                  const block_status& status) {
  auto& holders = blocks_[status.id];
  auto it = std::find_if(holders.begin(), holders.end(), [&](const block_holder& h) { return h.executor_id == executor_id; });
  if (!status.stored()) {
    if (it != holders.end())
      holders.erase(it);
    if (holders.empty())
      blocks_.erase(status.id);
    return;
  }
  block_holder h{executor_id, host, port, status.level, status.mem_size, status.disk_size};
  if (it != holders.end())
    *it = std::move(h);
  else
    holders.push_back(std::move(h));
}

std::vector<block_holder> block_manager_master::locations(const block_id& id) const {
  auto i = blocks_.find(id);
  return i == blocks_.end() ? std::vector<block_holder>{} : i->second;
}

std::optional<std::string> block_manager_master::replica_target(const block_id& id,
                                                                const std::vector<std::string>& live) const {
  auto i = blocks_.find(id);
  if (i == blocks_.end() || i->second.empty())
    return std::nullopt;
  const auto& holders = i->second;
  size_t wanted = holders.front().level.replication;
  if (holders.size() >= wanted)
    return std::nullopt;
  std::map<std::string, size_t> held; // candidate -> blocks it holds
  for (const auto& e : live)
    if (std::none_of(holders.begin(), holders.end(), [&](const block_holder& h) { return h.executor_id == e; }))
      held.emplace(e, 0);
  if (held.empty())
    return std::nullopt;
  for (const auto& [bid, hs] : blocks_)
    for (const auto& h : hs)
      if (auto c = held.find(h.executor_id); c != held.end())
        ++c->second;
  auto best = held.begin();
  for (auto c = held.begin(); c != held.end(); ++c)
    if (c->second < best->second)
      best = c;
  return best->first;
}

size_t block_manager_master::executor_lost(const std::string& executor_id) {
  size_t n = 0;
  for (auto i = blocks_.begin(); i != blocks_.end();) {
    auto& holders = i->second;
    auto before = holders.size();
    holders.erase(std::remove_if(holders.begin(), holders.end(),
                                 [&](const block_holder& h) { return h.executor_id == executor_id; }),
                  holders.end());
    n += before - holders.size();
    i = holders.empty() ? blocks_.erase(i) : std::next(i);
  }
  return n;
}

std::vector<std::string> block_manager_master::remove_rdd(uint32_t rdd_id) {
  std::vector<std::string> executors;
  auto i = blocks_.lower_bound(block_id::rdd(rdd_id, 0));
  while (i != blocks_.end() && i->first.is_rdd() && i->first.id == rdd_id) {
    for (auto& h : i->second)
      if (std::find(executors.begin(), executors.end(), h.executor_id) == executors.end())
        executors.push_back(h.executor_id);
    i = blocks_.erase(i);
  }
  return executors;
}

} // namespace ember::storage
