// A fault-injection scenario as `ember chaos` reads it from JSON: the cluster's shape, the job,
// the faults with their triggers, and what the verdict expects. Parsing checks every field and
// reports the first bad one as "FILE: field: problem" (docs/chaos.md describes the format).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace ember::chaos {

// A scenario file that cannot be used: what() is one line naming the file and the field.
class scenario_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

struct cluster_spec {
  int workers = 2;
  int cores = 2;
  std::string memory = "1g";
  std::map<std::string, std::string> master_conf;  // --conf of `ember master` (and its restart)
  std::map<std::string, std::string> worker_conf;  // --conf of every `ember worker`
  // Each worker on its own host: a network namespace with its own address on a bridge, the
  // master and the driver on the bridge's address in the harness's namespace (needs root).
  bool netns = false;
  // Each worker's local dir (ember.worker.localDir) on a tmpfs of this size, e.g. "16m" (needs
  // root); empty = a plain directory.
  std::string local_dir_size;
  // A secured cluster: the harness writes a secret file (0600) and a configuration directory with
  // ember.authenticate on, which the master, the workers, `ember submit` and `ember status` read
  // (EMBER_CONF_DIR). Also set for every scenario by `ember chaos --secure`.
  bool secure = false;
};

struct input_spec {
  std::int64_t bytes = 4 << 20;  // per file, generated with bench/gen_text
  int vocab = 5000;
  int files = 2;
};

struct job_spec {
  // wordcount | chaos_wordcount (word counts, judged as multisets of lines) | terasort (100-byte
  // records, judged line for line across the part files in order) — all in build/bin
  std::string app = "wordcount";
  input_spec input;
  int executors = 2;       // --num-executors
  int executor_cores = 1;  // --executor-cores
  std::string executor_memory = "512m";
  std::map<std::string, std::string> conf;  // --conf of `ember submit`
  std::vector<std::string> args;            // application options before INPUT... OUTPUT
  // "client": the driver is the harness's child (`ember submit` execs it). "cluster": `ember submit
  // --deploy-mode cluster` hands it to the master, a worker runs it; `supervise` relaunches it when
  // it exits non-zero (`--supervise`).
  std::string deploy_mode = "client";
  bool supervise = false;

  bool cluster_mode() const { return deploy_mode == "cluster"; }
};

// When a fault fires. Exactly one condition; all but after_ms read the driver's event log.
struct trigger {
  // fetching: an executorMetricsUpdate lists a task of `stage` with a remote shuffle fetch in flight.
  enum class kind { after_ms, stage_started, tasks_finished, executor_registered, executor_removed, fetching };
  kind on = kind::after_ms;
  std::int64_t ms = 0;  // after_ms: milliseconds after the submit
  int stage = 0;        // stage_started, tasks_finished, fetching
  int count = 1;        // tasks_finished: finished tasks of the stage; executor_*: how many so far
};

// What a fault does.
struct action {
  enum class kind {
    kill_executor,
    kill_worker,
    kill_master,
    kill_driver,
    corrupt_shuffle,
    delete_shuffle,
    partition_host,  // the worker's host loses its link (netns)
    heal_host,       // ... and gets it back
    netem,           // delay and loss on the worker's host link, both ways (tc netem; netns)
    fill_local_dir   // the worker's local dir filled up to ENOSPC (local_dir_size)
  };
  kind what = kind::kill_executor;
  int signal = 9;                        // kill_*: SIGKILL, SIGSTOP, SIGCONT, SIGTERM
  std::optional<std::string> executor;   // kill_executor: this executor id ...
  std::optional<int> running_stage;      // ... or one running a task of this stage
  std::optional<std::string> removed;    // ... or the one named by the executorRemoved that fired the trigger
  bool not_fetching = false;             // ... or one other than the executor whose fetch fired the trigger
  int worker = 0;                        // kill_worker, *_host, netem, fill_local_dir: index in cluster order
  int delay_ms = 0;                      // netem
  double loss_percent = 0;               // netem
  bool restart = false;                  // kill_master: start it again on the same port
  int stage = 0;                         // *_shuffle: a finished map task of this stage
};

struct fault {
  std::string name;
  trigger when;
  action act;
};

struct expectation {
  bool success = true;                    // the job ends with exit 0 and the reference output
  std::string error_contains;             // failure: the driver's stderr holds this text
  int min_executors_removed = 0;
  int min_tasks_retried = 0;              // taskEnd with state failed or lost
  int min_stages_retried = 0;             // stageSubmitted with attempt > 0
  bool all_faults_fire = true;            // a fault whose trigger never matched fails the scenario
  std::optional<int> driver_restarts;     // cluster mode: exactly this many relaunches (the master's count)
};

struct scenario {
  std::string file;
  std::string name;
  std::string description;
  std::uint64_t seed = 1;
  int timeout_s = 180;
  cluster_spec cluster;
  job_spec job;
  std::vector<fault> faults;
  expectation expect;
};

// Parses a scenario from JSON text; `file` names it in errors. Throws scenario_error.
scenario parse_scenario(const std::string& text, const std::string& file);

// Reads and parses a scenario file. Throws scenario_error (also for a file it cannot read).
scenario load_scenario(const std::string& path);

// "KILL", "SIGKILL", "9" -> 9; nullopt for anything else (STOP, CONT, TERM, KILL, INT accepted).
std::optional<int> parse_signal(const std::string& s);
std::string signal_name(int sig);

std::string describe(const trigger& t);
std::string describe(const action& a);

} // namespace ember::chaos
