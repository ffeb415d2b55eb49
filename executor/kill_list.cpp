#include "executor/kill_list.hpp"

namespace ember::executor {

void kill_list::add(uint64_t task_id) {
  std::lock_guard guard{mtx_};
  ids_.insert(task_id);
}

bool kill_list::take(uint64_t task_id) {
  std::lock_guard guard{mtx_};
  return ids_.erase(task_id) > 0;
}

} // namespace ember::executor
