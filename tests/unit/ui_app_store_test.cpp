// The UI's application store and its REST views (ui/app_store.hpp, ui/rest_api.hpp): events in,
// Spark-shaped JSON out. The numbers each check expects are worked out by hand from the events.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "protocol/wire.hpp"
#include "ui/app_source.hpp"
#include "ui/prometheus.hpp"
#include "ui/rest_api.hpp"

using namespace ember;
using nlohmann::json;

namespace {

template <class F>
void feed(ui::app_store& s, F&& fill) {
  auto msg = make_wire<proto::ListenerEvent>(std::forward<F>(fill));
  s.apply(msg.reader());
}

void app_start(ui::app_store& s, const char* id = "app-1") {
  feed(s, [&](proto::ListenerEvent::Builder e) {
    auto b = e.initApplicationStart();
    b.setAppId(id);
    b.setAppName("wordcount");
    b.setUser("alice");
    b.setTime(1'000);
  });
}

// `tasks` given: the JobStart lists each stage's task count (stageInfos), as the driver's do.
void job_start(ui::app_store& s, uint32_t job, std::vector<uint32_t> stages, uint64_t t,
               std::vector<uint32_t> tasks = {}) {
  feed(s, [&](proto::ListenerEvent::Builder e) {
    auto b = e.initJobStart();
    b.setJobId(job);
    auto ids = b.initStageIds(static_cast<unsigned>(stages.size()));
    for (unsigned i = 0; i < stages.size(); ++i)
      ids.set(i, stages[i]);
    if (!tasks.empty()) {
      auto infos = b.initStageInfos(static_cast<unsigned>(stages.size()));
      for (unsigned i = 0; i < stages.size(); ++i) {
        infos[i].setStageId(stages[i]);
        infos[i].setName("stage " + std::to_string(stages[i]));
        infos[i].setNumTasks(tasks[i]);
      }
    }
    b.setTime(t);
    b.setDescription("count at test.cpp:1");
  });
}

void job_end(ui::app_store& s, uint32_t job, uint64_t t, const char* error = nullptr) {
  feed(s, [&](proto::ListenerEvent::Builder e) {
    auto b = e.initJobEnd();
    b.setJobId(job);
    b.setTime(t);
    if (error)
      b.getResult().setError(error);
    else
      b.getResult().setOk();
  });
}

void stage_submitted(ui::app_store& s, uint32_t stage, uint32_t attempt, uint32_t tasks, uint64_t t) {
  feed(s, [&](proto::ListenerEvent::Builder e) {
    auto b = e.initStageSubmitted();
    b.setStageId(stage);
    b.setAttempt(attempt);
    b.setNumTasks(tasks);
    b.setName("map at stage");
    b.setTime(t);
    auto ops = b.initOperators(2);
    ops[0].setId(1);
    ops[0].setName("text_file");
    ops[0].setNumPartitions(tasks);
    ops[1].setId(2);
    ops[1].setName("map");
    ops[1].setNumPartitions(tasks);
    ops[1].initParentIds(1).set(0, 1);
  });
}

void stage_completed(ui::app_store& s, uint32_t stage, uint32_t attempt, uint64_t t, const char* failure = "") {
  feed(s, [&](proto::ListenerEvent::Builder e) {
    auto b = e.initStageCompleted();
    b.setStageId(stage);
    b.setAttempt(attempt);
    b.setCompletionTime(t);
    b.setFailureReason(failure);
  });
}

void executor_added(ui::app_store& s, const char* id, uint64_t t) {
  feed(s, [&](proto::ListenerEvent::Builder e) {
    auto b = e.initExecutorAdded();
    b.setExecutorId(id);
    b.setHost("host-a");
    b.setCores(2);
    b.setMaxMemory(1 << 30);
    b.setTime(t);
  });
}

void task_start(ui::app_store& s, uint32_t stage, uint64_t task, uint32_t partition, const char* exec, uint64_t t) {
  feed(s, [&](proto::ListenerEvent::Builder e) {
    auto b = e.initTaskStart();
    b.setTaskId(task);
    b.setStageId(stage);
    b.setPartition(partition);
    b.setExecutorId(exec);
    b.setHost("host-a");
    b.setLocality(proto::Locality::NODE_LOCAL);
    b.setLaunchTime(t);
  });
}

void task_end(ui::app_store& s, uint32_t stage, uint64_t task, uint32_t partition, const char* exec, uint64_t launch,
              uint64_t finish, proto::TaskState state, uint64_t shuffle_write) {
  feed(s, [&](proto::ListenerEvent::Builder e) {
    auto b = e.initTaskEnd();
    b.setTaskId(task);
    b.setStageId(stage);
    b.setPartition(partition);
    b.setExecutorId(exec);
    b.setHost("host-a");
    b.setLocality(proto::Locality::NODE_LOCAL);
    b.setLaunchTime(launch);
    b.setFinishTime(finish);
    b.setState(state);
    if (state != proto::TaskState::FINISHED)
      b.setReason("std::runtime_error: boom");
    auto m = b.initMetrics();
    m.setExecutorRunTimeNs((finish - launch) * 1'000'000);
    m.setShuffleWriteBytes(shuffle_write);
    m.setShuffleWriteRecords(shuffle_write / 10);
  });
}

// Job 0: stages 0 (4 tasks, one failing once and retried) and 1 (never run: skipped).
void one_job(ui::app_store& s) {
  app_start(s);
  executor_added(s, "exec-1", 1'100);
  job_start(s, 0, {0, 1}, 2'000);
  stage_submitted(s, 0, 0, 4, 2'010);
  uint64_t task = 0;
  for (uint32_t p = 0; p < 4; ++p)
    task_start(s, 0, task++, p, "exec-1", 2'100 + p);
  // Durations 100, 200, 300 and a failure; then partition 3 again, 400 ms.
  task_end(s, 0, 0, 0, "exec-1", 2'100, 2'200, proto::TaskState::FINISHED, 1000);
  task_end(s, 0, 1, 1, "exec-1", 2'101, 2'301, proto::TaskState::FINISHED, 2000);
  task_end(s, 0, 2, 2, "exec-1", 2'102, 2'402, proto::TaskState::FINISHED, 3000);
  task_end(s, 0, 3, 3, "exec-1", 2'103, 2'153, proto::TaskState::FAILED, 0);
  task_start(s, 0, 4, 3, "exec-1", 2'500);
  task_end(s, 0, 4, 3, "exec-1", 2'500, 2'900, proto::TaskState::FINISHED, 4000);
  stage_completed(s, 0, 0, 3'000);
  job_end(s, 0, 3'010);
}

}  // namespace

TEST_CASE("a job's counters, stages and tasks as Spark's REST API shows them") {
  ui::app_store s;
  one_job(s);
  auto jobs = s.jobs("");
  REQUIRE(jobs.size() == 1);
  auto j = jobs[0];
  CHECK(j["jobId"] == 0);
  CHECK(j["status"] == "SUCCEEDED");
  CHECK(j["numTasks"] == 4);
  CHECK(j["numCompletedTasks"] == 4);
  CHECK(j["numFailedTasks"] == 1);
  CHECK(j["numActiveTasks"] == 0);
  CHECK(j["numCompletedStages"] == 1);
  CHECK(j["numSkippedStages"] == 1);
  CHECK(j["submissionTime"] == "1970-01-01T00:00:02.000GMT");
  CHECK(j["completionTime"] == "1970-01-01T00:00:03.010GMT");
  CHECK(s.jobs("running").empty());

  auto stages = s.stages("");
  REQUIRE(stages.size() == 2);
  CHECK(stages[0]["stageId"] == 1);
  CHECK(stages[0]["status"] == "SKIPPED");
  CHECK(stages[1]["status"] == "COMPLETE");
  CHECK(stages[1]["numCompleteTasks"] == 4);
  CHECK(stages[1]["numFailedTasks"] == 1);
  CHECK(stages[1]["shuffleWriteBytes"] == 10000);
  CHECK(stages[1]["shuffleWriteRecords"] == 1000);
  CHECK(stages[1]["executorRunTime"] == 100 + 200 + 300 + 50 + 400);
  CHECK(stages[1]["firstTaskLaunchedTime"] == "1970-01-01T00:00:02.100GMT");
  CHECK(stages[1]["operators"][1]["parentIds"] == json::array({1}));

  auto attempt = s.stage_attempt(0, 0);
  REQUIRE(attempt);
  auto summary = (*attempt)["executorSummary"]["exec-1"];
  CHECK(summary["succeededTasks"] == 4);
  CHECK(summary["failedTasks"] == 1);
  CHECK(summary["taskTime"] == 100 + 200 + 300 + 50 + 400);
  CHECK(summary["shuffleWrite"] == 10000);

  auto exec = s.executors(false);
  REQUIRE(exec.size() == 1);
  CHECK(exec[0]["completedTasks"] == 4);
  CHECK(exec[0]["failedTasks"] == 1);
  CHECK(exec[0]["totalShuffleWrite"] == 10000);
  CHECK(exec[0]["maxMemory"] == 1 << 30);
}

TEST_CASE("a planned job counts its stages' tasks from the start, skipped ones included") {
  ui::app_store s;
  app_start(s);
  job_start(s, 0, {0, 1}, 2'000, {4, 3});
  auto j = *s.job(0);
  CHECK(j["numTasks"] == 7);
  auto pending = *s.stage(1);
  CHECK(pending[0]["status"] == "PENDING");
  CHECK(pending[0]["numTasks"] == 3);
  CHECK(pending[0]["name"] == "stage 1");
  stage_submitted(s, 0, 0, 4, 2'010);
  CHECK((*s.job(0))["numTasks"] == 7);  // not counted twice
  stage_completed(s, 0, 0, 2'500);
  job_end(s, 0, 3'000);
  j = *s.job(0);
  CHECK(j["numSkippedStages"] == 1);
  CHECK(j["numSkippedTasks"] == 3);
}

TEST_CASE("task lists page and sort; summaries are nearest-rank quantiles of successful tasks") {
  ui::app_store s;
  one_job(s);
  std::size_t total = 0;
  auto by_runtime = s.task_list(0, 0, 0, 2, ui::task_order::runtime, true, &total);
  REQUIRE(by_runtime);
  CHECK(total == 5);
  REQUIRE(by_runtime->size() == 2);
  CHECK((*by_runtime)[0]["taskId"] == 4);  // 400 ms
  CHECK((*by_runtime)[1]["taskId"] == 2);  // 300 ms
  auto second_page = s.task_list(0, 0, 2, 2, ui::task_order::runtime, true, &total);
  CHECK((*second_page)[0]["taskId"] == 1);
  CHECK((*second_page)[1]["taskId"] == 0);
  auto failed = s.task_list(0, 0, 0, 1, ui::task_order::status, false, &total);
  CHECK((*failed)[0]["status"] == "FAILED");
  CHECK((*failed)[0]["errorMessage"] == "std::runtime_error: boom");
  CHECK((*failed)[0]["taskLocality"] == "NODE_LOCAL");

  auto q = s.task_summary(0, 0, {0, 0.25, 0.5, 0.75, 1});
  REQUIRE(q);
  // Successful durations sorted: 100 200 300 400; round(q * 3) picks 0, 1, 2, 2, 3.
  CHECK((*q)["duration"] == json::array({100.0, 200.0, 300.0, 300.0, 400.0}));
  CHECK((*q)["shuffleWriteMetrics"]["writeBytes"] == json::array({1000.0, 2000.0, 3000.0, 3000.0, 4000.0}));
  CHECK_FALSE(s.task_summary(9, 0, {0.5}));
}

TEST_CASE("retention bounds jobs, stages and tasks but not the counters") {
  ui::retention r;
  r.jobs = 2;
  r.stages = 3;
  r.tasks = 2;
  ui::app_store s(r);
  app_start(s);
  executor_added(s, "exec-1", 1'100);
  for (uint32_t job = 0; job < 5; ++job) {
    job_start(s, job, {job}, 2'000 + job);
    stage_submitted(s, job, 0, 3, 2'000 + job);
    for (uint64_t t = 0; t < 3; ++t) {
      uint64_t id = job * 10 + t;
      task_start(s, job, id, static_cast<uint32_t>(t), "exec-1", 3'000);
      task_end(s, job, id, static_cast<uint32_t>(t), "exec-1", 3'000, 3'010, proto::TaskState::FINISHED, 1);
    }
    stage_completed(s, job, 0, 4'000);
    job_end(s, job, 4'000);
  }
  CHECK(s.retained_jobs() == 2);
  CHECK(s.retained_stages() == 3);
  CHECK(s.retained_tasks() == 3 * 2);
  CHECK(s.jobs("")[0]["jobId"] == 4);
  CHECK_FALSE(s.job(0));
  auto st = s.stage_attempt(4, 0);
  REQUIRE(st);
  CHECK((*st)["numCompleteTasks"] == 3);  // counted, though only two are retained
  CHECK(s.totals().tasks_succeeded == 15);
  CHECK(s.executors(true)[0]["completedTasks"] == 15);
}

TEST_CASE("REST: paths, JSON errors, paging header") {
  ui::live_app app{ui::retention{}};
  app.update([](ui::app_store& s) { one_job(s); });
  auto get = [&](const std::string& path, ui::query_params q = {}) { return ui::rest_request(app, path, q); };
  auto apps = get("/applications");
  CHECK(apps.status == 200);
  CHECK(json::parse(apps.body)[0]["id"] == "app-1");
  CHECK(json::parse(apps.body)[0]["attempts"][0]["completed"] == false);
  CHECK(json::parse(get("/applications", {{"status", "completed"}}).body).empty());
  CHECK(get("/applications/app-1/jobs/0").status == 200);
  auto missing = get("/applications/app-1/jobs/7");
  CHECK(missing.status == 404);
  CHECK(json::parse(missing.body)["error"] == "unknown job 7");
  CHECK(get("/applications/nope/jobs").status == 404);
  CHECK(get("/applications/app-1/stages/x").status == 400);
  CHECK(get("/applications/app-1/stages/0/0/taskList", {{"sortBy", "bogus"}}).status == 400);
  auto page = get("/applications/app-1/stages/0/0/taskList", {{"offset", "1"}, {"length", "2"}, {"sortBy", "ID"}});
  CHECK(page.status == 200);
  CHECK(json::parse(page.body).size() == 2);
  CHECK(json::parse(page.body)[0]["taskId"] == 1);
  REQUIRE(page.headers.size() == 1);
  CHECK(page.headers[0] == std::pair<std::string, std::string>{"X-Total-Count", "5"});
  CHECK(get("/applications/app-1/stages/0/0/taskSummary", {{"quantiles", "0.5,2"}}).status == 400);
  CHECK(get("/applications/app-1/stages/1").status == 200);
  CHECK(get("/applications/app-1/allexecutors").status == 200);
  CHECK(get("/applications/app-1/environment").status == 200);
  CHECK(get("/applications/app-1/bogus").status == 404);
}

TEST_CASE("Prometheus text: families, labels escaped") {
  ui::prometheus_writer w;
  w.family("ember_x_total", ui::prometheus_writer::kind::counter, "Things.");
  w.sample("ember_x_total", 3, {{"executor_id", "a\"b\\c\nd"}});
  w.sample("ember_x_total", 0.5);
  CHECK(w.text() ==
        "# HELP ember_x_total Things.\n# TYPE ember_x_total counter\n"
        "ember_x_total{executor_id=\"a\\\"b\\\\c\\nd\"} 3\nember_x_total 0.5\n");
  ui::app_store s;
  one_job(s);
  ui::prometheus_writer d;
  ui::write_driver_metrics(d, s);
  CHECK(d.text().find("ember_driver_tasks_total{app_id=\"app-1\",state=\"succeeded\"} 4\n") != std::string::npos);
  CHECK(d.text().find("ember_driver_tasks_total{app_id=\"app-1\",state=\"failed\"} 1\n") != std::string::npos);
  CHECK(d.text().find("ember_executor_shuffle_write_bytes_total{app_id=\"app-1\",executor_id=\"exec-1\",host=\"host-a\"} 10000\n") !=
        std::string::npos);
}
