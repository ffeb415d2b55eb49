// An executor's task threads: `cores` threads running queued jobs (task attempts) in order.
// Owned by the executor actor (actors/executor.cpp), which only pushes and never waits: user
// code never runs on CAF's scheduler threads.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ember::executor {

class task_pool {
public:
  using job = std::function<void()>;

  // `on_idle` runs on a task thread that finds no job queued, before it waits for one (the
  // executor sends held status updates then).
  task_pool(uint32_t threads, std::function<void()> on_idle);
  ~task_pool();
  task_pool(const task_pool&) = delete;
  task_pool& operator=(const task_pool&) = delete;

  // Queues the jobs in order: one lock and as many wake-ups as there are jobs (at most one per
  // thread).
  void push_all(std::vector<job>& jobs);

  // Jobs waiting for a thread (a hint: it may change at once).
  size_t queued();

  // Lets the threads finish the jobs already queued, then joins them. Idempotent.
  void stop();

  // The same, waiting at most `grace`. False when a thread is still busy then (a task stuck in
  // user code or on a peer that never answers): the threads are detached, and since they still use
  // this pool, the caller must keep it alive until the process exits.
  bool stop_within(std::chrono::milliseconds grace);

private:
  void loop();

  std::mutex mtx_;
  std::condition_variable cv_;
  std::condition_variable exited_cv_;
  std::size_t exited_ = 0;  // threads that left loop()
  std::deque<job> queue_;
  bool stopping_ = false;
  std::function<void()> on_idle_;
  std::vector<std::thread> threads_;
};

} // namespace ember::executor
