// Status updates on their way from an executor's task threads to the task scheduler, batched.
// Owned by the executor actor (actors/executor.cpp), which says where batches go (set_sink);
// task threads post. A template over the update type (the actor uses wire<StatusUpdate>, tests
// plain values), so this folder stays free of CAF; header-only for that reason.
//
// A task thread that finishes a task posts its update; if no other thread is sending, it sends
// everything in the box as one batch, straight from the task thread (no extra hop when idle),
// and goes on sending what the others posted meanwhile. Under load, updates pile up behind the
// sender: one message per burst. Short tasks with more queued behind them (`hold`) only post, up
// to `max_held` updates: a 1-core executor would otherwise send one message per task. Whatever
// is held goes out with the next update not held, or before a task that may run long (flush()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

namespace ember::executor {

template <class Update>
class status_outbox {
public:
  using task_key = std::pair<uint64_t, uint32_t>;  // (task id, attempt)
  using stage_key = std::pair<uint32_t, uint32_t>; // (stage id, stage attempt)
  // Sends one batch, in posting order. Called by one thread at a time, without the lock held.
  using sink = std::function<void(const std::vector<Update>&)>;

  static constexpr size_t max_held = 32;

  // Where batches go (the actor sends them to whoever answered ExecutorRegistered); until then,
  // updates wait here. With `track_acks` (injected faults, docs/chaos.md) every update stays
  // listed until acknowledged(), and stale() hands back those unacknowledged for a whole tick so
  // the actor sends them again (the scheduler ignores duplicates). Set once, before any sending.
  void set_sink(sink s, bool track_acks = false) {
    {
      std::lock_guard guard{mtx_};
      sink_ = std::move(s);
      track_acks_ = track_acks;
    }
    flush();
  }

  void post(task_key key, Update update, bool hold) {
    batch b;
    {
      std::lock_guard guard{mtx_};
      box_.keys.push_back(key);
      box_.updates.push_back(std::move(update));
      if (sending_ || !sink_ || (hold && box_.updates.size() < max_held))
        return;
      sending_ = true;
      b.swap(box_);
    }
    drain(b);
  }

  // Sends what is held (before a task that may take long, so earlier ends are not delayed).
  void flush() {
    batch b;
    {
      std::lock_guard guard{mtx_};
      if (sending_ || !sink_ || box_.updates.empty())
        return;
      sending_ = true;
      b.swap(box_);
    }
    drain(b);
  }

  // Run times of each stage attempt's last task here: a stage known to be short may hold.
  void ran(stage_key stage, uint64_t run_ns) {
    std::lock_guard guard{mtx_};
    run_ns_[stage] = run_ns;
  }
  bool known_short(stage_key stage, uint64_t threshold_ns) {
    std::lock_guard guard{mtx_};
    auto i = run_ns_.find(stage);
    return i != run_ns_.end() && i->second < threshold_ns;
  }
  void forget(stage_key stage) {
    std::lock_guard guard{mtx_};
    run_ns_.erase(stage);
  }

  // -- acknowledgements (track_acks only) ---------------------------------------------------
  void acknowledged(const std::vector<task_key>& keys) {
    std::lock_guard guard{mtx_};
    for (auto& k : keys)
      unacked_.erase(k);
  }
  // Updates unacknowledged for a whole tick, by key; the others age by one tick.
  std::vector<Update> stale() {
    std::lock_guard guard{mtx_};
    std::vector<Update> out;
    for (auto& [key, e] : unacked_)
      if (e.second++ > 0)
        out.push_back(e.first);
    return out;
  }

private:
  struct batch {
    std::vector<task_key> keys; // keys[i] is updates[i]'s
    std::vector<Update> updates;
    void swap(batch& other) {
      keys.swap(other.keys);
      updates.swap(other.updates);
    }
  };

  // Sends `b`, then whatever was posted meanwhile, until the box is empty.
  void drain(batch& b) {
    for (;;) {
      if (track_acks_) { // set once, before any sending (as sink_)
        std::lock_guard guard{mtx_};
        for (size_t i = 0; i < b.updates.size(); ++i)
          unacked_.emplace(b.keys[i], std::pair{b.updates[i], 0});
      }
      sink_(b.updates);
      b.keys.clear();
      b.updates.clear();
      std::lock_guard guard{mtx_};
      if (box_.updates.empty()) {
        sending_ = false;
        return;
      }
      b.swap(box_);
    }
  }

  std::mutex mtx_;
  bool sending_ = false;
  batch box_;
  std::map<stage_key, uint64_t> run_ns_;
  sink sink_;
  bool track_acks_ = false;
  std::map<task_key, std::pair<Update, int>> unacked_; // -> (update, ticks unacknowledged)
};

} // namespace ember::executor
