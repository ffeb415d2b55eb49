#include <doctest/doctest.h>

#include "scheduler/dag_planner.hpp"
#include "tests/unit/scheduler_test_lineage.hpp"

using namespace ember::scheduler;
using namespace ember::scheduler::testing;

namespace {

map_status on(const std::string& exec, std::string host = "", std::vector<uint64_t> sizes = {}) {
  map_status s;
  s.executor_id = exec;
  s.host = host.empty() ? "host-" + exec : std::move(host);
  s.sizes = std::move(sizes);
  return s;
}

void complete_map_stage(dag_planner& dag, const stage_submission& sub, const std::string& exec = "e1") {
  for (uint32_t p : sub.partitions)
    dag.map_task_completed(sub.stage_id, sub.stage_attempt, p, on(exec));
}

std::vector<uint32_t> ids(const std::vector<stage_submission>& subs) {
  std::vector<uint32_t> r;
  for (auto& s : subs)
    r.push_back(s.stage_id);
  return r;
}

} // namespace

TEST_CASE("a chain is cut at each shuffle and stages run in order") {
  auto src = source(0, 4, "text_file");
  auto mapped = narrow(1, {src}, "map");
  auto reduced = shuffled(2, {shuffle(0, mapped, 2)}, "reduce_by_key");
  auto final_rdd = shuffled(3, {shuffle(1, reduced, 3)}, "sort_by_key");
  dag_planner dag;
  auto plan = dag.submit_job(final_rdd, {0, 1, 2}, 0);
  CHECK(plan.final_stage_id == 2);
  CHECK(plan.stage_ids == std::vector<uint32_t>{0, 1, 2});
  CHECK(plan.skipped_stage_ids.empty());
  CHECK(dag.stage(1)->name == "reduce_by_key at stage 1");
  CHECK(dag.stage(1)->parents == std::vector<uint32_t>{0});
  CHECK(dag.stage(2)->parents == std::vector<uint32_t>{1});

  auto ready = dag.take_ready_stages();
  REQUIRE(ready.size() == 1);
  CHECK(ready[0].stage_id == 0);
  CHECK(ready[0].stage_attempt == 0);
  CHECK(ready[0].is_map_stage);
  CHECK(ready[0].shuffle_dependency->shuffle_id == 0);
  CHECK(ready[0].rdd == mapped);
  CHECK(ready[0].partitions == std::vector<uint32_t>{0, 1, 2, 3});
  CHECK(ready[0].job_id == 0);
  CHECK(ready[0].name == "map at stage 0");
  CHECK(dag.stage(1)->waiting);
  CHECK(dag.stage(2)->waiting);

  for (uint32_t p = 0; p < 3; ++p)
    CHECK(dag.map_task_completed(0, 0, p, on("e1")));
  CHECK(dag.take_ready_stages().empty());
  CHECK(dag.map_task_completed(0, 0, 3, on("e2")));
  ready = dag.take_ready_stages();
  REQUIRE(ready.size() == 1);
  CHECK(ready[0].stage_id == 1);
  CHECK(ready[0].partitions == std::vector<uint32_t>{0, 1});
  complete_map_stage(dag, ready[0]);

  ready = dag.take_ready_stages();
  REQUIRE(ready.size() == 1);
  CHECK(ready[0].stage_id == 2);
  CHECK(!ready[0].is_map_stage);
  CHECK(ready[0].partitions == std::vector<uint32_t>{0, 1, 2});
  CHECK(dag.result_task_completed(2, 0, 1));
  CHECK(!dag.result_task_completed(2, 0, 1)); // duplicate never double-counts
  CHECK(dag.result_task_completed(2, 0, 0));
  CHECK(dag.take_job_events().empty());
  CHECK(dag.result_task_completed(2, 0, 2));
  auto events = dag.take_job_events();
  REQUIRE(events.size() == 1);
  CHECK(events[0].job_id == 0);
  CHECK(events[0].result == job_event::outcome::succeeded);
  CHECK(!dag.job_active(0));
  CHECK(!dag.stage(2).has_value()); // result stages go with their job
}

TEST_CASE("a diamond shares its common ancestor and runs independent stages together") {
  auto src = source(0, 2);
  auto x = shuffled(1, {shuffle(0, src, 3)}, "partition_by");
  auto left = narrow(2, {x}, "map");
  auto right = narrow(3, {x}, "filter");
  auto join = shuffled(4, {shuffle(1, left, 2), shuffle(2, right, 2)}, "join");
  dag_planner dag;
  auto plan = dag.submit_job(join, {0, 1}, 5);
  CHECK(plan.stage_ids == std::vector<uint32_t>{0, 1, 2, 3});
  CHECK(dag.stage(1)->parents == std::vector<uint32_t>{0});
  CHECK(dag.stage(2)->parents == std::vector<uint32_t>{0});
  CHECK(dag.stage(3)->parents == std::vector<uint32_t>{1, 2});

  auto ready = dag.take_ready_stages();
  REQUIRE(ids(ready) == std::vector<uint32_t>{0});
  complete_map_stage(dag, ready[0]);
  ready = dag.take_ready_stages();
  REQUIRE(ids(ready) == std::vector<uint32_t>{1, 2}); // both branches at once
  CHECK(ready[0].partitions == std::vector<uint32_t>{0, 1, 2});
  complete_map_stage(dag, ready[0]);
  CHECK(dag.take_ready_stages().empty()); // join still waits for the right branch
  complete_map_stage(dag, ready[1]);
  ready = dag.take_ready_stages();
  REQUIRE(ids(ready) == std::vector<uint32_t>{3});
  CHECK(ready[0].job_id == 5);
}

TEST_CASE("a shuffle computed by one job is skipped by the next") {
  auto src = source(0, 3);
  auto dep = shuffle(0, src, 2);
  auto counts = shuffled(1, {dep}, "reduce_by_key");
  dag_planner dag;
  dag.submit_job(counts, {0, 1}, 0);
  auto ready = dag.take_ready_stages();
  complete_map_stage(dag, ready[0]);
  ready = dag.take_ready_stages();
  REQUIRE(ids(ready) == std::vector<uint32_t>{1});
  dag.result_task_completed(1, 0, 0);
  dag.result_task_completed(1, 0, 1);
  CHECK(dag.take_job_events().size() == 1);

  auto again = narrow(2, {counts}, "filter");
  auto plan = dag.submit_job(again, {1}, 1);
  CHECK(plan.stage_ids == std::vector<uint32_t>{0, 2}); // map stage 0 reused, stage ids never reused
  CHECK(plan.skipped_stage_ids == std::vector<uint32_t>{0});
  CHECK(dag.stage_for_shuffle(0) == 0u);
  ready = dag.take_ready_stages();
  REQUIRE(ids(ready) == std::vector<uint32_t>{2});
  CHECK(ready[0].partitions == std::vector<uint32_t>{1});
  CHECK(dag.stage(0)->latest_attempt == 1); // never re-run
}

TEST_CASE("a job waiting on a running shuffle shares it") {
  auto src = source(0, 2);
  auto dep = shuffle(0, src, 2);
  auto a = shuffled(1, {dep}, "group_by_key");
  auto b = narrow(2, {a}, "map");
  dag_planner dag;
  dag.submit_job(a, {0, 1}, 0);
  dag.submit_job(b, {0}, 1);
  auto ready = dag.take_ready_stages();
  REQUIRE(ids(ready) == std::vector<uint32_t>{0}); // submitted once
  complete_map_stage(dag, ready[0]);
  ready = dag.take_ready_stages();
  REQUIRE(ids(ready) == std::vector<uint32_t>{1, 2});
  CHECK(ready[0].job_id == 0);
  CHECK(ready[1].job_id == 1);
}

TEST_CASE("empty and invalid partition lists") {
  dag_planner dag;
  auto src = source(0, 2, "parallelize");
  dag.submit_job(src, {}, 0);
  dag.submit_job(src, {2}, 1);
  auto events = dag.take_job_events();
  REQUIRE(events.size() == 2);
  CHECK(events[0].result == job_event::outcome::succeeded);
  CHECK(events[1].result == job_event::outcome::failed);
  CHECK(events[1].message == "Job 1: partition 2 is out of range for parallelize with 2 partitions");
  CHECK(dag.take_ready_stages().empty());
}

TEST_CASE("a fetch failure reruns only the lost map output, then the rest of the stage") {
  auto src = source(0, 3);
  auto result = shuffled(1, {shuffle(0, src, 2)}, "reduce_by_key");
  dag_planner dag;
  dag.submit_job(result, {0, 1}, 0);
  dag.take_ready_stages();
  dag.map_task_completed(0, 0, 0, on("e1"));
  dag.map_task_completed(0, 0, 1, on("e1"));
  dag.map_task_completed(0, 0, 2, on("e2"));
  auto ready = dag.take_ready_stages();
  REQUIRE(ids(ready) == std::vector<uint32_t>{1});
  CHECK(dag.result_task_completed(1, 0, 0));

  auto f = dag.fetch_failed(1, 0, 0, 2u, "e2", "block shuffle_0_2_1 missing");
  CHECK(!f.ignored);
  CHECK(!f.duplicate);
  CHECK(!f.aborted);
  CHECK(f.resubmit_needed);
  CHECK(dag.registry().missing_maps(0) == std::vector<uint32_t>{2});
  auto again = dag.fetch_failed(1, 0, 0, 2u, "e2", "second reader");
  CHECK(again.duplicate);
  CHECK(!again.resubmit_needed);
  CHECK(dag.take_ready_stages().empty()); // waits for resubmit_failed_stages (the actor's delay)

  dag.resubmit_failed_stages();
  ready = dag.take_ready_stages();
  REQUIRE(ids(ready) == std::vector<uint32_t>{0});
  CHECK(ready[0].stage_attempt == 1);
  CHECK(ready[0].partitions == std::vector<uint32_t>{2});
  CHECK(dag.stage(1)->waiting);
  CHECK(dag.fetch_failed(1, 0, 0, 1u, "e1", "late").ignored == false); // same attempt, still dead
  // (the call above only unregisters: the attempt was already counted)
  CHECK(dag.registry().missing_maps(0) == std::vector<uint32_t>{0, 1, 2});

  complete_map_stage(dag, ready[0], "e3");
  ready = dag.take_ready_stages();
  // Outputs 0 and 1 (on e1) went with the late failure: the map stage reruns them first.
  REQUIRE(ids(ready) == std::vector<uint32_t>{0});
  CHECK(ready[0].stage_attempt == 2);
  CHECK(ready[0].partitions == std::vector<uint32_t>{0, 1});
  complete_map_stage(dag, ready[0], "e3");
  ready = dag.take_ready_stages();
  REQUIRE(ids(ready) == std::vector<uint32_t>{1});
  CHECK(ready[0].stage_attempt == 1);
  CHECK(ready[0].partitions == std::vector<uint32_t>{1}); // partition 0 already delivered
  CHECK(dag.fetch_failed(1, 0, 0, 2u, "e3", "stale").ignored); // attempt 0 is old now
  CHECK(dag.result_task_completed(1, 1, 1));
  auto events = dag.take_job_events();
  REQUIRE(events.size() == 1);
  CHECK(events[0].result == job_event::outcome::succeeded);
}

TEST_CASE("a corrupt block loses only that map output; an unreachable holder loses all of its outputs") {
  auto src = source(0, 4);
  auto result = shuffled(1, {shuffle(0, src, 2)}, "reduce_by_key");
  dag_planner dag;
  dag.submit_job(result, {0, 1}, 0);
  dag.take_ready_stages();
  dag.map_task_completed(0, 0, 0, on("e1"));
  dag.map_task_completed(0, 0, 1, on("e1"));
  dag.map_task_completed(0, 0, 2, on("e2"));
  dag.map_task_completed(0, 0, 3, on("e2"));
  REQUIRE(ids(dag.take_ready_stages()) == std::vector<uint32_t>{1});

  // e1 is alive and served the block, which failed its checksum: only map output 1 reruns.
  auto f = dag.fetch_failed(1, 0, 0, 1u, "e1", "checksum mismatch", true);
  CHECK(f.resubmit_needed);
  CHECK(dag.registry().missing_maps(0) == std::vector<uint32_t>{1});
  dag.resubmit_failed_stages();
  auto ready = dag.take_ready_stages();
  REQUIRE(ids(ready) == std::vector<uint32_t>{0});
  CHECK(ready[0].partitions == std::vector<uint32_t>{1});
  complete_map_stage(dag, ready[0], "e1");
  ready = dag.take_ready_stages();
  REQUIRE(ids(ready) == std::vector<uint32_t>{1});
  CHECK(ready[0].stage_attempt == 1);

  // e2 does not answer: both of its outputs go, and that attempt reruns them together.
  f = dag.fetch_failed(1, 1, 0, 2u, "e2", "connection refused", false);
  CHECK(f.resubmit_needed);
  CHECK(dag.registry().missing_maps(0) == std::vector<uint32_t>{2, 3});
  dag.resubmit_failed_stages();
  ready = dag.take_ready_stages();
  REQUIRE(ids(ready) == std::vector<uint32_t>{0});
  CHECK(ready[0].partitions == std::vector<uint32_t>{2, 3});
}

TEST_CASE("too many consecutive fetch failures fail the job with the reason") {
  auto src = source(0, 1);
  auto result = shuffled(1, {shuffle(0, src, 1)}, "reduce_by_key");
  dag_settings settings;
  settings.max_consecutive_attempts = 2;
  dag_planner dag(settings);
  dag.submit_job(result, {0}, 3);
  complete_map_stage(dag, dag.take_ready_stages()[0]);
  dag.take_ready_stages();
  CHECK(dag.fetch_failed(1, 0, 0, 0u, "e1", "connection refused").resubmit_needed);
  dag.resubmit_failed_stages();
  auto ready = dag.take_ready_stages();
  REQUIRE(ids(ready) == std::vector<uint32_t>{0});
  complete_map_stage(dag, ready[0], "e2");
  ready = dag.take_ready_stages();
  REQUIRE(ids(ready) == std::vector<uint32_t>{1});
  CHECK(ready[0].stage_attempt == 1);
  auto f = dag.fetch_failed(1, 1, 0, 0u, "e2", "checksum mismatch in shuffle_0_0_0");
  CHECK(f.aborted);
  auto events = dag.take_job_events();
  REQUIRE(events.size() == 1);
  CHECK(events[0].job_id == 3);
  CHECK(events[0].result == job_event::outcome::failed);
  CHECK(events[0].message ==
        "Job 3 aborted due to stage failure: Stage 1 (reduce_by_key at stage 1) has failed the maximum allowable "
        "number of times: 2. Most recent failure reason: checksum mismatch in shuffle_0_0_0");
  CHECK(dag.take_cancelled_stages().empty());
  CHECK(dag.take_ready_stages().empty());
}

TEST_CASE("a lost executor's outputs become missing and late reports from it are ignored") {
  auto src = source(0, 3);
  auto result = shuffled(1, {shuffle(0, src, 1)}, "count_by_key");
  dag_planner dag;
  dag.submit_job(result, {0}, 0);
  dag.take_ready_stages();
  CHECK(dag.map_task_completed(0, 0, 0, on("e1")));
  CHECK(dag.map_task_completed(0, 0, 1, on("e2")));
  CHECK(dag.executor_lost("e1", "host-e1", false) == std::vector<uint32_t>{0});
  CHECK(dag.registry().missing_maps(0) == std::vector<uint32_t>{0, 2});
  dag.map_task_resubmitted(0, 0, 0);               // the task set re-queued map 0
  CHECK(!dag.map_task_completed(0, 0, 2, on("e1"))); // e1 is gone: bogus completion
  CHECK(dag.map_task_completed(0, 0, 2, on("e2")));
  CHECK(dag.take_ready_stages().empty());          // still waiting for map 0
  CHECK(dag.map_task_completed(0, 0, 0, on("e3")));
  CHECK(ids(dag.take_ready_stages()) == std::vector<uint32_t>{1});
}

TEST_CASE("a map stage whose outputs vanished while it ran gets a new attempt") {
  auto src = source(0, 2);
  auto result = shuffled(1, {shuffle(0, src, 1)}, "distinct");
  dag_planner dag;
  dag.submit_job(result, {0}, 0);
  dag.take_ready_stages();
  dag.map_task_completed(0, 0, 0, on("e1"));
  dag.executor_lost("e1", "host-e1", false);
  dag.map_task_completed(0, 0, 1, on("e2"));
  auto ready = dag.take_ready_stages();
  REQUIRE(ids(ready) == std::vector<uint32_t>{0});
  CHECK(ready[0].stage_attempt == 1);
  CHECK(ready[0].partitions == std::vector<uint32_t>{0});
}

TEST_CASE("an aborted task set fails its jobs and cancels stages nobody needs") {
  auto a = source(0, 2);
  auto b = source(1, 2);
  auto join = shuffled(2, {shuffle(0, a, 2), shuffle(1, b, 2)}, "join");
  dag_planner dag;
  dag.submit_job(join, {0, 1}, 0);
  CHECK(ids(dag.take_ready_stages()) == std::vector<uint32_t>{0, 1});
  dag.task_set_failed(0, 1, "stale attempt"); // no such attempt: ignored
  CHECK(dag.take_job_events().empty());
  dag.task_set_failed(0, 0, "Task 1 in stage 0.0 failed 4 times, most recent failure: boom");
  auto events = dag.take_job_events();
  REQUIRE(events.size() == 1);
  CHECK(events[0].message ==
        "Job 0 aborted due to stage failure: Task 1 in stage 0.0 failed 4 times, most recent failure: boom");
  CHECK(dag.take_cancelled_stages() == std::vector<stage_ref>{{0, 0}, {1, 0}});
  CHECK(!dag.cancel_job(0));
}

TEST_CASE("cancel_job fails the job and cancels its running stages") {
  auto src = source(0, 2);
  auto result = shuffled(1, {shuffle(0, src, 2)}, "reduce_by_key");
  dag_planner dag;
  dag.submit_job(result, {0, 1}, 4);
  dag.take_ready_stages();
  CHECK(dag.cancel_job(4, "user request"));
  auto events = dag.take_job_events();
  REQUIRE(events.size() == 1);
  CHECK(events[0].message == "Job 4 cancelled: user request");
  CHECK(dag.take_cancelled_stages() == std::vector<stage_ref>{{0, 0}});
  // A late output of the cancelled attempt is still kept for the next job.
  CHECK(dag.map_task_completed(0, 0, 0, on("e1")));
  dag.submit_job(result, {0}, 5);
  auto ready = dag.take_ready_stages();
  REQUIRE(ids(ready) == std::vector<uint32_t>{0});
  CHECK(ready[0].stage_attempt == 1);
  CHECK(ready[0].partitions == std::vector<uint32_t>{1});
}

TEST_CASE("preferred hosts: input splits through narrow parents, reducers near their largest input") {
  auto src = source(0, 2, "text_file", {{"h1", "h2"}, {"h3"}});
  auto mapped = narrow(1, {src}, "map");
  auto result = shuffled(2, {shuffle(0, mapped, 2)}, "reduce_by_key");
  dag_planner dag;
  dag.set_cache_locator([](uint32_t rdd, uint32_t p) {
    return rdd == 1 && p == 1 ? std::vector<executor_location>{{"e7", "h7"}} : std::vector<executor_location>{};
  });
  dag.submit_job(result, {0, 1}, 0);
  auto ready = dag.take_ready_stages();
  REQUIRE(ready.size() == 1);
  CHECK(ready[0].preferred_hosts == std::vector<std::vector<std::string>>{{"h1", "h2"}, {"h7"}});
  CHECK(ready[0].preferred_executors == std::vector<std::vector<std::string>>{{}, {"e7"}});
  dag.map_task_completed(0, 0, 0, on("e1", "h1", {100, 10}));
  dag.map_task_completed(0, 0, 1, on("e3", "h3", {10, 100}));
  ready = dag.take_ready_stages();
  REQUIRE(ready.size() == 1);
  CHECK(ready[0].preferred_hosts == std::vector<std::vector<std::string>>{{"h1"}, {"h3"}});
}
