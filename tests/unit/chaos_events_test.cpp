// chaos/events, chaos/verdict, chaos/report: event log lines, the growing-file reader, the trigger
// engine, the verdict's checks and the report.
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "tests/support/temp_dir.hpp"
#include "chaos/events.hpp"
#include "chaos/report.hpp"
#include "chaos/verdict.hpp"

using namespace ember::chaos;

namespace {

event ev(const std::string& line) {
  auto e = parse_event(line);
  REQUIRE(e.has_value());
  return *e;
}

std::string task_start(int task, int stage, const std::string& exec) {
  return R"({"taskStart":{"taskId":")" + std::to_string(task) + R"(","attempt":0,"stageId":)" + std::to_string(stage)
         + R"(,"stageAttempt":0,"partition":0,"executorId":")" + exec + R"(","launchTime":"1000"}})";
}

std::string task_end(int task, int stage, const std::string& exec, const std::string& state) {
  return R"({"taskEnd":{"taskId":")" + std::to_string(task) + R"(","attempt":0,"stageId":)" + std::to_string(stage)
         + R"(,"executorId":")" + exec + R"(","finishTime":"2000","state":")" + state + R"(","reason":""}})";
}

using ember_test::temp_dir;

} // namespace

TEST_CASE("event lines: the fields triggers and verdicts read") {
  auto e = ev(R"({"taskEnd":{"taskId":"41","attempt":1,"stageId":2,"stageAttempt":0,"executorId":"3","launchTime":"100","finishTime":"1795637570495","state":"lost","reason":"executorLost: gone"}})");
  CHECK(e.kind == "taskEnd");
  CHECK(e.task_id == "41");
  CHECK(e.attempt == 1);
  CHECK(e.stage == 2);
  CHECK(e.executor_id == "3");
  CHECK(e.time_ms == 1795637570495);
  CHECK(e.state == "lost");
  CHECK(e.reason == "executorLost: gone");

  auto s = ev(R"({"stageSubmitted":{"stageId":1,"attempt":2,"numTasks":4,"time":"77"}})");
  CHECK(s.kind == "stageSubmitted");
  CHECK(s.stage == 1);
  CHECK(s.attempt == 2);
  CHECK(s.time_ms == 77);

  auto r = ev(R"({"executorRemoved":{"executorId":"1","cause":"connectionLost","message":"m","time":"5"}})");
  CHECK(r.executor_id == "1");
  CHECK(r.cause == "connectionLost");
  CHECK(r.reason == "m");
  CHECK(r.time_ms == 5);

  auto ok = ev(R"({"jobEnd":{"jobId":0,"time":"9","result":{"ok":null}}})");
  CHECK(ok.job_ok);
  auto bad = ev(R"({"jobEnd":{"jobId":0,"time":"9","result":{"error":"Job 0 failed"}}})");
  CHECK_FALSE(bad.job_ok);
  CHECK(bad.job_error == "Job 0 failed");

  CHECK_FALSE(parse_event("{").has_value());
  CHECK_FALSE(parse_event(R"({"a":{},"b":{}})").has_value());
  CHECK_FALSE(parse_event(R"({"a":1})").has_value());
}

TEST_CASE("log_follower returns complete lines as the file grows, from a file that appears late") {
  temp_dir tmp;
  auto path = (tmp.path / "log.jsonl").string();
  log_follower f(path);
  CHECK(f.poll().empty());
  std::ofstream out(path, std::ios::binary);
  out << "one\ntw" << std::flush;
  CHECK(f.poll() == std::vector<std::string>{"one"});
  CHECK(f.poll().empty());
  out << "o\n\nthree\n" << std::flush;
  CHECK(f.poll() == std::vector<std::string>{"two", "three"});
  // Renamed while open (the driver renames its log once the master names the application).
  std::filesystem::rename(path, tmp.path / "app-1.jsonl");
  out << "four\n" << std::flush;
  CHECK(f.poll() == std::vector<std::string>{"four"});
  // Known by its inode under its new name: the harness does not follow it twice.
  struct stat st {};
  REQUIRE(::stat((tmp.path / "app-1.jsonl").c_str(), &st) == 0);
  CHECK(f.inode() == static_cast<std::uint64_t>(st.st_ino));
  CHECK(log_follower(path).inode() == 0);
}

TEST_CASE("triggers fire once, when their event arrives") {
  trigger stage1{trigger::kind::stage_started, 0, 1, 1};
  trigger two_tasks{trigger::kind::tasks_finished, 0, 0, 2};
  trigger second_exec{trigger::kind::executor_registered, 0, 0, 2};
  trigger removed{trigger::kind::executor_removed, 0, 0, 1};
  trigger later{trigger::kind::after_ms, 500, 0, 1};
  trigger_engine eng({stage1, two_tasks, second_exec, removed, later});

  CHECK(eng.on_event(ev(R"({"executorAdded":{"executorId":"0","time":"1"}})")).empty());
  CHECK(eng.on_event(ev(R"({"executorAdded":{"executorId":"1","time":"1"}})")) == std::vector<size_t>{2});
  CHECK(eng.on_event(ev(R"({"executorAdded":{"executorId":"2","time":"1"}})")).empty());  // fired already
  CHECK(eng.on_event(ev(R"({"stageSubmitted":{"stageId":0,"attempt":0,"time":"1"}})")).empty());
  CHECK(eng.on_event(ev(task_start(0, 0, "0"))).empty());
  CHECK(eng.on_event(ev(task_start(1, 0, "1"))).empty());
  CHECK(eng.on_event(ev(task_start(2, 0, "1"))).empty());
  CHECK(eng.executors_running(0) == std::vector<std::string>{"0", "1"});
  CHECK(eng.executors_running(1).empty());
  CHECK(eng.on_event(ev(task_end(0, 0, "0", "finished"))).empty());
  CHECK(eng.executors_running(0) == std::vector<std::string>{"1"});
  CHECK(eng.on_event(ev(task_end(1, 0, "1", "failed"))).empty());  // a failed task does not count
  CHECK(eng.on_event(ev(task_end(2, 0, "1", "finished"))) == std::vector<size_t>{1});
  CHECK(eng.finished_tasks(0) == std::vector<std::string>{"0", "2"});
  CHECK(eng.finished_tasks(5).empty());
  CHECK(eng.on_time(499).empty());
  CHECK(eng.on_time(500) == std::vector<size_t>{4});
  CHECK(eng.on_time(900).empty());
  CHECK(eng.on_event(ev(R"({"stageSubmitted":{"stageId":1,"attempt":0,"time":"1"}})")) == std::vector<size_t>{0});
  CHECK(eng.last_removed().empty());
  CHECK(eng.on_event(ev(R"({"executorRemoved":{"executorId":"1","cause":"x","time":"1"}})")) == std::vector<size_t>{3});
  CHECK(eng.last_removed() == "1");
  CHECK(eng.fired(0));
}

TEST_CASE("running executors sort by number") {
  trigger_engine eng({});
  eng.on_event(ev(task_start(0, 3, "10")));
  eng.on_event(ev(task_start(1, 3, "9")));
  CHECK(eng.executors_running(3) == std::vector<std::string>{"9", "10"});
}

TEST_CASE("observed counts retries, removals and job ends; faults get detection and recovery times") {
  observed o;
  o.add(ev(R"({"executorAdded":{"executorId":"0","time":"1"}})"));
  o.add(ev(R"({"stageSubmitted":{"stageId":0,"attempt":0,"time":"1"}})"));
  o.add(ev(task_end(0, 0, "0", "lost")));
  o.add(ev(task_end(1, 0, "0", "failed")));
  o.add(ev(task_end(2, 0, "0", "killed")));
  o.add(ev(R"({"executorRemoved":{"executorId":"0","cause":"connectionLost","message":"reset","time":"1300"}})"));
  o.add(ev(R"({"stageSubmitted":{"stageId":0,"attempt":1,"time":"1"}})"));
  o.add(ev(R"({"jobEnd":{"jobId":0,"time":"2000","result":{"ok":null}}})"));
  o.add(ev(R"({"jobEnd":{"jobId":1,"time":"2500","result":{"error":"boom"}}})"));
  CHECK(o.events == 9);
  CHECK(o.executors_added == 1);
  CHECK(o.tasks_lost == 1);
  CHECK(o.tasks_failed == 1);
  CHECK(o.stages_retried == 1);
  CHECK(o.removed_times == std::vector<std::int64_t>{1300});
  CHECK(o.removed_causes == std::vector<std::string>{"executor 0: connectionLost: reset"});
  CHECK(o.jobs_ok == 1);
  CHECK(o.jobs_failed == 1);
  CHECK(o.job_error == "boom");
  CHECK(o.last_job_end_ms == 2500);

  CHECK(o.executors_lost() == 1);
  o.add(ev(R"({"executorRemoved":{"executorId":"1","cause":"connectionLost","message":"","time":"2600"}})"));
  CHECK(o.removed_times.size() == 2);
  CHECK(o.executors_lost() == 1);  // removed as the application stopped, after its last job

  std::vector<fault_record> faults(4);
  faults[0].fired = true;
  faults[0].detectable = true;
  faults[0].fired_ms = 1000;
  faults[1].fired = true;
  faults[1].detectable = true;
  faults[1].fired_ms = 2550;  // after the last job: recovery does not apply
  faults[2].fired = false;
  faults[3].fired = true;  // a corrupted file: the executors removed are not its detection
  faults[3].fired_ms = 1000;
  time_faults(faults, o);
  CHECK(faults[0].detection_ms == 300);
  CHECK(faults[0].recovery_ms == 1500);
  CHECK(faults[1].detection_ms == 50);
  CHECK_FALSE(faults[1].recovery_ms.has_value());
  CHECK_FALSE(faults[2].recovery_ms.has_value());
  CHECK_FALSE(faults[3].detection_ms.has_value());
  CHECK(faults[3].recovery_ms == 1500);
}

TEST_CASE("judge: each expectation that does not hold is one reason") {
  scenario s;
  s.timeout_s = 30;
  s.expect.min_executors_removed = 1;
  s.expect.min_tasks_retried = 1;
  s.expect.min_stages_retried = 1;
  observed o;
  std::vector<fault_record> faults(2);
  faults[0].name = "a";
  faults[0].what = "stage 1 started -> SIGKILL the driver";
  faults[1].name = "b";
  faults[1].fired = true;
  faults[1].error = "no executor runs a task of stage 0";
  run_facts f;
  f.exit_code = 0;
  f.output_difference = "missing line 'a\t1' (2 lines expected, 1 found)";
  f.leftover_processes = {"pid 7: x"};
  f.leftover_files = {"/tmp/x/local/f"};
  auto v = judge(s, o, faults, f);
  CHECK_FALSE(v.pass);
  CHECK(v.failures == std::vector<std::string>{
                        "fault 'a' never fired: its trigger (stage 1 started -> SIGKILL the driver) did not match",
                        "fault 'b' could not be injected: no executor runs a task of stage 0",
                        "the output differs from the reference: missing line 'a\t1' (2 lines expected, 1 found)",
                        "executors removed: 0, expected at least 1",
                        "tasks failed or lost: 0, expected at least 1",
                        "stage attempts > 0: 0, expected at least 1",
                        "process left behind: pid 7: x",
                        "file left behind: /tmp/x/local/f"});

  scenario ok;
  run_facts broken;
  broken.setup_error = "gen_text failed (exit 127)";
  broken.leftover_processes = {"pid 9: y"};
  CHECK(judge(s, o, faults, broken).failures
        == std::vector<std::string>{"setup: gen_text failed (exit 127)", "process left behind: pid 9: y"});
  run_facts good;
  good.exit_code = 0;
  CHECK(judge(ok, observed{}, {}, good).pass);
  good.exit_code = 1;
  CHECK(judge(ok, observed{}, {}, good).failures == std::vector<std::string>{"the job failed (exit code 1)"});
  good.timed_out = true;
  CHECK(judge(ok, observed{}, {}, good).failures
        == std::vector<std::string>{"the job did not end within 180 s (timeout_s)"});

  scenario fails;
  fails.expect.success = false;
  fails.expect.error_contains = "failed 4 times";
  run_facts failed;
  failed.exit_code = 1;
  failed.driver_stderr = "wordcount: Job 0 aborted: Task 3 in stage 0 failed 4 times; last: boom";
  CHECK(judge(fails, observed{}, {}, failed).pass);
  failed.driver_stderr = "wordcount: cannot reach the master";
  CHECK(judge(fails, observed{}, {}, failed).failures
        == std::vector<std::string>{"the job failed without the expected error 'failed 4 times'"});
  failed.exit_code = 0;
  CHECK(judge(fails, observed{}, {}, failed).failures
        == std::vector<std::string>{"the job succeeded but the scenario expects it to fail"});
}

TEST_CASE("judge, cluster deploy mode: the master's final state, the relaunches, one event log per run") {
  scenario s;
  s.job.deploy_mode = "cluster";
  s.job.supervise = true;
  s.expect.driver_restarts = 1;
  run_facts f;
  f.exit_code = 0;
  f.driver_id = "driver-1";
  f.driver_state = "finished";
  f.driver_restarts = 1;
  f.driver_runs = 2;
  CHECK(judge(s, observed{}, {}, f).pass);
  f.driver_restarts = 2;
  f.driver_runs = 2;
  CHECK(judge(s, observed{}, {}, f).failures
        == std::vector<std::string>{"driver relaunches: 2, expected 1",
                                    "event logs of 2 driver run(s), but the master counted 2 relaunch(es)"});
  f.driver_restarts = 1;
  f.driver_state = "relaunching";
  f.exit_code = 137;
  CHECK(judge(s, observed{}, {}, f).failures
        == std::vector<std::string>{"the job failed (exit code 137)",
                                    "the driver ended relaunching (the master's state), expected finished"});

  scenario lost = s;
  lost.job.supervise = false;
  lost.expect.success = false;
  lost.expect.driver_restarts = 0;
  run_facts g;
  g.exit_code = 137;
  g.driver_id = "driver-2";
  g.driver_state = "failed";
  g.driver_runs = 1;
  CHECK(judge(lost, observed{}, {}, g).pass);
  g.driver_state = "finished";
  g.exit_code = 0;
  CHECK(judge(lost, observed{}, {}, g).failures
        == std::vector<std::string>{"the job succeeded but the scenario expects it to fail",
                                    "the driver ended finished (the master's state), expected failed or killed"});
  g.driver_state = "";
  g.exit_code = -1;
  CHECK(judge(lost, observed{}, {}, g).failures
        == std::vector<std::string>{"the driver ended unknown (the master's state), expected failed or killed"});
}

TEST_CASE("compare_lines: multisets of lines across files") {
  temp_dir tmp;
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(tmp.path / name, std::ios::binary) << text;
    return (tmp.path / name).string();
  };
  auto ref = write("ref", "a\t1\nb\t2\nc\t3\n");
  auto p0 = write("p0", "c\t3\na\t1\n");
  auto p1 = write("p1", "b\t2\n");
  auto p2 = write("p2", "b\t3\n");
  auto p3 = write("p3", "b\t2\nb\t2\n");
  CHECK_FALSE(compare_lines({ref}, {p0, p1}).has_value());
  CHECK(compare_lines({ref}, {p0, p2}) == "missing line 'b\t2' (3 lines expected, 3 found)");
  CHECK(compare_lines({ref}, {p0, p3}) == "unexpected line 'b\t2' (3 lines expected, 4 found)");
  CHECK(compare_lines({ref}, {p0}) == "missing line 'b\t2' (3 lines expected, 2 found)");
  CHECK(compare_lines({ref}, {(tmp.path / "none").string()}) == "cannot read the output " + (tmp.path / "none").string());
}

TEST_CASE("the report: a table row and a JSON object per scenario") {
  scenario_result r;
  r.name = "kill-in-map";
  r.file = "tests/fault/kill.json";
  r.seed = 11;
  r.seconds = 2.5;
  r.facts.exit_code = 0;
  r.seen.removed_times = {1300, 1400};
  r.seen.jobs_ok = 1;
  r.seen.removed_at_last_job_end = 1;
  r.seen.tasks_lost = 2;
  r.seen.stages_retried = 1;
  fault_record f;
  f.name = "k";
  f.fired = true;
  f.fired_ms = 1000;
  f.detection_ms = 300;
  f.recovery_ms = 1500;
  r.faults = {f};
  r.outcome.pass = true;
  scenario_result bad;
  bad.name = "wrong";
  bad.facts.exit_code = 1;
  bad.outcome.failures = {"the job failed (exit code 1)"};
  auto table = summary_table({r, bad});
  CHECK(table
        == "scenario                       pass  job      faults detect_ms  recov_ms   rm tasks stages    secs\n"
           "kill-in-map                    PASS  ok       1/1          300      1500    1     2      1     2.5\n"
           "wrong                          FAIL  failed   0/0            -         -    0     0      0     0.0\n"
           "    - the job failed (exit code 1)\n"
           "1 of 2 scenario(s) passed\n");
  auto j = nlohmann::json::parse(report_json({r, bad}, 42));
  CHECK(j["seed"] == 42);
  CHECK(j["passed"] == 1);
  CHECK(j["failed"] == 1);
  CHECK(j["scenarios"][0]["name"] == "kill-in-map");
  CHECK(j["scenarios"][0]["seed"] == 11);
  CHECK(j["scenarios"][0]["pass"] == true);
  CHECK(j["scenarios"][0]["tasksLost"] == 2);
  CHECK(j["scenarios"][0]["executorsLost"] == 1);
  CHECK(j["scenarios"][0]["faults"][0]["detectionMs"] == 300);
  CHECK(j["scenarios"][0]["faults"][0]["recoveryMs"] == 1500);
  CHECK(j["scenarios"][1]["failures"][0] == "the job failed (exit code 1)");
  CHECK(j["scenarios"][1]["faults"].empty());
  CHECK_FALSE(j["scenarios"][0].contains("driverId"));  // client mode

  scenario_result cluster;
  cluster.name = "supervised";
  cluster.facts.exit_code = 0;
  cluster.facts.driver_id = "driver-7";
  cluster.facts.driver_state = "finished";
  cluster.facts.driver_restarts = 1;
  cluster.facts.driver_runs = 2;
  cluster.outcome.pass = true;
  CHECK(summary_table({cluster})
        == "scenario                       pass  job      faults detect_ms  recov_ms   rm tasks stages    secs\n"
           "supervised                     PASS  ok       0/0            -         -    0     0      0     0.0\n"
           "    driver driver-7 finished after 2 run(s), 1 relaunch(es) (cluster mode)\n"
           "1 of 1 scenario(s) passed\n");
  auto c = nlohmann::json::parse(report_json({cluster}, 1))["scenarios"][0];
  CHECK(c["driverId"] == "driver-7");
  CHECK(c["driverState"] == "finished");
  CHECK(c["driverRestarts"] == 1);
  CHECK(c["driverRuns"] == 2);
}

TEST_CASE("compare_ordered: part files in order must be the reference line for line") {
  temp_dir tmp;
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(tmp.path / name, std::ios::binary) << text;
    return (tmp.path / name).string();
  };
  auto ref = write("ref", "a\nb\nc\n");
  auto p0 = write("p0", "a\n");
  auto p1 = write("p1", "b\nc\n");
  auto p2 = write("p2", "c\nb\n");
  CHECK_FALSE(compare_ordered({ref}, {p0, p1}).has_value());
  CHECK(compare_ordered({ref}, {p1, p0}) == "line 1 is 'b', expected 'a' (3 lines expected, 3 found)");
  CHECK(compare_ordered({ref}, {p0, p2}) == "line 2 is 'c', expected 'b' (3 lines expected, 3 found)");
  CHECK(compare_ordered({ref}, {p0}) == "output ends early (3 lines expected, 1 found)");
  CHECK(compare_ordered({ref}, {p0, p1, p0}) == "output goes on past the reference (3 lines expected, 4 found)");
}
