#include "tests/support/eventually.hpp"

#include <thread>

namespace ember_test {

bool eventually(const std::function<bool()>& cond, std::chrono::milliseconds limit, std::chrono::milliseconds poll) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond())
      return true;
    std::this_thread::sleep_for(poll);
  }
  return cond();
}

} // namespace ember_test
