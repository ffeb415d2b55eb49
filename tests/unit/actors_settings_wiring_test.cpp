// The settings the components own, filled from the configuration (actors/settings_wiring): which
// key feeds which field, exclusion limits only when exclusion is on, "0 = unlimited" kept as the
// components' own 0, and the allocation checks Spark makes at start-up.
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "actors/settings_wiring.hpp"

using namespace ember;
using namespace std::chrono_literals;

namespace {

config::config with(std::vector<std::string> conf) {
  config::load_options o;
  o.use_environment = false;
  o.conf = std::move(conf);
  return config::load(o);
}

}  // namespace

TEST_CASE("task scheduler settings") {
  auto d = actors::task_scheduler_settings_from(with({}));
  CHECK(d.task_set.max_task_failures == 4);
  CHECK(d.task_set.locality_wait_process == 3s);
  CHECK_FALSE(d.task_set.speculation);
  CHECK(d.speculation_interval == 100ms);
  CHECK(d.mode == scheduler::scheduling_mode::fifo);
  CHECK(d.cpus_per_task == 1);
  // Exclusion off: the logic's 0 = never exclude, whatever the limits say.
  CHECK(d.task_set.max_task_attempts_per_executor == 0);
  CHECK(d.task_set.max_failed_executors_per_node == 0);
  CHECK(d.max_failed_tasks_per_executor_app == 0);

  auto s = actors::task_scheduler_settings_from(
    with({"ember.task.maxFailures=7", "ember.locality.wait=2s", "ember.locality.wait.process=100ms",
          "ember.scheduler.mode=fair", "ember.speculation=true", "ember.speculation.quantile=0.9",
          "ember.speculation.interval=250ms", "ember.speculation.minTaskRuntime=2s", "ember.executor.cores=4",
          "ember.task.cpus=2", "ember.excludeOnFailure.enabled=true",
          "ember.excludeOnFailure.task.maxTaskAttemptsPerNode=3", "ember.excludeOnFailure.timeout=10min"}));
  CHECK(s.task_set.max_task_failures == 7);
  CHECK(s.task_set.locality_wait_process == 100ms);
  CHECK(s.task_set.locality_wait_node == 2s);
  CHECK(s.task_set.locality_wait_rack == 2s);
  CHECK(s.mode == scheduler::scheduling_mode::fair);
  CHECK(s.task_set.speculation);
  CHECK(s.task_set.speculation_quantile == 0.9);
  CHECK(s.task_set.speculation_multiplier == 1.5);
  CHECK(s.task_set.speculation_min_runtime == 2s);
  CHECK(s.speculation_interval == 250ms);
  CHECK(s.cpus_per_task == 2);
  CHECK(s.task_set.max_task_attempts_per_executor == 1);
  CHECK(s.task_set.max_task_attempts_per_node == 3);
  CHECK(s.task_set.max_failed_tasks_per_executor == 2);
  CHECK(s.task_set.max_failed_executors_per_node == 2);
  CHECK(s.max_failed_tasks_per_executor_app == 2);
  CHECK(s.exclude_timeout == 10min);
}

TEST_CASE("allocation settings") {
  auto a = actors::allocation_settings_from(
    with({"ember.dynamicAllocation.enabled=true", "ember.dynamicAllocation.minExecutors=2",
          "ember.executor.cores=4", "ember.task.cpus=2"}));
  CHECK(a.enabled);
  CHECK(a.min_executors == 2);
  CHECK(a.initial_executors == 2);  // inherits minExecutors
  CHECK(a.max_executors == 0);      // 0 = unlimited, as the policy expects
  CHECK(a.cached_executor_idle_timeout == 0ms);  // 0 = never
  CHECK(a.executor_idle_timeout == 60s);
  CHECK(a.scheduler_backlog_timeout == 1s);
  CHECK(a.sustained_scheduler_backlog_timeout == 1s);
  CHECK(a.shuffle_tracking);
  CHECK_FALSE(a.shuffle_service);
  CHECK(a.tasks_per_executor == 2);

  auto b = actors::allocation_settings_from(
    with({"ember.dynamicAllocation.maxExecutors=5", "ember.dynamicAllocation.cachedExecutorIdleTimeout=30",
          "ember.dynamicAllocation.schedulerBacklogTimeout=2", "ember.shuffle.service.enabled=true"}));
  CHECK_FALSE(b.enabled);
  CHECK(b.max_executors == 5);
  CHECK(b.cached_executor_idle_timeout == 30s);  // plain number = seconds
  CHECK(b.sustained_scheduler_backlog_timeout == 2s);
  CHECK(b.shuffle_service);

  // Spark refuses dynamic allocation with neither shuffle tracking nor the shuffle service.
  CHECK_THROWS_WITH_AS(actors::allocation_settings_from(
                         with({"ember.dynamicAllocation.enabled=true",
                               "ember.dynamicAllocation.shuffleTracking.enabled=false"})),
                       "Dynamic allocation of executors requires the shuffle service or shuffle tracking: set "
                       "ember.shuffle.service.enabled=true or ember.dynamicAllocation.shuffleTracking.enabled=true",
                       std::runtime_error);
}

TEST_CASE("broadcast and memory settings") {
  auto b = actors::broadcast_settings_from(with({"ember.broadcast.blockSize=64", "ember.broadcast.compress=false"}));
  CHECK(b.block_size == 64 * 1024);  // plain number = KiB
  CHECK_FALSE(b.compress);
  CHECK(b.max_size == 8ULL << 30);

  auto m = actors::memory_settings_from(with({"ember.memory.fraction=0.5", "ember.memory.storageFraction=0.25"}),
                                        1 << 30);
  CHECK(m.unified == 1U << 29);
  CHECK(m.storage_fraction == 0.25);
  auto d = actors::memory_settings_from(with({}), 1000);
  CHECK(d.unified == 600);
  CHECK(d.storage_fraction == 0.5);
}
