// The task runner: runs a stage binary over one partition, lists the attempt while it runs,
// reserves and returns its execution memory, reaches other processes only through its services
// (remote fetches only in an executor process), announces map outputs, and classifies a
// std::bad_alloc as out of memory by its type.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <new>
#include <stdexcept>

#include "api/actions.hpp"
#include "api/narrow.hpp"
#include "executor/running_tasks.hpp"
#include "executor/task_runner.hpp"

using namespace ember;
using namespace ember::executor;

namespace {

// Records what the runner asked for; answers with fixed values.
struct fake_services : task_services {
  std::vector<uint32_t> shuffles_asked;
  std::vector<storage::block_status> reported;
  std::vector<scheduler::map_status> written;
  std::vector<scheduler::map_status> map_outputs(uint32_t shuffle_id) override {
    shuffles_asked.push_back(shuffle_id);
    scheduler::map_status s;
    s.shuffle_id = shuffle_id;
    s.map_id = 3;
    return {s};
  }
  void report_blocks(const std::vector<storage::block_status>& changes) override {
    reported.insert(reported.end(), changes.begin(), changes.end());
  }
  void map_output_written(const scheduler::map_status& s) override { written.push_back(s); }
  std::string fetch_remote(const scheduler::map_status&, uint32_t p) override { return "remote" + std::to_string(p); }
  std::optional<std::string> fetch_cached(const storage::block_id&) override { return std::string{"cached"}; }
};

// What a task sees while it runs: written into its result so the test can read it back.
struct probe_state {
  static inline running_tasks* table = nullptr;
  static inline size_t listed = 0;
  static inline size_t execution_reserved = 0;
  static inline bool has_remote = false;
  static inline bool has_cached = false;
  static inline uint16_t block_port = 0;
  static inline std::string first_remote;
  static inline std::vector<scheduler::map_status> outputs;
};

class probe_fn : public detail::registered_result_fn<probe_fn> {
public:
  std::string run(const detail::node_base& rdd, uint32_t p, detail::task_env& env) const override {
    probe_state::listed = probe_state::table ? probe_state::table->snapshot(running_tasks::clock::now()).size() : 0;
    probe_state::execution_reserved = env.blocks->execution_memory_used();
    probe_state::has_remote = static_cast<bool>(env.fetch_remote);
    probe_state::has_cached = static_cast<bool>(env.fetch_cached);
    probe_state::block_port = env.block_port;
    if (env.fetch_remote)
      probe_state::first_remote = env.fetch_remote({}, 5);
    probe_state::outputs = env.map_outputs(11);
    env.report_blocks({storage::block_status{storage::block_id::rdd(2, 1), {}, 10, 0}});
    uint64_t n = 0;
    detail::typed<int>(rdd).compute(p, env, [&](int&&) { ++n; });
    return "n=" + std::to_string(n);
  }
  void encode_body(byte_writer&) const override {}
  static std::unique_ptr<detail::result_fn> decode(byte_reader&) { return std::make_unique<probe_fn>(); }
};

class throwing_fn : public detail::registered_result_fn<throwing_fn> {
public:
  explicit throwing_fn(bool oom) : oom_(oom) {}
  std::string run(const detail::node_base&, uint32_t, detail::task_env&) const override {
    if (oom_)
      throw std::bad_alloc{};
    throw std::runtime_error("boom");
  }
  void encode_body(byte_writer& w) const override { serialize(w, oom_); }
  static std::unique_ptr<detail::result_fn> decode(byte_reader& r) {
    return std::make_unique<throwing_fn>(deserialize<bool>(r));
  }

private:
  bool oom_;
};

std::string binary_of(const detail::result_fn& fn) {
  detail::parallelize_node<int> source{1, {{1, 2, 3}, {4, 5}}};
  byte_writer w;
  detail::encode_result_fn(w, fn);
  return detail::encode_result_stage(source, w.view());
}

struct fixture {
  std::filesystem::path dir = std::filesystem::temp_directory_path()
                              / ("ember-task-runner-" + std::to_string(::getpid()));
  storage::block_manager blocks{{1 << 20, 0.5}, dir / "blocks"};
  fake_services services;
  running_tasks table;
  ~fixture() { std::filesystem::remove_all(dir); }

  task_runner_settings settings(bool remote) const {
    task_runner_settings s;
    s.executor_id = "e1";
    s.host = "h1";
    s.dir = dir.string();
    s.task_memory = 4096;
    s.remote = remote;
    s.block_port = 7001;
    return s;
  }
};

} // namespace

TEST_CASE("a result task runs its partition, listed while it runs, its memory reserved only then") {
  fixture f;
  probe_state::table = &f.table;
  task_runner runner{f.settings(false), f.services, f.blocks, &f.table, nullptr};
  auto report = runner.run({42, 1, 3, 0, 0}, binary_of(probe_fn{}));
  REQUIRE(report.outcome.what == detail::task_outcome::kind::result);
  CHECK(report.outcome.result == "n=3");
  CHECK(report.metrics.records_read == 3); // parallelize counts what it read
  CHECK(report.metrics.run_ns > 0);
  CHECK(probe_state::listed == 1);
  CHECK(f.table.snapshot(running_tasks::clock::now()).empty()); // ended with the run
  CHECK(probe_state::execution_reserved == 4096);
  CHECK(f.blocks.execution_memory_used() == 0);
  // Local mode: no remote fetches, no block port; the tracker and the master through services.
  CHECK_FALSE(probe_state::has_remote);
  CHECK_FALSE(probe_state::has_cached);
  CHECK(probe_state::block_port == 0);
  CHECK(f.services.shuffles_asked == std::vector<uint32_t>{11});
  REQUIRE(probe_state::outputs.size() == 1);
  CHECK(probe_state::outputs[0].map_id == 3);
  REQUIRE(f.services.reported.size() == 1);
  CHECK(f.services.reported[0].id == storage::block_id::rdd(2, 1));
  CHECK(f.services.written.empty()); // not a map task
}

TEST_CASE("in an executor process the task fetches remote and cached blocks through the services") {
  fixture f;
  probe_state::table = nullptr;
  task_runner runner{f.settings(true), f.services, f.blocks, nullptr, nullptr};
  auto report = runner.run({43, 0, 3, 0, 1}, binary_of(probe_fn{}));
  REQUIRE(report.outcome.what == detail::task_outcome::kind::result);
  CHECK(report.outcome.result == "n=2");
  CHECK(probe_state::has_remote);
  CHECK(probe_state::has_cached);
  CHECK(probe_state::block_port == 7001);
  CHECK(probe_state::first_remote == "remote5");
  CHECK(report.metrics.cpu_ns == 0); // no running table: its CPU time is not measured
}

TEST_CASE("std::bad_alloc is classified as out of memory by its type, other errors are not") {
  fixture f;
  task_runner runner{f.settings(false), f.services, f.blocks, &f.table, nullptr};
  auto oom = runner.run({1, 0, 1, 0, 0}, binary_of(throwing_fn{true}));
  CHECK(oom.outcome.what == detail::task_outcome::kind::error);
  CHECK(oom.outcome.out_of_memory);
  CHECK(oom.outcome.error_kind == "std::bad_alloc");
  auto other = runner.run({2, 0, 1, 0, 0}, binary_of(throwing_fn{false}));
  CHECK(other.outcome.what == detail::task_outcome::kind::error);
  CHECK_FALSE(other.outcome.out_of_memory);
  CHECK(other.outcome.error_kind == "std::runtime_error");
  CHECK(other.outcome.error_message == "boom");
  CHECK(f.table.snapshot(running_tasks::clock::now()).empty());
  CHECK(f.blocks.execution_memory_used() == 0); // returned after a failure too
}

TEST_CASE("a binary that cannot be decoded fails the task, it does not throw") {
  fixture f;
  task_runner runner{f.settings(false), f.services, f.blocks, nullptr, nullptr};
  auto report = runner.run({5, 0, 1, 0, 0}, std::string_view{"\x07garbage"});
  CHECK(report.outcome.what == detail::task_outcome::kind::error);
  CHECK_FALSE(report.outcome.out_of_memory);
}
