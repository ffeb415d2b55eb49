// Tasks killed (KillTask) before a task thread started them: their queued launches are skipped
// and reported KILLED. Owned by the executor actor (which adds), read by its task threads (which
// take). A running task is not interrupted (C++ cannot do it safely): its id stays listed
// unused, as before, and the scheduler ignores the attempt's result.
#pragma once

#include <cstdint>
#include <mutex>
#include <unordered_set>

namespace ember::executor {

class kill_list {
public:
  void add(uint64_t task_id);
  // True (once) if `task_id` was killed: the caller skips it.
  bool take(uint64_t task_id);

private:
  std::mutex mtx_;
  std::unordered_set<uint64_t> ids_;
};

} // namespace ember::executor
