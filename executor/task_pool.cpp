#include "executor/task_pool.hpp"

#include <utility>

namespace ember::executor {

task_pool::task_pool(uint32_t threads, std::function<void()> on_idle) : on_idle_(std::move(on_idle)) {
  for (uint32_t i = 0; i < threads; ++i)
    threads_.emplace_back([this] { loop(); });
}

task_pool::~task_pool() { stop(); }

void task_pool::push_all(std::vector<job>& jobs) {
  {
    std::lock_guard guard{mtx_};
    for (auto& j : jobs)
      queue_.push_back(std::move(j));
  }
  if (jobs.size() >= threads_.size())
    cv_.notify_all();
  else
    for (size_t i = 0; i < jobs.size(); ++i)
      cv_.notify_one();
}

size_t task_pool::queued() {
  std::lock_guard guard{mtx_};
  return queue_.size();
}

void task_pool::stop() {
  {
    std::lock_guard guard{mtx_};
    if (stopping_)
      return;
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_)
    if (t.joinable())
      t.join();
}

bool task_pool::stop_within(std::chrono::milliseconds grace) {
  {
    std::lock_guard guard{mtx_};
    stopping_ = true;
  }
  cv_.notify_all();
  bool all;
  {
    std::unique_lock lock{mtx_};
    all = exited_cv_.wait_for(lock, grace, [&] { return exited_ == threads_.size(); });
  }
  for (auto& t : threads_)
    if (t.joinable()) {
      if (all)
        t.join();
      else
        t.detach();
    }
  return all;
}

void task_pool::loop() {
  for (;;) {
    job j;
    bool idle;
    {
      std::lock_guard guard{mtx_};
      idle = queue_.empty();
    }
    if (idle && on_idle_)
      on_idle_();
    {
      std::unique_lock lock{mtx_};
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) {
        ++exited_;
        exited_cv_.notify_all();
        return;
      }
      j = std::move(queue_.front());
      queue_.pop_front();
    }
    j();
  }
}

} // namespace ember::executor
