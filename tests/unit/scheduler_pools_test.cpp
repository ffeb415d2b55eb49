#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <unistd.h>

#include "scheduler/pools.hpp"
#include "scheduler/task_scheduler.hpp"

using namespace ember::scheduler;
using namespace std::chrono_literals;

namespace {

const clock_time t0{};

stage_submission sub(uint32_t job, uint32_t stage, uint32_t n, std::string pool) {
  stage_submission s;
  s.job_id = job;
  s.stage_id = stage;
  s.pool = std::move(pool);
  for (uint32_t p = 0; p < n; ++p)
    s.partitions.push_back(p);
  return s;
}

task_scheduler_settings fair(std::vector<pool_spec> pools) {
  task_scheduler_settings s;
  s.mode = scheduling_mode::fair;
  s.pools = std::move(pools);
  return s;
}

// Launches per stage id.
std::map<uint32_t, int> per_stage(const offer_result& r) {
  std::map<uint32_t, int> m;
  for (auto& l : r.launches)
    ++m[l.stage_id];
  return m;
}

task_status done(const task_launch& l) {
  return {l.task_id, l.attempt, task_state::finished, {}, true};
}

std::string parse_error(std::string_view text) {
  return parse_pools(text, "pools.conf").error;
}

} // namespace

// -- the pools file ---------------------------------------------------------------------------

TEST_CASE("pools file: pools in order, settings in any order, defaults, comments") {
  auto f = parse_pools("# production pools\n"
                       "\n"
                       "production schedulingMode=FAIR weight=3 minShare=2   # the important one\n"
                       "  adhoc minShare=1 schedulingMode=fifo\n"
                       "batch\n",
                       "pools.conf");
  REQUIRE(f.ok());
  REQUIRE(f.pools.size() == 3);
  CHECK(f.pools[0] == pool_spec{"production", scheduling_mode::fair, 3, 2});
  CHECK(f.pools[1] == pool_spec{"adhoc", scheduling_mode::fifo, 1, 1});
  CHECK(f.pools[2] == pool_spec{"batch", scheduling_mode::fifo, 1, 0});
  CHECK(parse_pools("", "empty").ok());
  CHECK(parse_pools("", "empty").pools.empty());
}

TEST_CASE("pools file: each bad line names the file, the line and what was wrong") {
  CHECK(parse_error("a\nb weight=0\n") == "pools.conf:2: pool 'b': weight '0' is not a whole number >= 1");
  CHECK(parse_error("a weight=x") == "pools.conf:1: pool 'a': weight 'x' is not a whole number >= 1");
  CHECK(parse_error("a minShare=-1") == "pools.conf:1: pool 'a': minShare '-1' is not a whole number >= 0");
  CHECK(parse_error("# c\na schedulingMode=RR") == "pools.conf:2: pool 'a': schedulingMode 'RR' is not FAIR or FIFO");
  CHECK(parse_error("a wieght=2") ==
        "pools.conf:1: pool 'a': unknown setting 'wieght' (expected schedulingMode, weight or minShare)");
  CHECK(parse_error("a weight") == "pools.conf:1: pool 'a': 'weight' is not key=value (expected "
                                   "schedulingMode=FAIR|FIFO, weight=N or minShare=N)");
  CHECK(parse_error("a weight=") == "pools.conf:1: pool 'a': 'weight=' is not key=value (expected "
                                    "schedulingMode=FAIR|FIFO, weight=N or minShare=N)");
  CHECK(parse_error("a weight=1 weight=2") == "pools.conf:1: pool 'a': weight is given twice");
  CHECK(parse_error("a\n\nb\na weight=2\n") == "pools.conf:4: pool 'a' is declared twice (first on line 1)");
  CHECK(parse_error("weight=2 a") == "pools.conf:1: 'weight=2' is not a pool name (a line starts with the pool name)");
  // A failed parse yields no pools at all, not the ones before the bad line.
  CHECK(parse_pools("a\nb weight=0\n", "x").pools.empty());
}

TEST_CASE("pools file: loaded from disk; an unreadable file is named") {
  namespace fs = std::filesystem;
  auto dir = fs::temp_directory_path() / ("ember_pools_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto path = (dir / "pools").string();
  {
    std::ofstream(path) << "etl schedulingMode=FAIR weight=2\nbad minShare=x\n";
  }
  CHECK(load_pools(path).error == path + ":2: pool 'bad': minShare 'x' is not a whole number >= 0");
  {
    std::ofstream(path) << "etl schedulingMode=FAIR weight=2\n";
  }
  auto f = load_pools(path);
  REQUIRE(f.ok());
  CHECK(f.pools == std::vector<pool_spec>{{"etl", scheduling_mode::fair, 2, 0}});
  auto missing = (dir / "missing").string();
  CHECK(load_pools(missing).error ==
        missing + ": cannot read the scheduler allocation file (ember.scheduler.allocation.file): "
                  "No such file or directory");
  fs::remove_all(dir);
}

TEST_CASE("scheduling mode names") {
  CHECK(parse_scheduling_mode("FAIR") == scheduling_mode::fair);
  CHECK(parse_scheduling_mode("fifo") == scheduling_mode::fifo);
  CHECK(!parse_scheduling_mode("RR"));
  CHECK(std::string(to_string(scheduling_mode::fair)) == "FAIR");
}

// -- the comparators ----------------------------------------------------------------------------

TEST_CASE("fair_before: needy first, then running / minShare, then running / weight, then name") {
  // Below its min share beats everything not below it, whatever the weights.
  CHECK(fair_before({"z", 5, 6, 1}, {"a", 0, 0, 100}));
  CHECK(!fair_before({"a", 0, 0, 100}, {"z", 5, 6, 1}));
  // Both needy: the smaller fraction of its min share first (1/4 < 1/2).
  CHECK(fair_before({"b", 1, 4, 1}, {"a", 1, 2, 1}));
  CHECK(!fair_before({"a", 1, 2, 1}, {"b", 1, 4, 1}));
  // Neither needy: running per weight (4/3 < 2/1).
  CHECK(fair_before({"b", 4, 0, 3}, {"a", 2, 0, 1}));
  CHECK(!fair_before({"a", 2, 0, 1}, {"b", 4, 0, 3}));
  // Equal ratios (3/3 == 1/1): by name; never both ways.
  CHECK(fair_before({"a", 1, 0, 1}, {"b", 3, 0, 3}));
  CHECK(!fair_before({"b", 3, 0, 3}, {"a", 1, 0, 1}));
  CHECK(!fair_before({"a", 1, 0, 1}, {"a", 1, 0, 1}));
}

TEST_CASE("fifo_before: job id, then stage id") {
  CHECK(fifo_before(0, 9, 1, 0));
  CHECK(!fifo_before(1, 0, 0, 9));
  CHECK(fifo_before(2, 3, 2, 4));
  CHECK(!fifo_before(2, 4, 2, 4));
}

// -- FAIR in the task scheduler ----------------------------------------------------------------

TEST_CASE("FAIR: pools with weights 1 and 3 share the slots 1:3 under contention") {
  task_scheduler ts(fair({{"light", scheduling_mode::fifo, 1, 0}, {"heavy", scheduling_mode::fifo, 3, 0}}));
  ts.add_executor("e1", "h1", "", 6);
  ts.add_executor("e2", "h2", "", 6);
  ts.submit(sub(0, 0, 100, "light"), t0); // the earlier job: FIFO would give it every slot
  ts.submit(sub(1, 1, 100, "heavy"), t0);
  auto r = ts.offers(t0);
  CHECK(r.launches.size() == 12);
  CHECK(per_stage(r) == std::map<uint32_t, int>{{0, 3}, {1, 9}});
  CHECK(ts.pool_running_tasks("light") == 3);
  CHECK(ts.pool_running_tasks("heavy") == 9);
  // Slots spread over both executors.
  std::map<std::string, int> per_exec;
  for (auto& l : r.launches)
    ++per_exec[l.executor_id];
  CHECK(per_exec == std::map<std::string, int>{{"e1", 6}, {"e2", 6}});

  // A slot freed by the light pool goes back to it (2/1 < 9/3); one freed by the heavy pool
  // goes back to the heavy pool (8/3 < 3/1): the 1:3 share holds as tasks finish.
  const task_launch* light = nullptr;
  const task_launch* heavy = nullptr;
  for (auto& l : r.launches)
    (l.stage_id == 0 ? light : heavy) = &l;
  ts.status_update(done(*light), t0 + 1s);
  CHECK(per_stage(ts.offers(t0 + 1s)) == std::map<uint32_t, int>{{0, 1}});
  ts.status_update(done(*heavy), t0 + 2s);
  CHECK(per_stage(ts.offers(t0 + 2s)) == std::map<uint32_t, int>{{1, 1}});
}

TEST_CASE("FAIR: a pool below its minShare is served first") {
  // Weight alone would give "big" 10 of every 11 slots; minShare 3 puts "small" first.
  task_scheduler ts(fair({{"big", scheduling_mode::fifo, 10, 0}, {"small", scheduling_mode::fifo, 1, 3}}));
  ts.add_executor("e1", "h1", "", 5);
  ts.submit(sub(0, 0, 100, "big"), t0);
  ts.submit(sub(1, 1, 100, "small"), t0);
  auto r = ts.offers(t0);
  REQUIRE(r.launches.size() == 5);
  CHECK(r.launches[0].stage_id == 1);
  CHECK(r.launches[1].stage_id == 1);
  CHECK(r.launches[2].stage_id == 1);
  CHECK(per_stage(r) == std::map<uint32_t, int>{{0, 2}, {1, 3}});
}

TEST_CASE("FAIR: inside a pool, FIFO by job or FAIR between task sets") {
  SUBCASE("FIFO pool: the earlier job takes the pool's slots") {
    task_scheduler ts(fair({{"p", scheduling_mode::fifo, 1, 0}}));
    ts.add_executor("e1", "h1", "", 4);
    ts.submit(sub(1, 2, 10, "p"), t0);
    ts.submit(sub(0, 1, 10, "p"), t0);
    CHECK(per_stage(ts.offers(t0)) == std::map<uint32_t, int>{{1, 4}});
  }
  SUBCASE("FAIR pool: task sets share equally") {
    task_scheduler ts(fair({{"p", scheduling_mode::fair, 1, 0}}));
    ts.add_executor("e1", "h1", "", 4);
    ts.submit(sub(1, 2, 10, "p"), t0);
    ts.submit(sub(0, 1, 10, "p"), t0);
    CHECK(per_stage(ts.offers(t0)) == std::map<uint32_t, int>{{1, 2}, {2, 2}});
  }
  SUBCASE("pools not in the file get the defaults (FIFO, weight 1, minShare 0)") {
    task_scheduler ts(fair({}));
    CHECK(ts.pool("default") == pool_spec{"default", scheduling_mode::fifo, 1, 0});
    ts.add_executor("e1", "h1", "", 4);
    ts.submit(sub(0, 0, 10, "default"), t0);
    ts.submit(sub(1, 1, 10, "other"), t0);
    CHECK(per_stage(ts.offers(t0)) == std::map<uint32_t, int>{{0, 2}, {1, 2}});
  }
}

TEST_CASE("FIFO mode ignores pools: the earliest job first, as before") {
  task_scheduler_settings s;
  s.pools = {{"light", scheduling_mode::fifo, 1, 0}, {"heavy", scheduling_mode::fifo, 3, 5}};
  task_scheduler ts(s);
  ts.add_executor("e1", "h1", "", 4);
  ts.submit(sub(1, 1, 10, "heavy"), t0);
  ts.submit(sub(0, 0, 3, "light"), t0);
  auto r = ts.offers(t0);
  REQUIRE(r.launches.size() == 4);
  CHECK(r.launches[0].stage_id == 0);
  CHECK(r.launches[1].stage_id == 0);
  CHECK(r.launches[2].stage_id == 0);
  CHECK(r.launches[3].stage_id == 1);
}
