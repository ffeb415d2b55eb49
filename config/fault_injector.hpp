// Message faults injected inside Ember for the chaos harness (docs/chaos.md, ember.test.faults.*):
// at a send point, decide whether one message is dropped, duplicated or delayed. Plain logic, no
// CAF: the executor's status outbox, heartbeater and shuffle fetcher ask it. Off (the default), `enabled()` is one
// bool and nothing else is drawn; on, decisions come from one seeded generator per message kind
// and process (seed ^ hash(executor id)), so a failing run replays with the same seed.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

namespace ember::config {

class config;

// The message kinds with a fault rule (ember.test.faults.<Kind>.*).
// fetch_blocks: a reducer's FetchBlocks request for a shuffle block to another host's block server.
enum class fault_kind : unsigned { status_updates = 0, heartbeat = 1, fetch_blocks = 2 };
inline constexpr unsigned fault_kind_count = 3;
std::string_view to_string(fault_kind k); // "StatusUpdates", "Heartbeat", "FetchBlocks": the config key's part

struct fault_rule {
  double drop = 0;      // probability that a message is not sent
  double duplicate = 0; // probability that it is sent twice (given not dropped)
  std::chrono::milliseconds delay{0}; // every message sent this much later (0 = at once)
};

struct fault_settings {
  bool enabled = false;
  uint64_t seed = 0;
  std::string executors; // comma-separated executor ids the faults apply to; empty = every one
  std::array<fault_rule, fault_kind_count> rules{};
  static fault_settings from(const config& c);
};

// What to do with one message.
struct fault_decision {
  unsigned copies = 1;                // 0 = dropped, 1 = as usual, 2 = duplicated
  std::chrono::milliseconds delay{0}; // send after this long
  bool plain() const { return copies == 1 && delay.count() == 0; }
};

class fault_injector {
public:
  fault_injector() = default; // disabled
  // Faults for the process of `executor_id` (disabled if the id is not in settings.executors).
  fault_injector(const fault_settings& settings, std::string_view executor_id);

  bool enabled() const { return enabled_; }
  // The next message of `kind`. Thread-safe; a disabled injector always answers "as usual".
  fault_decision decide(fault_kind kind);

private:
  // splitmix64: small, good enough for probabilities, and fully determined by its state.
  struct stream {
    uint64_t state = 0;
    uint64_t next();
    double uniform(); // [0, 1)
  };
  bool enabled_ = false;
  std::array<fault_rule, fault_kind_count> rules_{};
  std::array<stream, fault_kind_count> streams_{};
  std::mutex mtx_;
};

} // namespace ember::config
