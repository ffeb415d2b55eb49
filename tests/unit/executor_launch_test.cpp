// One launch on a task thread: a task killed while queued is reported without running, a kill
// while it runs does not stop it, and a short task's update is held while more are queued.
#include <doctest/doctest.h>

#include <future>
#include <string>
#include <vector>

#include "executor/launch.hpp"

using namespace ember::executor;

namespace {

struct upd {
  std::string what;
  uint64_t ns = 0;
};

struct harness {
  kill_list kills;
  status_outbox<upd> outbox;
  std::vector<std::vector<std::string>> sent;
  std::vector<uint64_t> ran;
  harness() {
    outbox.set_sink([this](const std::vector<upd>& b) {
      sent.emplace_back();
      for (auto& u : b)
        sent.back().push_back(u.what);
    });
  }
  // Runs the launch on this thread; the task "runs" for `ns` and may do `during` meanwhile.
  void launch(task_pool& pool, uint64_t task, bool has_binary, uint64_t ns, const std::function<void()>& during = {}) {
    task_spec spec{task, 0, 1, 0, 0};
    run_launch(
      spec, has_binary, 1000, kills, outbox, pool,
      [](const task_spec& s, bool killed) { return upd{(killed ? "killed " : "failed ") + std::to_string(s.task_id), 0}; },
      [&](const task_spec& s) {
        ran.push_back(s.task_id);
        if (during)
          during();
        return upd{"ran " + std::to_string(s.task_id), ns};
      },
      [](const upd& u) { return u.ns; });
  }
};

// A one-thread pool kept busy, with `queued` jobs waiting behind: queued() > 0 for the launches.
struct busy_pool {
  std::promise<void> started, release;
  task_pool pool{1, {}};
  explicit busy_pool(size_t queued) {
    std::vector<task_pool::job> jobs;
    jobs.emplace_back([this, r = release.get_future().share()] {
      started.set_value();
      r.wait();
    });
    for (size_t i = 0; i < queued; ++i)
      jobs.emplace_back([] {});
    pool.push_all(jobs);
    started.get_future().wait();
  }
  ~busy_pool() {
    release.set_value();
    pool.stop();
  }
};

} // namespace

TEST_CASE("a task killed while queued is reported killed and never runs; the next one runs") {
  harness h;
  busy_pool idle{0};
  h.kills.add(5);
  h.launch(idle.pool, 5, true, 10);
  h.launch(idle.pool, 6, true, 5000);
  CHECK(h.ran == std::vector<uint64_t>{6});
  CHECK(h.sent == std::vector<std::vector<std::string>>{{"killed 5"}, {"ran 6"}});
}

TEST_CASE("a kill that arrives while the task runs does not stop it: its result is reported") {
  harness h;
  busy_pool idle{0};
  h.launch(idle.pool, 7, true, 5000, [&] { h.kills.add(7); });
  CHECK(h.ran == std::vector<uint64_t>{7});
  CHECK(h.sent == std::vector<std::vector<std::string>>{{"ran 7"}});
}

TEST_CASE("a launch without its stage's binary fails without running") {
  harness h;
  busy_pool idle{0};
  h.launch(idle.pool, 8, false, 0);
  CHECK(h.ran.empty());
  CHECK(h.sent == std::vector<std::vector<std::string>>{{"failed 8"}});
}

TEST_CASE("short tasks with more queued hold their updates until a task that is not short") {
  harness h;
  busy_pool busy{3};                  // queued() == 3 throughout
  h.launch(busy.pool, 1, true, 999);  // short (< 1000 ns) and more queued: held
  h.launch(busy.pool, 2, true, 10);
  CHECK(h.sent.empty());
  h.launch(busy.pool, 3, true, 1000); // not short: sent, with the held ones before it
  CHECK(h.sent == std::vector<std::vector<std::string>>{{"ran 1", "ran 2", "ran 3"}});
}

TEST_CASE("a short task with nothing queued behind it sends at once") {
  harness h;
  busy_pool idle{0};
  h.launch(idle.pool, 1, true, 10);
  CHECK(h.sent == std::vector<std::vector<std::string>>{{"ran 1"}});
}

TEST_CASE("held updates go out before a task of a stage not known to be short starts") {
  harness h;
  busy_pool busy{2};
  h.launch(busy.pool, 1, true, 10); // held
  REQUIRE(h.sent.empty());
  h.outbox.forget({1, 0}); // the stage is forgotten: its next task may run long
  h.launch(busy.pool, 2, true, 10, [&] {
    CHECK(h.sent == std::vector<std::vector<std::string>>{{"ran 1"}}); // flushed before it ran
  });
}
