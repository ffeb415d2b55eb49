#include "executor/running_tasks.hpp"

#include <pthread.h>

#include <algorithm>

namespace ember::executor {

namespace {

std::chrono::nanoseconds cpu_clock_time(clockid_t id) {
  timespec ts{};
  if (::clock_gettime(id, &ts) != 0)
    return std::chrono::nanoseconds{0};
  return std::chrono::seconds{ts.tv_sec} + std::chrono::nanoseconds{ts.tv_nsec};
}

// The fetch counter of the attempt this task thread runs (null when none is listed).
thread_local std::atomic<uint32_t>* current_fetches = nullptr;

} // namespace

running_tasks::fetch_scope::fetch_scope() : counter_(current_fetches) {
  if (counter_)
    counter_->fetch_add(1, std::memory_order_relaxed);
}

running_tasks::fetch_scope::~fetch_scope() {
  if (counter_)
    counter_->fetch_sub(1, std::memory_order_relaxed);
}

std::chrono::nanoseconds running_tasks::thread_cpu_time() { return cpu_clock_time(CLOCK_THREAD_CPUTIME_ID); }

void running_tasks::started(uint64_t task_id, uint32_t attempt, clock::time_point at, std::chrono::nanoseconds cpu_at) {
  clockid_t cpu_clock{};
  bool has_cpu_clock = ::pthread_getcpuclockid(::pthread_self(), &cpu_clock) == 0;
  std::lock_guard guard{mtx_};
  auto& e = tasks_[{task_id, attempt}]; // map nodes stay put until ended() erases this one
  e.start = at;
  e.cpu_clock = cpu_clock;
  e.has_cpu_clock = has_cpu_clock;
  e.cpu_start = cpu_at;
  e.fetches.store(0, std::memory_order_relaxed);
  current_fetches = &e.fetches;
}

void running_tasks::ended(uint64_t task_id, uint32_t attempt) {
  std::lock_guard guard{mtx_};
  auto it = tasks_.find({task_id, attempt});
  if (it == tasks_.end())
    return;
  if (current_fetches == &it->second.fetches)
    current_fetches = nullptr;
  tasks_.erase(it);
}

std::vector<running_tasks::progress> running_tasks::snapshot(clock::time_point now) const {
  std::vector<progress> out;
  std::lock_guard guard{mtx_};
  out.reserve(tasks_.size());
  for (const auto& [key, e] : tasks_) {
    progress p;
    p.task_id = key.first;
    p.attempt = key.second;
    p.run_time = std::max(std::chrono::nanoseconds{0}, std::chrono::nanoseconds{now - e.start});
    if (e.has_cpu_clock) // another thread's CPU clock, read through its id (Linux allows it)
      p.cpu_time = std::max(std::chrono::nanoseconds{0}, cpu_clock_time(e.cpu_clock) - e.cpu_start);
    p.remote_fetches_in_flight = e.fetches.load(std::memory_order_relaxed);
    out.push_back(p);
  }
  return out;
}

} // namespace ember::executor
