// The task threads: jobs run in queueing order, queued() counts those waiting, idle threads
// call on_idle, and stop() runs what is queued before joining.
#include <doctest/doctest.h>

#include <atomic>
#include <future>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "executor/task_pool.hpp"

using ember::executor::task_pool;

TEST_CASE("one thread runs the jobs in the order they were queued, all of them before stop returns") {
  std::mutex mtx;
  std::vector<int> ran;
  {
    task_pool pool{1, {}};
    std::vector<task_pool::job> jobs;
    for (int i = 0; i < 5; ++i)
      jobs.emplace_back([&, i] {
        std::lock_guard guard{mtx};
        ran.push_back(i);
      });
    pool.push_all(jobs);
    pool.stop();
  }
  CHECK(ran == std::vector<int>{0, 1, 2, 3, 4});
}

TEST_CASE("queued counts the jobs no thread has taken yet") {
  task_pool pool{1, {}};
  std::promise<void> started, release;
  auto release_f = release.get_future().share();
  std::vector<task_pool::job> first;
  first.emplace_back([&started, release_f] {
    started.set_value();
    release_f.wait();
  });
  pool.push_all(first);
  started.get_future().wait(); // the only thread is busy now
  std::vector<task_pool::job> more(3, [] {});
  pool.push_all(more);
  CHECK(pool.queued() == 3);
  release.set_value();
  pool.stop();
  CHECK(pool.queued() == 0);
}

TEST_CASE("a thread that finds nothing queued calls on_idle before it waits") {
  std::promise<void> idle_seen;
  std::atomic<int> idles{0};
  task_pool pool{1, [&] {
                   if (idles.fetch_add(1) == 0)
                     idle_seen.set_value();
                 }};
  idle_seen.get_future().wait(); // at start: nothing queued
  CHECK(idles.load() >= 1);
  pool.stop();
}

TEST_CASE("several threads run every job exactly once") {
  std::atomic<int> sum{0};
  {
    task_pool pool{3, {}};
    std::vector<task_pool::job> jobs;
    for (int i = 1; i <= 100; ++i)
      jobs.emplace_back([&sum, i] { sum += i; });
    pool.push_all(jobs);
  } // the destructor stops: queued jobs run first
  CHECK(sum.load() == 5050);
}

TEST_CASE("stop_within joins idle threads at once and gives up on a busy one after the grace") {
  {
    task_pool pool{2, {}};
    CHECK(pool.stop_within(std::chrono::milliseconds{5000}));  // idle: no wait
  }
  // A job that never returns by itself (a task stuck on a peer): the pool is kept alive, as the
  // executor does, until the job is released.
  auto* pool = new task_pool{2, {}};
  std::promise<void> release;
  auto released = release.get_future().share();
  std::atomic<bool> started{false};
  std::vector<task_pool::job> jobs;
  jobs.emplace_back([&started, released] {
    started = true;
    released.wait();
  });
  pool->push_all(jobs);
  while (!started)
    std::this_thread::yield();
  auto t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(pool->stop_within(std::chrono::milliseconds{50}));
  CHECK(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds{50});
  release.set_value();  // the detached thread finishes and leaves the pool
  // Once every thread has left, destroying the pool is safe again.
  while (!pool->stop_within(std::chrono::milliseconds{10}))
    ;
  delete pool;
}
