// The dag_scheduler actor under the test coordinator, with a recorder standing in for the task
// scheduler. Jobs are real: a dataset pipeline (api/) whose action calls the test's context,
// which submits the job exactly as driver_runtime::run_job does and answers it with what the
// dag scheduler delivered, so the stage binaries and the collected records are the real ones.
// The map output tracker and the block manager master are the real actors the dag scheduler
// feeds. Covered: a two-stage job, FetchFailed (lineage rerun of the missing maps, duplicates),
// ember.stage.maxConsecutiveAttempts, executor loss, late events from old stage attempts.
#define CAF_SUITE dag_scheduler
#include <functional>
#include <optional>

#include "tests/actor/actor_fixture.hpp"

#include "actors/block_manager_master_actor.hpp"
#include "actors/conversions.hpp"
#include "actors/dag_scheduler.hpp"
#include "actors/map_output_tracker.hpp"
#include "actors/runtime.hpp"
#include "api/dataset.hpp"
#include "config/config.hpp"

using namespace std::chrono_literals;
using namespace ember;
using namespace ember::actors;
using ember::actor_test::recorder;

namespace {

using record = std::pair<std::string, int64_t>;

// A driver whose jobs go to the dag scheduler under test: run_job builds SubmitJob as the
// driver does (make_submit_job), hands it to `submit` (which runs the scenario and returns the
// JobResult the caller got), and turns that into the action's return value or job_error.
class coordinated_context : public detail::context_impl {
public:
  using submit_fn = std::function<wire<proto::JobResult>(const wire<proto::SubmitJob>&)>;
  explicit coordinated_context(submit_fn submit) : detail::context_impl(detail::dataset_settings{}), submit_(std::move(submit)) {}

  std::vector<std::string> run_job(const detail::node_ptr& rdd, const std::vector<uint32_t>& partitions,
                                   const detail::result_fn& fn) override {
    auto res = submit_(actors::make_submit_job(next_job_++, rdd, partitions, fn, local_properties()));
    auto r = res.reader();
    if (!r.getSucceeded())
      throw detail::job_error(str(r.getMessage()));
    std::vector<std::string> out;
    for (auto d : r.getResults())
      out.emplace_back(view(d));
    return out;
  }

  void unpersist(uint32_t, bool) override {
    throw std::logic_error("the dag scheduler actor tests cache nothing");
  }
  const config::config& conf() const override { return conf_; }
  void stop() override {} // the fixture ends the actors
  detail::declared_files data_files() const override { return {}; }
  std::shared_ptr<detail::broadcast_control> broadcasts() const override {
    throw std::logic_error("the dag scheduler actor tests broadcast nothing");
  }

private:
  config::config conf_;
  submit_fn submit_;
  uint32_t next_job_ = 0;
};

// One SubmitTaskSet the stand-in task scheduler received.
struct task_set {
  uint32_t job_id;
  uint32_t stage_id;
  uint32_t attempt;
  bool map;
  uint32_t shuffle_id;
  std::vector<uint32_t> partitions;
  uint8_t binary_kind; // first byte of the stage binary (api/task.hpp): 1 shuffle map, 0 result
};

std::string encode(const std::vector<record>& records) {
  byte_writer w;
  for (auto& r : records)
    serialize(w, r);
  return std::string{w.view()};
}

struct dag_fixture : actor_test::fixture {
  recorder tasks = stand_in();  // the task scheduler
  recorder caller = stand_in(); // the user thread waiting for JobResult
  recorder reducer = stand_in(); // an executor asking the map output tracker
  caf::actor tracker;              // the real map output tracker, kept by the dag scheduler
  caf::actor block_master;         // the real block manager master
  caf::actor dag;
  std::shared_ptr<coordinated_context> ctx;
  std::function<void()> scenario; // runs while the action waits for its job
  uint64_t next_task_id = 100;

  void start(int max_consecutive_attempts = 4) {
    dag_scheduler_config cfg;
    cfg.max_consecutive_attempts = max_consecutive_attempts;
    cfg.resubmit_delay = 200ms;
    tracker = started(spawn_map_output_tracker(sys));
    block_master = started(spawn_block_manager_master(sys, {}));
    cfg.map_output_tracker = tracker;
    cfg.block_manager_master = block_master;
    dag = started(spawn_dag_scheduler(sys, cfg, tasks.handle));
    ctx = std::make_shared<coordinated_context>([this](const wire<proto::SubmitJob>& job) {
      caf::send_as(caller.handle, dag, job);
      sched.run();
      scenario();
      auto res = caller.all<proto::JobResult>();
      CAF_REQUIRE_EQUAL(res.size(), 1u);
      return res[0];
    });
  }

  // 6 records in 3 slices, counted by key into 2 partitions: a map stage and a result stage.
  dataset<record> counts() const {
    std::vector<std::vector<record>> slices{{{"a", 1}, {"b", 1}}, {{"a", 1}, {"c", 1}}, {{"b", 1}, {"a", 1}}};
    dataset<record> words{ctx, std::make_shared<detail::parallelize_node<record>>(ctx->next_node_id(), slices)};
    return words.reduce_by_key(std::plus<>{}, 2);
  }

  std::vector<task_set> task_sets() const {
    std::vector<task_set> out;
    for (auto& m : tasks.all<proto::SubmitTaskSet>()) {
      auto r = m.reader();
      std::vector<uint32_t> ps;
      for (auto x : r.getPartitions())
        ps.push_back(x);
      auto bin = view(r.getTaskBinary());
      out.push_back({r.getJobId(), r.getStageId(), r.getStageAttempt(), r.getKind() == proto::TaskKind::SHUFFLE_MAP,
                     r.getShuffleId(), std::move(ps), bin.empty() ? uint8_t{255} : static_cast<uint8_t>(bin[0])});
    }
    return out;
  }

  // One TaskEndedBatch from the task scheduler with a single accepted end.
  template <class Fill>
  void ended(const task_set& s, uint32_t partition, const std::string& exec, proto::TaskState state, Fill fill) {
    caf::send_as(tasks.handle, dag, make_wire<proto::TaskEndedBatch>([&](proto::TaskEndedBatch::Builder m) {
      auto e = m.initEnds(1)[0];
      e.setStageId(s.stage_id);
      e.setStageAttempt(s.attempt);
      e.setPartition(partition);
      e.setHost("host-" + exec);
      auto u = e.initUpdate();
      u.setExecutorId(exec);
      u.setTaskId(next_task_id++);
      u.setAttempt(0);
      u.setState(state);
      fill(u);
    }));
    sched.run();
  }
  void map_done(const task_set& s, uint32_t partition, const std::string& exec) {
    ended(s, partition, exec, proto::TaskState::FINISHED, [&](proto::StatusUpdate::Builder u) {
      auto st = u.getResult().initMapOutput();
      st.setShuffleId(s.shuffle_id);
      st.setMapIndex(partition);
      st.setMapId(next_task_id - 1);
      st.setExecutorId(exec);
      st.setHost("host-" + exec);
      st.setPort(7000);
      auto sizes = st.initSizes(2);
      sizes.set(0, 10);
      sizes.set(1, 20);
      st.setDataPath("/tmp/shuffle_" + std::to_string(s.shuffle_id) + "_" + std::to_string(partition) + ".data");
    });
  }
  void result_done(const task_set& s, uint32_t partition, const std::string& exec, const std::string& data) {
    ended(s, partition, exec, proto::TaskState::FINISHED,
          [&](proto::StatusUpdate::Builder u) { u.getResult().setDirect(bytes(data)); });
  }
  void fetch_failed(const task_set& s, uint32_t partition, uint32_t shuffle, uint32_t map, const std::string& holder,
                    const std::string& why) {
    ended(s, partition, "reducer-exec", proto::TaskState::FAILED, [&](proto::StatusUpdate::Builder u) {
      auto f = u.getResult().initFetchFailed();
      f.setShuffleId(shuffle);
      f.setMapIndex(map);
      f.setReduceId(partition);
      f.setExecutorId(holder);
      f.setHost("host-" + holder);
      f.setMessage(why);
    });
  }
  void task_set_failed(const task_set& s, const std::string& why) {
    caf::send_as(tasks.handle, dag, make_wire<proto::TaskSetFailed>([&](proto::TaskSetFailed::Builder b) {
      b.setStageId(s.stage_id);
      b.setStageAttempt(s.attempt);
      b.setReason(why);
    }));
    sched.run();
  }
  void executor_lost(const std::string& exec) {
    caf::send_as(tasks.handle, dag, make_wire<proto::ExecutorLost>([&](proto::ExecutorLost::Builder b) {
      b.setExecutorId(exec);
      b.setHost("host-" + exec);
      b.setCause(proto::ExecutorLossCause::HEARTBEAT_TIMEOUT);
      b.setMessage("no heartbeat");
    }));
    sched.run();
  }

  // The map output tracker's answer: "<map index>@<executor>" per output (the tracker gives
  // locations only when every map output is registered), then "missing <indexes>". The tracker
  // is its own actor: what it says is what the dag scheduler told it.
  std::string map_outputs(uint32_t shuffle) {
    caf::send_as(reducer.handle, tracker, make_wire<proto::GetMapOutputs>([&](proto::GetMapOutputs::Builder b) {
      b.setShuffleId(shuffle);
    }));
    sched.run();
    auto answers = reducer.all<proto::MapOutputs>();
    if (answers.empty())
      return "no answer";
    auto r = answers.back().reader();
    std::string out;
    for (auto s : r.getStatuses())
      out += std::to_string(s.getMapIndex()) + "@" + str(s.getExecutorId()) + " ";
    out += "missing";
    for (auto m : r.getMissingMapIndexes())
      out += " " + std::to_string(m);
    return out;
  }

  // The reduce results every scenario delivers: partition 0 holds a and c, partition 1 holds b.
  void deliver_results(const task_set& s) {
    result_done(s, 1, "e4", encode({{"b", 2}}));
    result_done(s, 0, "e3", encode({{"a", 3}, {"c", 1}}));
  }
  static std::vector<record> expected() { return {{"a", 3}, {"c", 1}, {"b", 2}}; }
};

std::string describe(const std::vector<uint32_t>& ps) {
  std::string out;
  for (auto p : ps)
    out += (out.empty() ? "" : ",") + std::to_string(p);
  return out;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(dag_scheduler_tests, dag_fixture)

CAF_TEST(a two-stage job runs its map stage then its result stage and delivers the results) {
  start();
  scenario = [&] {
    auto sets = task_sets();
    CAF_REQUIRE_EQUAL(sets.size(), 1u);
    CAF_CHECK_EQUAL(sets[0].job_id, 0u);
    CAF_CHECK_EQUAL(sets[0].map, true);
    CAF_CHECK_EQUAL(sets[0].binary_kind, 1u);
    CAF_CHECK_EQUAL(sets[0].shuffle_id, 0u);
    CAF_CHECK_EQUAL(sets[0].attempt, 0u);
    CAF_CHECK_EQUAL(describe(sets[0].partitions), "0,1,2");
    CAF_CHECK_EQUAL(map_outputs(0), "missing 0 1 2");
    map_done(sets[0], 0, "e1");
    map_done(sets[0], 2, "e2");
    CAF_CHECK_EQUAL(task_sets().size(), 1u); // map partition 1 still runs
    CAF_CHECK_EQUAL(map_outputs(0), "missing 1"); // locations only once all are known
    map_done(sets[0], 1, "e1");
    CAF_CHECK_EQUAL(map_outputs(0), "0@e1 1@e1 2@e2 missing");
    sets = task_sets();
    CAF_REQUIRE_EQUAL(sets.size(), 2u);
    CAF_CHECK_EQUAL(sets[1].job_id, 0u);
    CAF_CHECK_EQUAL(sets[1].map, false);
    CAF_CHECK_EQUAL(sets[1].binary_kind, 0u);
    CAF_CHECK_NOT_EQUAL(sets[1].stage_id, sets[0].stage_id);
    CAF_CHECK_EQUAL(sets[1].attempt, 0u);
    CAF_CHECK_EQUAL(describe(sets[1].partitions), "0,1");
    result_done(sets[1], 1, "e2", encode({{"b", 2}}));
    CAF_CHECK_EQUAL(caller.all<proto::JobResult>().size(), 0u); // partition 0 still runs
    result_done(sets[1], 0, "e1", encode({{"a", 3}, {"c", 1}}));
  };
  CAF_CHECK_EQUAL(counts().collect(), expected()); // in partition order, whatever order they ended in
  CAF_CHECK_EQUAL(task_sets().size(), 2u);
  CAF_CHECK_EQUAL(tasks.all<proto::CancelStage>().size(), 0u);
}

CAF_TEST(a fetch failure reruns only the lost map partitions then the reduce stage once per stage attempt) {
  start();
  scenario = [&] {
    auto maps = task_sets().at(0);
    map_done(maps, 0, "e1");
    map_done(maps, 1, "e2");
    map_done(maps, 2, "e2");
    auto sets = task_sets();
    CAF_REQUIRE_EQUAL(sets.size(), 2u);
    auto reduce = sets[1];
    // Reduce partition 0 cannot fetch map 0 from e1 (e1 unreachable: all its outputs go).
    fetch_failed(reduce, 0, 0, 0, "e1", "Failed to fetch shuffle_0_0_0 from e1: connection refused");
    CAF_CHECK_EQUAL(map_outputs(0), "missing 0");
    // Reduce partition 1 of the same attempt fails on the same block: counted once.
    fetch_failed(reduce, 1, 0, 0, "e1", "Failed to fetch shuffle_0_0_1 from e1: connection refused");
    CAF_CHECK_EQUAL(task_sets().size(), 2u); // resubmission waits ember's resubmit delay
    tick(200ms);
    sets = task_sets();
    CAF_REQUIRE_EQUAL(sets.size(), 3u); // one new map attempt, not two
    CAF_CHECK_EQUAL(sets[2].map, true);
    CAF_CHECK_EQUAL(sets[2].stage_id, sets[0].stage_id);
    CAF_CHECK_EQUAL(sets[2].attempt, 1u);
    CAF_CHECK_EQUAL(describe(sets[2].partitions), "0");
    tick(200ms, 3);
    CAF_CHECK_EQUAL(task_sets().size(), 3u);
    map_done(sets[2], 0, "e2");
    CAF_CHECK_EQUAL(map_outputs(0), "0@e2 1@e2 2@e2 missing");
    sets = task_sets();
    CAF_REQUIRE_EQUAL(sets.size(), 4u);
    CAF_CHECK_EQUAL(sets[3].map, false);
    CAF_CHECK_EQUAL(sets[3].stage_id, reduce.stage_id);
    CAF_CHECK_EQUAL(sets[3].attempt, 1u);
    CAF_CHECK_EQUAL(describe(sets[3].partitions), "0,1");
    deliver_results(sets[3]);
  };
  CAF_CHECK_EQUAL(counts().collect(), expected());
  CAF_CHECK_EQUAL(task_sets().size(), 4u);
}

CAF_TEST(a stage failing ember.stage.maxConsecutiveAttempts times fails the job with the reason) {
  start(2);
  std::string stage_name;
  scenario = [&] {
    auto maps = task_sets().at(0);
    map_done(maps, 0, "e1");
    map_done(maps, 1, "e1");
    map_done(maps, 2, "e2");
    auto reduce = task_sets().at(1);
    fetch_failed(reduce, 0, 0, 2, "e2", "Failed to fetch shuffle_0_2_0 from e2: connection refused");
    tick(200ms);
    auto sets = task_sets();
    CAF_REQUIRE_EQUAL(sets.size(), 3u);
    CAF_CHECK_EQUAL(describe(sets[2].partitions), "2");
    map_done(sets[2], 2, "e3");
    sets = task_sets();
    CAF_REQUIRE_EQUAL(sets.size(), 4u);
    CAF_CHECK_EQUAL(sets[3].attempt, 1u);
    CAF_CHECK_EQUAL(caller.all<proto::JobResult>().size(), 0u);
    // The second attempt fails too: 2 of 2 allowed.
    fetch_failed(sets[3], 1, 0, 2, "e3", "Failed to fetch shuffle_0_2_1 from e3: checksum mismatch");
    tick(200ms);
    CAF_CHECK_EQUAL(task_sets().size(), 4u); // nothing resubmitted
  };
  std::string error;
  try {
    counts().collect();
  } catch (const detail::job_error& e) {
    error = e.what();
  }
  // The stage's name is its last node's as the dag scheduler decodes it: "aggregate", since the
  // graph encoding does not carry the operator's name (reduce_by_key).
  CAF_CHECK_EQUAL(error, "Job 0 aborted due to stage failure: Stage 1 (reduce_by_key at stage 1) has failed the maximum "
                         "allowable number of times: 2. Most recent failure reason: Failed to fetch "
                         "shuffle_0_2_1 from e3: checksum mismatch");
}

CAF_TEST(the map outputs of a lost executor are unregistered and their partitions rerun) {
  start();
  scenario = [&] {
    auto maps = task_sets().at(0);
    map_done(maps, 0, "e1");
    executor_lost("e1");
    CAF_CHECK_EQUAL(map_outputs(0), "missing 0 1 2");
    // e1 reports a task it finished before it was declared lost: its files went with it.
    map_done(maps, 1, "e1");
    CAF_CHECK_EQUAL(map_outputs(0), "missing 0 1 2");
    map_done(maps, 2, "e2");
    // Every task of the attempt ended but outputs are missing: a new attempt for those only.
    auto sets = task_sets();
    CAF_REQUIRE_EQUAL(sets.size(), 2u);
    CAF_CHECK_EQUAL(sets[1].map, true);
    CAF_CHECK_EQUAL(sets[1].attempt, 1u);
    CAF_CHECK_EQUAL(describe(sets[1].partitions), "0,1");
    map_done(sets[1], 0, "e2");
    map_done(sets[1], 1, "e3");
    sets = task_sets();
    CAF_REQUIRE_EQUAL(sets.size(), 3u);
    CAF_CHECK_EQUAL(sets[2].map, false);
    auto reduce = sets[2];
    // e2 is lost while the reduce stage runs: its outputs (maps 0 and 2) are gone; the reducer
    // that finds out reruns both of them, not only the block it asked for.
    executor_lost("e2");
    CAF_CHECK_EQUAL(map_outputs(0), "missing 0 2");
    fetch_failed(reduce, 0, 0, 2, "e2", "Failed to fetch shuffle_0_2_0 from e2: executor lost");
    tick(200ms);
    sets = task_sets();
    CAF_REQUIRE_EQUAL(sets.size(), 4u);
    CAF_CHECK_EQUAL(sets[3].map, true);
    CAF_CHECK_EQUAL(sets[3].attempt, 2u);
    CAF_CHECK_EQUAL(describe(sets[3].partitions), "0,2");
    map_done(sets[3], 0, "e3");
    map_done(sets[3], 2, "e4");
    sets = task_sets();
    CAF_REQUIRE_EQUAL(sets.size(), 5u);
    CAF_CHECK_EQUAL(sets[4].map, false);
    CAF_CHECK_EQUAL(sets[4].attempt, 1u);
    deliver_results(sets[4]);
  };
  CAF_CHECK_EQUAL(counts().collect(), expected());
}

CAF_TEST(late events from an old stage attempt are ignored) {
  start();
  scenario = [&] {
    auto maps = task_sets().at(0);
    map_done(maps, 0, "e1");
    map_done(maps, 1, "e2");
    map_done(maps, 2, "e2");
    auto old_reduce = task_sets().at(1);
    // Reduce attempt 0 completes partition 1, then fails to fetch for partition 0.
    result_done(old_reduce, 1, "e2", encode({{"b", 2}}));
    fetch_failed(old_reduce, 0, 0, 0, "e1", "Failed to fetch shuffle_0_0_0 from e1: connection refused");
    tick(200ms);
    auto rerun = task_sets().at(2);
    CAF_CHECK_EQUAL(describe(rerun.partitions), "0");
    map_done(rerun, 0, "e2");
    auto sets = task_sets();
    CAF_REQUIRE_EQUAL(sets.size(), 4u);
    auto reduce = sets[3];
    CAF_CHECK_EQUAL(reduce.attempt, 1u);
    CAF_CHECK_EQUAL(describe(reduce.partitions), "0"); // partition 1's result is kept
    // Attempt 0's stragglers: another fetch failure, its task set giving up, a second result
    // for partition 1. None of them counts.
    fetch_failed(old_reduce, 0, 0, 1, "e2", "Failed to fetch shuffle_0_1_0 from e2: timeout");
    task_set_failed(old_reduce, "Task 0 in stage 1.0 failed 4 times");
    result_done(old_reduce, 1, "e9", encode({{"stale", 0}}));
    tick(200ms, 3);
    CAF_CHECK_EQUAL(map_outputs(0), "0@e2 1@e2 2@e2 missing");
    CAF_CHECK_EQUAL(task_sets().size(), 4u);
    CAF_CHECK_EQUAL(caller.all<proto::JobResult>().size(), 0u);
    result_done(reduce, 0, "e1", encode({{"a", 3}, {"c", 1}}));
  };
  CAF_CHECK_EQUAL(counts().collect(), expected());
  // After the job: a late result and a late failure of its stages change nothing.
  auto sets = task_sets();
  result_done(sets[3], 0, "e1", encode({{"late", 0}}));
  task_set_failed(sets[3], "late");
  CAF_CHECK_EQUAL(caller.all<proto::JobResult>().size(), 1u);
  CAF_CHECK_EQUAL(task_sets().size(), 4u);
}

CAF_TEST_FIXTURE_SCOPE_END()

namespace {

// The executors a stage's partitions prefer (SubmitTaskSet.preferredExecutors), as "p:e,e;...".
std::string preferred_executors(const wire<proto::SubmitTaskSet>& m) {
  std::string out;
  auto r = m.reader();
  for (unsigned i = 0; i < r.getPreferredExecutors().size(); ++i) {
    out += std::to_string(r.getPartitions()[i]) + ":";
    for (auto e : r.getPreferredExecutors()[i])
      out += str(e) + ",";
    out += ";";
  }
  return out;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(dag_scheduler_cache_tests, dag_fixture)

// The planner reads the cached blocks' holders from the dag scheduler's copy of the block manager
// master's table: an executor's report there, an executor loss and an unpersist all reach it.
CAF_TEST(cached partitions reported to the block manager master become the preferred executors of the stage) {
  start();
  auto executor = stand_in();
  std::vector<std::vector<record>> slices{{{"a", 1}}, {{"b", 1}}, {{"c", 1}}};
  dataset<record> words{ctx, std::make_shared<detail::parallelize_node<record>>(ctx->next_node_id(), slices)};
  words.cache();
  auto rdd = words.node()->id();
  auto report = [&](const std::string& exec, uint32_t partition) {
    caf::send_as(executor.handle, block_master, make_wire<proto::UpdateBlockInfo>([&](proto::UpdateBlockInfo::Builder b) {
      b.setExecutorId(exec);
      auto id = b.initBlockId().initRdd();
      id.setRddId(rdd);
      id.setPartition(partition);
      auto l = b.initLevel();
      l.setUseMemory(true);
      l.setDeserialized(true);
      l.setReplication(1);
      b.setMemSize(64);
      b.setHost("host-" + exec);
    }));
    sched.run();
  };
  // Each job's map stage is the first task set it submits; the job then fails at once.
  auto map_stage_preferences = [&] {
    std::string prefs;
    scenario = [&] {
      auto sets = tasks.all<proto::SubmitTaskSet>();
      prefs = preferred_executors(sets.back());
      task_set_failed(task_sets().back(), "stop here");
    };
    caller.log->clear(); // one JobResult per job
    std::string error;
    try {
      words.reduce_by_key(std::plus<>{}, 2).collect();
    } catch (const detail::job_error& e) {
      error = e.what();
    }
    CAF_CHECK_NOT_EQUAL(error.find("stop here"), std::string::npos);
    return prefs;
  };
  report("e1", 1);
  report("e2", 2);
  CAF_CHECK_EQUAL(executor.all<proto::UpdateBlockInfo>().size(), 2u); // acknowledged
  CAF_CHECK_EQUAL(map_stage_preferences(), "0:;1:e1,;2:e2,;");
  executor_lost("e1");
  CAF_CHECK_EQUAL(map_stage_preferences(), "0:;1:;2:e2,;");
  caf::anon_send(block_master, make_wire<proto::RemoveRdd>([&](proto::RemoveRdd::Builder b) { b.setRddId(rdd); }));
  sched.run();
  CAF_CHECK_EQUAL(map_stage_preferences(), "0:;1:;2:;");
}

CAF_TEST_FIXTURE_SCOPE_END()
