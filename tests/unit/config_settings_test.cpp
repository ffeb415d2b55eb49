// Settings structs: each component's slice of the configuration, with "0 = unlimited" mapped.
#include <doctest/doctest.h>

#include <limits>

#include "config/settings.hpp"

using namespace ember::config;
using namespace std::chrono_literals;

namespace {

config with(std::vector<std::string> conf) {
  load_options o;
  o.use_environment = false;
  o.conf = std::move(conf);
  return load(o);
}

}  // namespace

TEST_CASE("scheduler_settings") {
  auto s = scheduler_settings::from(with({"ember.task.maxFailures=7", "ember.locality.wait=2s",
                                          "ember.locality.wait.process=100ms", "ember.scheduler.mode=FAIR",
                                          "ember.speculation=true", "ember.speculation.quantile=0.9"}));
  CHECK(s.max_task_failures == 7);
  CHECK(s.max_stage_attempts == 4);
  CHECK(s.locality_wait_process == 100ms);
  CHECK(s.locality_wait_node == 2s);
  CHECK(s.locality_wait_rack == 2s);
  CHECK(s.mode == scheduling_mode::fair);
  CHECK(s.speculation);
  CHECK(s.speculation_quantile == 0.9);
  CHECK(s.speculation_multiplier == 1.5);
  CHECK(s.exclude_timeout == 1h);
  CHECK(s.max_task_attempts_per_node == 2);
  CHECK(s.default_parallelism == 0);
}

TEST_CASE("executor_settings") {
  auto s = executor_settings::from(with({"ember.executor.memory=2048", "ember.executor.cores=4",
                                         "ember.executor.heartbeatInterval=500", "ember.network.timeout=30",
                                         "ember.local.dir=/a, /b,,/c"}));
  CHECK(s.memory_bytes == 2LL << 30);  // plain number = MiB
  CHECK(s.cores == 4);
  CHECK(s.instances == 2);
  CHECK(s.heartbeat_interval == 500ms);  // plain number = ms
  CHECK(s.network_timeout == 30s);       // plain number = s
  CHECK(s.local_dirs == std::vector<std::string>{"/a", "/b", "/c"});
  CHECK(s.memory_fraction == 0.6);
}

TEST_CASE("shuffle_settings") {
  auto d = shuffle_settings::from(with({}));
  CHECK(d.compress);
  CHECK(d.checksum);
  CHECK(d.codec == compression_codec::lz4);
  CHECK(d.file_buffer_bytes == 32 * 1024);
  CHECK(d.max_size_in_flight == 48LL << 20);
  CHECK(d.max_reqs_in_flight == std::numeric_limits<std::int64_t>::max());
  CHECK(d.max_chunk_size == 1 << 20);
  CHECK(d.local_dirs == std::vector<std::string>{"/tmp"});
  auto s = shuffle_settings::from(with({"ember.io.compression.codec=none", "ember.shuffle.file.buffer=64",
                                        "ember.reducer.maxReqsInFlight=8"}));
  CHECK(s.codec == compression_codec::none);
  CHECK(s.file_buffer_bytes == 64 * 1024);  // plain number = KiB
  CHECK(s.max_reqs_in_flight == 8);
}

TEST_CASE("driver_settings") {
  auto d = driver_settings::from(with({"ember.app.name=wc"}));
  CHECK(d.app_name == "wc");
  CHECK(d.master == "local[*]");
  CHECK(d.max_result_size == 1LL << 30);
  CHECK(d.show_console_progress);
  CHECK_FALSE(d.event_log_enabled);
  CHECK(d.event_log_dir == "/tmp/ember-events");
  CHECK(d.ask_timeout == 120s);
  auto u = driver_settings::from(with({"ember.driver.maxResultSize=0"}));
  CHECK(u.max_result_size == std::numeric_limits<std::int64_t>::max());
}

TEST_CASE("allocation_settings and cluster_settings") {
  auto a = allocation_settings::from(with({"ember.dynamicAllocation.minExecutors=2"}));
  CHECK(a.min_executors == 2);
  CHECK(a.initial_executors == 2);
  CHECK(a.max_executors == std::numeric_limits<int>::max());
  CHECK(a.cached_executor_idle_timeout == std::chrono::milliseconds::max());
  CHECK(a.executor_idle_timeout == 60s);
  auto c = cluster_settings::from(with({"ember.deploy.recoveryMode=FILESYSTEM",
                                        "ember.deploy.recoveryDirectory=/var/ember"}));
  CHECK(c.recovery == recovery_mode::filesystem);
  CHECK(c.recovery_directory == "/var/ember");
  CHECK(c.master_port == 7077);
  CHECK(c.worker_timeout == 60s);
  CHECK(c.default_cores == std::numeric_limits<int>::max());
}
