// chaos/scenario: the scenario format `ember chaos` reads, and the one-line errors for bad fields.
#include <csignal>
#include <filesystem>
#include <fstream>

#include <doctest/doctest.h>

#include "chaos/scenario.hpp"

using namespace ember::chaos;

namespace {

// The error message parse_scenario gives for `text`, or "" when it parses.
std::string error_of(const std::string& text) {
  try {
    parse_scenario(text, "s.json");
    return "";
  } catch (const scenario_error& e) {
    return e.what();
  }
}

} // namespace

TEST_CASE("a full scenario parses into its fields") {
  auto s = parse_scenario(R"({
    "name": "kill-in-map", "description": "d", "seed": 7, "timeout_s": 60,
    "cluster": {"workers": 3, "cores": 4, "memory": "2g", "master_conf": {"ember.deploy.recoveryMode": "FILESYSTEM"},
                "worker_conf": {"ember.worker.timeout": 5}},
    "job": {"app": "chaos_wordcount", "input": {"bytes": 1000, "vocab": 50, "files": 3}, "executors": 3,
            "executor_cores": 2, "executor_memory": "256m", "conf": {"ember.default.parallelism": 8, "x.flag": true},
            "args": ["--fail-once", "{dir}/marker"]},
    "faults": [
      {"name": "k", "when": {"tasks_finished": 2, "stage": 0}, "action": "kill_executor", "running_stage": 0},
      {"when": {"after_ms": 300}, "action": "kill_master", "restart": true, "signal": "SIGKILL"},
      {"when": {"executor_removed": 1}, "action": "kill_executor", "removed": true, "signal": "CONT"},
      {"when": {"stage_started": 1}, "action": "corrupt_shuffle", "stage": 0},
      {"when": {"executor_registered": 2}, "action": "kill_worker", "worker": 2, "signal": "STOP"}
    ],
    "expect": {"outcome": "failure", "error_contains": "failed 4 times", "executors_removed_min": 1,
               "tasks_retried_min": 2, "stages_retried_min": 1, "all_faults_fire": false}
  })",
                          "f.json");
  CHECK(s.file == "f.json");
  CHECK(s.name == "kill-in-map");
  CHECK(s.seed == 7);
  CHECK(s.timeout_s == 60);
  CHECK(s.cluster.workers == 3);
  CHECK(s.cluster.cores == 4);
  CHECK(s.cluster.memory == "2g");
  CHECK(s.cluster.master_conf.at("ember.deploy.recoveryMode") == "FILESYSTEM");
  CHECK(s.cluster.worker_conf.at("ember.worker.timeout") == "5");
  CHECK(s.job.app == "chaos_wordcount");
  CHECK(s.job.input.bytes == 1000);
  CHECK(s.job.input.vocab == 50);
  CHECK(s.job.input.files == 3);
  CHECK(s.job.executors == 3);
  CHECK(s.job.executor_cores == 2);
  CHECK(s.job.executor_memory == "256m");
  CHECK(s.job.conf.at("ember.default.parallelism") == "8");
  CHECK(s.job.conf.at("x.flag") == "true");
  CHECK(s.job.args == std::vector<std::string>{"--fail-once", "{dir}/marker"});
  REQUIRE(s.faults.size() == 5);
  CHECK(s.faults[0].name == "k");
  CHECK(s.faults[0].when.on == trigger::kind::tasks_finished);
  CHECK(s.faults[0].when.count == 2);
  CHECK(s.faults[0].when.stage == 0);
  CHECK(s.faults[0].act.what == action::kind::kill_executor);
  CHECK(s.faults[0].act.signal == SIGKILL);
  CHECK(s.faults[0].act.running_stage == 0);
  CHECK_FALSE(s.faults[0].act.executor.has_value());
  CHECK(s.faults[1].name == "fault 1");
  CHECK(s.faults[1].when.on == trigger::kind::after_ms);
  CHECK(s.faults[1].when.ms == 300);
  CHECK(s.faults[1].act.what == action::kind::kill_master);
  CHECK(s.faults[1].act.restart);
  CHECK(s.faults[2].when.on == trigger::kind::executor_removed);
  CHECK(s.faults[2].act.removed.has_value());
  CHECK(s.faults[2].act.signal == SIGCONT);
  CHECK(s.faults[3].when.on == trigger::kind::stage_started);
  CHECK(s.faults[3].when.stage == 1);
  CHECK(s.faults[3].act.what == action::kind::corrupt_shuffle);
  CHECK(s.faults[4].when.on == trigger::kind::executor_registered);
  CHECK(s.faults[4].when.count == 2);
  CHECK(s.faults[4].act.what == action::kind::kill_worker);
  CHECK(s.faults[4].act.worker == 2);
  CHECK(s.faults[4].act.signal == SIGSTOP);
  CHECK_FALSE(s.expect.success);
  CHECK(s.expect.error_contains == "failed 4 times");
  CHECK(s.expect.min_executors_removed == 1);
  CHECK(s.expect.min_tasks_retried == 2);
  CHECK(s.expect.min_stages_retried == 1);
  CHECK_FALSE(s.expect.all_faults_fire);
}

TEST_CASE("defaults: two workers, word count, success expected") {
  auto s = parse_scenario(R"({"name": "n", "job": {}})", "f.json");
  CHECK(s.cluster.workers == 2);
  CHECK(s.job.app == "wordcount");
  CHECK(s.faults.empty());
  CHECK(s.expect.success);
  CHECK(s.expect.all_faults_fire);
  CHECK(s.seed == 1);
}

TEST_CASE("each bad field is one line naming the file and the field") {
  CHECK(error_of("{") .rfind("s.json: not valid JSON", 0) == 0);
  CHECK(error_of("[]") == "s.json: (top level): expected an object");
  CHECK(error_of(R"({"job": {}})") == "s.json: name: required (a non-empty string)");
  CHECK(error_of(R"({"name": "n"})") == "s.json: job: required");
  CHECK(error_of(R"({"name": "n", "job": {}, "sed": 1})") == "s.json: sed: unknown field");
  CHECK(error_of(R"({"name": "n", "job": {"app": "grep"}})")
        == "s.json: job.app: 'grep' is not one of wordcount, chaos_wordcount, terasort");
  CHECK(error_of(R"({"name": "n", "job": {"input": {"bytes": "1m"}}})") == "s.json: job.input.bytes: expected an integer");
  CHECK(error_of(R"({"name": "n", "job": {}, "cluster": {"workers": 0}})")
        == "s.json: cluster.workers: 0 is out of range [1, 16]");
  CHECK(error_of(R"({"name": "n", "job": {"conf": {"a": [1]}}})")
        == "s.json: job.conf.a: expected a string, number or boolean");
  CHECK(error_of(R"({"name": "n", "job": {}, "faults": {}})") == "s.json: faults: expected an array");
  CHECK(error_of(R"({"name": "n", "job": {}, "faults": [{"action": "kill_driver"}]})") == "s.json: faults[0].when: required");
  CHECK(error_of(R"({"name": "n", "job": {}, "faults": [{"when": {}, "action": "kill_driver"}]})")
        == "s.json: faults[0].when: name exactly one of after_ms, stage_started, tasks_finished (with stage), "
           "executor_registered, executor_removed, fetching");
  CHECK(error_of(R"({"name": "n", "job": {}, "faults": [{"when": {"after_ms": 1, "stage_started": 1}, "action": "kill_driver"}]})")
        == "s.json: faults[0].when: name exactly one of after_ms, stage_started, tasks_finished (with stage), "
           "executor_registered, executor_removed, fetching");
  CHECK(error_of(R"({"name": "n", "job": {}, "faults": [{"when": {"tasks_finished": 1}, "action": "kill_driver"}]})")
        == "s.json: faults[0].when.stage: required with tasks_finished");
  CHECK(error_of(R"({"name": "n", "job": {}, "faults": [{"when": {"after_ms": -1}, "action": "kill_driver"}]})")
        == "s.json: faults[0].when.after_ms: -1 is out of range [0, 1073741824]");
  CHECK(error_of(R"({"name": "n", "job": {}, "faults": [{"when": {"after_ms": 1}, "action": "reboot"}]})")
        == "s.json: faults[0].action: 'reboot' is not one of kill_executor, kill_worker, kill_master, kill_driver, "
           "corrupt_shuffle, delete_shuffle, partition_host, heal_host, netem, fill_local_dir");
  CHECK(error_of(R"({"name": "n", "job": {}, "faults": [{"when": {"after_ms": 1}, "action": "partition_host"}]})")
        == "s.json: faults[0].action: cut worker 0's host off the network needs cluster.hosts \"netns\"");
  CHECK(error_of(R"({"name": "n", "job": {}, "cluster": {"hosts": "vm"}})")
        == "s.json: cluster.hosts: 'vm' is not one of loopback, netns");
  CHECK(error_of(R"({"name": "n", "job": {}, "cluster": {"hosts": "netns"}, "faults": [{"when": {"after_ms": 1}, "action": "heal_host", "worker": 3}]})")
        == "s.json: faults[0].worker: 3 but the cluster has 2 worker(s)");
  CHECK(error_of(R"({"name": "n", "job": {}, "cluster": {"hosts": "netns"}, "faults": [{"when": {"after_ms": 1}, "action": "netem", "worker": 1}]})")
        == "s.json: faults[0].delay_ms: netem needs delay_ms or loss_percent");
  CHECK(error_of(R"({"name": "n", "job": {}, "cluster": {"hosts": "netns"}, "faults": [{"when": {"after_ms": 1}, "action": "netem", "loss_percent": 120}]})")
        == "s.json: faults[0].loss_percent: expected a number in [0, 100]");
  CHECK(error_of(R"({"name": "n", "job": {}, "faults": [{"when": {"after_ms": 1}, "action": "fill_local_dir"}]})")
        == "s.json: faults[0].action: fill_local_dir needs cluster.local_dir_size");
  CHECK(error_of(R"({"name": "n", "job": {}, "cluster": {"local_dir_size": "lots"}})")
        == "s.json: cluster.local_dir_size: 'lots' is not a size such as 16m");
  CHECK(error_of(R"({"name": "n", "job": {}, "faults": [{"when": {"after_ms": 1}, "action": "kill_driver", "signal": "HUP"}]})")
        == "s.json: faults[0].signal: 'HUP' is not one of KILL, STOP, CONT, TERM, INT");
  CHECK(error_of(R"({"name": "n", "job": {}, "faults": [{"when": {"after_ms": 1}, "action": "kill_executor"}]})")
        == "s.json: faults[0].executor: name exactly one of executor, running_stage, removed, not_fetching");
  CHECK(error_of(R"({"name": "n", "job": {}, "faults": [{"when": {"after_ms": 1}, "action": "kill_driver", "worker": 1}]})")
        == "s.json: faults[0].worker: unknown field");
  CHECK(error_of(R"({"name": "n", "job": {}, "faults": [{"when": {"after_ms": 1}, "action": "kill_worker", "worker": 2}]})")
        == "s.json: faults[0].worker: 2 but the cluster has 2 worker(s)");
  CHECK(error_of(R"({"name": "n", "job": {}, "faults": [{"when": {"after_ms": 1}, "action": "kill_executor", "removed": true}]})")
        == "s.json: faults[0].removed: needs the trigger executor_removed (it names the executor)");
  CHECK(error_of(R"({"name": "n", "job": {}, "expect": {"outcome": "maybe"}})")
        == "s.json: expect.outcome: 'maybe' is not one of success, failure");
  CHECK(error_of(R"({"name": "n", "job": {}, "expect": {"error_contains": "x"}})")
        == "s.json: expect.error_contains: only used with outcome failure");
}

TEST_CASE("the fetching trigger names a stage; not_fetching kills another executor and needs it") {
  auto s = parse_scenario(R"({"name": "n", "job": {}, "faults": [
    {"name": "f", "when": {"fetching": 1}, "action": "kill_executor", "not_fetching": true}]})", "s.json");
  REQUIRE(s.faults.size() == 1);
  CHECK(s.faults[0].when.on == trigger::kind::fetching);
  CHECK(s.faults[0].when.stage == 1);
  CHECK(s.faults[0].act.what == action::kind::kill_executor);
  CHECK(s.faults[0].act.not_fetching);
  CHECK_FALSE(s.faults[0].act.executor.has_value());
  CHECK(describe(s.faults[0].when) == "a task of stage 1 fetching remote shuffle blocks");
  CHECK(describe(s.faults[0].act) == "SIGKILL an executor other than the fetching one");

  CHECK(error_of(R"({"name": "n", "job": {}, "faults": [{"when": {"fetching": -1}, "action": "kill_driver"}]})")
        == "s.json: faults[0].when.fetching: -1 is out of range [0, 1073741824]");
  CHECK(error_of(R"({"name": "n", "job": {}, "faults": [{"when": {"fetching": 1, "stage": 1}, "action": "kill_driver"}]})")
        == "s.json: faults[0].when.stage: only used with tasks_finished");
  CHECK(error_of(R"({"name": "n", "job": {}, "faults": [{"when": {"fetching": 1, "stage_started": 1}, "action": "kill_driver"}]})")
        == "s.json: faults[0].when: name exactly one of after_ms, stage_started, tasks_finished (with stage), "
           "executor_registered, executor_removed, fetching");
  CHECK(error_of(R"({"name": "n", "job": {}, "faults": [{"when": {"stage_started": 1}, "action": "kill_executor", "not_fetching": true}]})")
        == "s.json: faults[0].not_fetching: needs the trigger fetching (it names the fetching executor)");
  CHECK(error_of(R"({"name": "n", "job": {}, "faults": [{"when": {"fetching": 1}, "action": "kill_executor", "not_fetching": false}]})")
        == "s.json: faults[0].not_fetching: only true makes sense (an executor other than the one the fetching trigger saw)");
  CHECK(error_of(R"({"name": "n", "job": {}, "faults": [{"when": {"fetching": 1}, "action": "kill_executor", "not_fetching": true, "executor": "0"}]})")
        == "s.json: faults[0].executor: name exactly one of executor, running_stage, removed, not_fetching");
}

TEST_CASE("cluster deploy mode: deploy_mode, supervise and driver_restarts") {
  auto s = parse_scenario(R"({"name": "n", "job": {"deploy_mode": "cluster", "supervise": true},
                              "expect": {"driver_restarts": 1}})",
                          "f.json");
  CHECK(s.job.cluster_mode());
  CHECK(s.job.supervise);
  CHECK(s.expect.driver_restarts == 1);
  auto c = parse_scenario(R"({"name": "n", "job": {}})", "f.json");
  CHECK(c.job.deploy_mode == "client");
  CHECK_FALSE(c.job.cluster_mode());
  CHECK_FALSE(c.job.supervise);
  CHECK_FALSE(c.expect.driver_restarts.has_value());

  CHECK(error_of(R"({"name": "n", "job": {"deploy_mode": "yarn"}})")
        == "s.json: job.deploy_mode: 'yarn' is not one of client, cluster");
  CHECK(error_of(R"({"name": "n", "job": {"deploy_mode": true}})") == "s.json: job.deploy_mode: expected a string");
  CHECK(error_of(R"({"name": "n", "job": {"supervise": "yes", "deploy_mode": "cluster"}})")
        == "s.json: job.supervise: expected true or false");
  CHECK(error_of(R"({"name": "n", "job": {"supervise": true}})")
        == "s.json: job.supervise: needs deploy_mode \"cluster\" (a client-mode driver is nobody's to relaunch)");
  CHECK(error_of(R"({"name": "n", "job": {"deploy_mode": "cluster"}, "cluster": {"hosts": "netns"}})")
        == "s.json: job.deploy_mode: cluster is not supported with cluster.hosts \"netns\"");
  CHECK(error_of(R"({"name": "n", "job": {}, "expect": {"driver_restarts": 1}})")
        == "s.json: expect.driver_restarts: needs job.deploy_mode \"cluster\" (only the master counts relaunches)");
  CHECK(error_of(R"({"name": "n", "job": {"deploy_mode": "cluster"}, "expect": {"driver_restarts": -1}})")
        == "s.json: expect.driver_restarts: -1 is out of range [0, 1073741824]");
}

TEST_CASE("load_scenario names a file it cannot read") {
  CHECK_THROWS_WITH_AS(load_scenario("/nonexistent/x.json"), "/nonexistent/x.json: cannot read the scenario file",
                       scenario_error);
}

TEST_CASE("signals by name, with or without SIG, or by number") {
  CHECK(parse_signal("KILL") == SIGKILL);
  CHECK(parse_signal("SIGSTOP") == SIGSTOP);
  CHECK(parse_signal("18") == SIGCONT);
  CHECK(parse_signal("TERM") == SIGTERM);
  CHECK_FALSE(parse_signal("HUP").has_value());
  CHECK(signal_name(SIGSTOP) == "STOP");
}

TEST_CASE("every scenario shipped in tests/fault parses") {
  auto dir = std::filesystem::path(__FILE__).parent_path().parent_path() / "fault";
  int n = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() != ".json")
      continue;
    CHECK_NOTHROW(load_scenario(e.path().string()));
    ++n;
  }
  CHECK(n >= 7);
}
