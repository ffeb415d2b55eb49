// `ember chaos` end to end (label fault): a fast subset of tests/fault through the real binary
// (supervised cluster-mode driver kills included), each verdict read from the JSON report; and a
// scenario with a deliberately wrong expectation, which the harness must judge FAIL with the exact
// reasons and exit code 1.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "tests/support/files.hpp"
#include "tests/support/process.hpp"

namespace {

namespace fs = std::filesystem;

const fs::path bin_dir = EMBER_BIN_DIR;
const fs::path fault_dir = fs::path(__FILE__).parent_path().parent_path() / "fault";

struct chaos_run {
  int exit_code = -1;
  std::string out;
  nlohmann::json report;
};

using ember_test::slurp;

std::string quoted(const fs::path& p) { return ember_test::quoted(p.string()); }

chaos_run run_chaos(const std::string& scenarios, const std::string& tag) {
  auto tmp = fs::temp_directory_path() / ("chaos-test-" + tag + "-" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  auto report = tmp / "report.json";
  std::string cmd = quoted(bin_dir / "ember");
  cmd.append(" chaos --report ").append(quoted(report)).append(" ").append(scenarios);
  cmd.append(" >").append(quoted(tmp / "out")).append(" 2>").append(quoted(tmp / "err"));
  int status = std::system(cmd.c_str());
  chaos_run r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(tmp / "out");
  MESSAGE(r.out);
  MESSAGE(slurp(tmp / "err"));
  auto text = slurp(report);
  REQUIRE_MESSAGE(!text.empty(), "no report written");
  r.report = nlohmann::json::parse(text);
  fs::remove_all(tmp);
  return r;
}

std::string scenario(const std::string& name) { return quoted(fault_dir / name); }

} // namespace

TEST_CASE("a fast subset of the fault scenarios passes: retried task, failing job, executor killed in the map stage") {
  auto r = run_chaos(scenario("task_fail_once.json") + " " + scenario("task_fail_repeated.json") + " "
                       + scenario("executor_kill_map.json"),
                     "subset");
  auto& s = r.report["scenarios"];
  REQUIRE(s.size() == 3);

  CHECK(s[0]["name"] == "task-fail-once");
  CHECK(s[0]["failures"] == nlohmann::json::array());
  CHECK(s[0]["pass"] == true);
  CHECK(s[0]["exitCode"] == 0);
  CHECK(s[0]["outputMatches"] == true);
  CHECK(s[0]["tasksFailed"] == 1);

  CHECK(s[1]["name"] == "task-fail-repeated");
  CHECK(s[1]["failures"] == nlohmann::json::array());
  CHECK(s[1]["pass"] == true);
  CHECK(s[1]["exitCode"] == 1);
  CHECK(s[1]["jobsFailed"] == 1);
  CHECK(s[1]["tasksFailed"].get<int>() >= 4);

  CHECK(s[2]["name"] == "executor-kill-map");
  CHECK(s[2]["failures"] == nlohmann::json::array());
  CHECK(s[2]["pass"] == true);
  CHECK(s[2]["outputMatches"] == true);
  CHECK(s[2]["faults"][0]["fired"] == true);
  CHECK(s[2]["executorsRemoved"].size() >= 1);
  CHECK(s[2]["leftoverProcesses"] == nlohmann::json::array());
  CHECK(s[2]["leftoverFiles"] == nlohmann::json::array());

  CHECK(r.report["passed"] == 3);
  CHECK(r.exit_code == 0);
}

TEST_CASE("a supervised cluster-mode driver killed in the map stage and mid-save is relaunched once and writes the exact output") {
  auto r = run_chaos(scenario("driver_kill_supervised.json") + " " + scenario("driver_kill_supervised_save.json"),
                     "supervised");
  auto& s = r.report["scenarios"];
  REQUIRE(s.size() == 2);
  for (int i = 0; i < 2; ++i) {
    CAPTURE(s[i]["name"]);
    CHECK(s[i]["failures"] == nlohmann::json::array());
    CHECK(s[i]["pass"] == true);
    CHECK(s[i]["faults"][0]["fired"] == true);
    CHECK(s[i]["faults"][0]["target"].get<std::string>().find(" run 1 on ") != std::string::npos);
    CHECK(s[i]["driverState"] == "finished");
    CHECK(s[i]["driverRestarts"] == 1);
    CHECK(s[i]["driverRuns"] == 2);
    // The first run's jobs never ended; the relaunch ran all of them: wordcount's save and top,
    // chaos_wordcount's save.
    CHECK(s[i]["jobsOk"] == (i == 0 ? 2 : 1));
    CHECK(s[i]["jobsFailed"] == 0);
    CHECK(s[i]["exitCode"] == 0);
    CHECK(s[i]["outputMatches"] == true);
    CHECK(s[i]["leftoverProcesses"] == nlohmann::json::array());
    CHECK(s[i]["leftoverFiles"] == nlohmann::json::array());
  }
  CHECK(s[0]["name"] == "driver-kill-supervised");
  CHECK(s[1]["name"] == "driver-kill-supervised-save");
  CHECK(r.exit_code == 0);
}

TEST_CASE("a scenario with a wrong expectation fails the run") {
  auto r = run_chaos(scenario("selftest/wrong_expectation.json"), "selftest");
  auto& s = r.report["scenarios"];
  REQUIRE(s.size() == 1);
  CHECK(s[0]["pass"] == false);
  CHECK(s[0]["exitCode"] == 0);
  // The two wrong expectations, in the verdict's order; any further reasons can only be about
  // leftovers (the runtime's, not the scenario's).
  REQUIRE(s[0]["failures"].size() >= 2);
  CHECK(s[0]["failures"][0] == "the job succeeded but the scenario expects it to fail");
  CHECK(s[0]["failures"][1] == "executors removed: 0, expected at least 1");
  for (size_t i = 2; i < s[0]["failures"].size(); ++i)
    CHECK(s[0]["failures"][i].get<std::string>().rfind("file left behind: ", 0) == 0);
  CHECK(r.report["failed"] == 1);
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("selftest-wrong-expectation     FAIL") != std::string::npos);
}

TEST_CASE("a bad scenario file stops the run before any cluster starts: one line, exit 2") {
  auto tmp = fs::temp_directory_path() / ("chaos-bad-" + std::to_string(::getpid()) + ".json");
  std::ofstream(tmp) << R"({"name": "x", "job": {"app": "wordcount", "executors": "two"}})";
  auto err = fs::temp_directory_path() / ("chaos-bad-" + std::to_string(::getpid()) + ".err");
  std::string cmd = quoted(bin_dir / "ember");
  cmd.append(" chaos ").append(quoted(tmp)).append(" 2>").append(quoted(err)).append(" >/dev/null");
  int status = std::system(cmd.c_str());
  CHECK(WEXITSTATUS(status) == 2);
  CHECK(slurp(err) == "ember chaos: " + tmp.string() + ": job.executors: expected an integer\n");
  fs::remove(tmp);
  fs::remove(err);
}

TEST_CASE("an injected message fault: heartbeats late past the timeout make a false suspicion that loses no data") {
  auto r = run_chaos(scenario("heartbeats_delayed.json"), "heartbeats");
  auto& s = r.report["scenarios"];
  REQUIRE(s.size() == 1);
  CHECK(s[0]["name"] == "heartbeats-delayed");
  CHECK(s[0]["failures"] == nlohmann::json::array());
  CHECK(s[0]["pass"] == true);
  CHECK(s[0]["outputMatches"] == true);
  // Only executor 0 injects (ember.test.faults.executors): it is declared lost by heartbeat.
  bool executor_0_suspected = false;
  for (auto& removed : s[0]["executorsRemoved"])
    executor_0_suspected |= removed.get<std::string>().starts_with("executor 0: heartbeatTimeout: ");
  CHECK(executor_0_suspected);
  CHECK(s[0]["tasksLost"].get<int>() >= 1);
  CHECK(s[0]["leftoverProcesses"] == nlohmann::json::array());
  CHECK(s[0]["leftoverFiles"] == nlohmann::json::array());
  CHECK(r.exit_code == 0);
}

TEST_CASE("hosts in network namespaces: a host cut off is declared lost by silence, its work reruns, and healing it loses nothing") {
  auto r = run_chaos(scenario("host_partition.json"), "partition");
  auto& s = r.report["scenarios"];
  REQUIRE(s.size() == 1);
  CHECK(s[0]["failures"] == nlohmann::json::array());
  CHECK(s[0]["pass"] == true);
  CHECK(s[0]["outputMatches"] == true);
  // No reset, no down message: only the heartbeat timeout can tell.
  REQUIRE(s[0]["executorsRemoved"].size() == 1);
  CHECK(s[0]["executorsRemoved"][0].get<std::string>().find(": heartbeatTimeout: ") != std::string::npos);
  CHECK(s[0]["faults"][1]["fired"] == true); // healed
  CHECK(s[0]["leftoverProcesses"] == nlohmann::json::array());
  CHECK(s[0]["leftoverFiles"] == nlohmann::json::array());
  CHECK(r.exit_code == 0);
}

TEST_CASE("a full local dir: tasks there fail with ENOSPC, excludeOnFailure moves the stage elsewhere, the answer is exact") {
  auto r = run_chaos(scenario("local_dir_full.json"), "diskfull");
  auto& s = r.report["scenarios"];
  REQUIRE(s.size() == 1);
  CHECK(s[0]["failures"] == nlohmann::json::array());
  CHECK(s[0]["pass"] == true);
  CHECK(s[0]["outputMatches"] == true);
  // Stage exclusion after 2 failed tasks: a few more may fail that were already running there,
  // but not one per map task as without exclusion.
  auto failed = s[0]["tasksFailed"].get<int>();
  CHECK(failed >= 1);
  CHECK(failed <= 8);
  CHECK(s[0]["leftoverFiles"] == nlohmann::json::array());
  CHECK(r.exit_code == 0);
}

TEST_CASE("terasort with an executor killed while part files are written: the sorted input, line for line") {
  auto r = run_chaos(scenario("terasort_kill_reduce.json"), "terasort");
  auto& s = r.report["scenarios"];
  REQUIRE(s.size() == 1);
  CHECK(s[0]["failures"] == nlohmann::json::array());
  CHECK(s[0]["pass"] == true);
  CHECK(s[0]["outputMatches"] == true);
  CHECK(s[0]["executorsRemoved"].size() == 1);
  CHECK(s[0]["leftoverProcesses"] == nlohmann::json::array());
  CHECK(s[0]["leftoverFiles"] == nlohmann::json::array());
  CHECK(r.exit_code == 0);
}
