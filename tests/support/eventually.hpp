// Waiting for a condition with a deadline, never sleep-and-hope: the limit only stops a broken run
// from hanging, it is not a timing claim.
#pragma once

#include <chrono>
#include <functional>

namespace ember_test {

// Polls `cond` every `poll` until it holds (true) or `limit` passes (then one last look).
bool eventually(const std::function<bool()>& cond, std::chrono::milliseconds limit = std::chrono::seconds{60},
                std::chrono::milliseconds poll = std::chrono::milliseconds{20});

} // namespace ember_test
