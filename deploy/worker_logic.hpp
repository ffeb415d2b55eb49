// The standalone worker's bookkeeping and decisions, without CAF: its link to the master
// (connect, register with backoff, re-register after ReconnectWorker or a lost master, adopt a
// recovered master), the executor and cluster-mode driver processes it runs (binary resolution,
// shared fetches, kills with a grace period, exit classification with the loss cause, supervised
// driver restarts) and its shutdown. Every call returns the decisions (plain structs) that the
// worker actor (actors/worker.cpp) enacts: messages, timers, fork/exec, signals, directory removal.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "deploy/master_logic.hpp"
#include "deploy/process.hpp"

namespace ember::deploy {

struct worker_settings {
  std::string host;                 // how executors and the master reach this host
  std::filesystem::path work_dir;   // absolute; <work_dir>/<app>/<executor>, <work_dir>/<driver>
  std::string local_dir;            // ember.worker.localDir: executors' ember.local.dir; empty = the app's
  std::string master_url;           // ember://host:port, until the master names itself
  std::chrono::milliseconds heartbeat_interval{15000};      // ember.worker.heartbeatInterval
  std::chrono::milliseconds retry_interval{1000};           // ember.worker.registrationRetryInterval
  std::chrono::milliseconds kill_grace{5000};               // ember.worker.killGracePeriod
  std::chrono::milliseconds driver_restart_backoff{1000};   // ember.worker.driverRestartBackoff
  // A secured cluster: the worker's security settings ("ember.authenticate=true", or the
  // ember.ssl.* files) given to every child over what its application asked for, and the shared
  // secret, which reaches the child through an inherited descriptor (launch_spec::secret).
  std::vector<std::string> child_conf;
  std::string secret;
};

/// Where a binary already is on this host (the worker's cache, or the submitter's path when it
/// holds the same content). Implemented by the actor over deploy::binary_cache; a query, so the
/// logic asks it directly instead of returning a decision and waiting for the answer.
class binary_lookup {
public:
  virtual ~binary_lookup() = default;
  virtual std::optional<std::filesystem::path> find(const std::string& content_hash, const std::string& path) = 0;
};

// -- what the worker runs ----------------------------------------------------------------------

/// LaunchExecutor, as plain values.
struct executor_launch {
  std::string app_id, executor_id;
  std::uint32_t cores = 0;
  std::uint64_t memory = 0;
  binary_ref binary;
  std::vector<std::string> args;
  properties conf;
  std::string driver_host;
  std::uint16_t driver_port = 0;
};

/// LaunchDriver, as plain values (what the worker uses of the description).
struct driver_launch {
  std::string driver_id;
  binary_ref binary;
  std::vector<std::string> args;
  bool supervise = false;
};

using executor_key = std::pair<std::string, std::string>;  // (app id, executor id)

/// One executor process: pid 0 while its binary is being fetched.
struct executor_child {
  executor_launch launch;
  pid_t pid = 0;
  std::filesystem::path cgroup;
  std::vector<int> cpus;                         // pinned CPUs, given back when it ends
  std::vector<std::filesystem::path> local_dirs; // deleted when it ends
  bool kill_requested = false;
};

/// One cluster-mode driver process: pid 0 while its binary is fetched from the master or a
/// supervised restart is pending.
struct driver_child {
  driver_launch launch;
  pid_t pid = 0;
  bool fetching = false;
  std::filesystem::path cgroup;
  bool kill_requested = false;
  std::uint32_t restarts = 0;
};

/// The worker's link to its master.
enum class link_state {
  unstarted,    // spawned; not started yet
  connecting,   // no master actor: a connect is in flight or the next try is scheduled
  registering,  // the master actor is known; RegisterWorker sent, not answered yet
  registered,   // accepted (RegisteredWorker) or adopted by a recovered master (MasterChanged)
};

/// Orthogonal to the link: a stopping worker keeps heartbeating its master while children die.
enum class run_state { running, shutting_down, stopped };

// -- decisions ---------------------------------------------------------------------------------

/// Ask the middleman for the master's actor at the configured host:port; answer with
/// master_reached / master_not_published / master_unreachable.
struct connect_master {};
/// The actor just reached (or the sender of MasterChanged) is the master now: monitor it.
struct adopt_master {};
/// worker -> master RegisterWorker (the actor adds the identity and the data files).
struct send_registration {
  worker_report running;
};
/// worker -> master WorkerSchedulerState, answering MasterChanged.
struct send_scheduler_state {
  worker_report running;
};
/// worker -> master WorkerHeartbeat.
struct send_heartbeat {
  std::uint32_t cores_used = 0;
  std::uint64_t memory_used = 0;
};
/// worker -> master ExecutorStateChanged.
struct report_executor {
  std::string app_id, executor_id;
  executor_state state = executor_state::running;
  int exit_code = 0;
  int signal = 0;
  std::string message;
  pid_t pid = 0;
  executor_loss_cause cause = executor_loss_cause::exit_code;
};
/// worker -> master DriverStateChanged.
struct report_driver {
  std::string driver_id;
  driver_state state = driver_state::running;
  int exit_code = 0;
  int signal = 0;
  std::string message;
  pid_t pid = 0;
};
/// The first acceptance by a master (worker_options.on_registered).
struct announce_registered {
  std::string worker_id, master_url;
};
// Timers: each comes back as the event of the same name.
struct connect_later {
  std::chrono::milliseconds delay;
};
struct register_later {  // -> register_tick(attempt)
  std::chrono::milliseconds delay;
  std::uint32_t attempt = 0;
};
struct heartbeat_later {
  std::chrono::milliseconds delay;
};
struct escalate_later {  // -> escalate_tick(pid)
  std::chrono::milliseconds delay;
  pid_t pid = 0;
};
struct restart_driver_later {  // -> restart_driver_tick(driver_id)
  std::chrono::milliseconds delay;
  std::string driver_id;
};
/// fork/exec; answer with executor_started / executor_start_failed. conf and driver_port let the
/// actor resolve the executor's local dirs as the executor will.
struct spawn_executor {
  std::string app_id, executor_id;
  launch_spec spec;
  properties conf;
  std::uint16_t driver_port = 0;
};
/// fork/exec; answer with driver_started / driver_start_failed.
struct spawn_driver {
  std::string driver_id;
  launch_spec spec;
};
/// SIGTERM (and SIGCONT, so a stopped process acts on it) to the child's process group.
struct terminate_child {
  pid_t pid = 0;
};
/// SIGKILL to the child's process group.
struct force_kill_child {
  pid_t pid = 0;
};
/// Fetch the binary in chunks, from the driver endpoint at host:port (an executor's binary) or,
/// with from_master, from the master's store of submitted binaries (a cluster-mode driver's);
/// answer with fetch_succeeded / fetch_failed.
struct fetch_binary {
  std::string content_hash, host;
  std::uint16_t port = 0;
  bool from_master = false;
};
/// Drop every fetch in flight (their partial files go); late chunks are ignored.
struct cancel_fetches {};
struct remove_cgroup_dir {
  std::filesystem::path cgroup;
};
/// An executor's <ember.local.dir>/ember-<app>-<port>/<id> dirs, and each parent once empty.
struct remove_executor_dirs {
  std::vector<std::filesystem::path> dirs;
};
/// <work_dir>/<app id>.
struct remove_app_dir {
  std::string app_id;
};
enum class log_level { info, warn, error };
struct log_line {
  log_level level = log_level::info;
  std::string text;
};
/// Every child is reaped: answer a pending shutdown request and quit.
struct finish_shutdown {};
/// The master refused this worker: quit with this error.
struct quit_refused {
  std::string reason;
};

using worker_decision =
    std::variant<connect_master, adopt_master, send_registration, send_scheduler_state, send_heartbeat,
                 report_executor, report_driver, announce_registered, connect_later, register_later, heartbeat_later,
                 escalate_later, restart_driver_later, spawn_executor, spawn_driver, terminate_child, force_kill_child,
                 fetch_binary, cancel_fetches, remove_cgroup_dir, remove_executor_dirs, remove_app_dir, log_line,
                 finish_shutdown, quit_refused>;
using worker_decisions = std::vector<worker_decision>;

/// "executor 3 on host A killed: exceeded ember.executor.memory (4g)".
std::string memory_exceeded_message(const std::string& executor_id, const std::string& host, std::uint64_t memory);

/// Why `name` cannot be a directory name under the work dir ("" if it can): empty, '.', '..',
/// containing '/' or NUL; `top_level` also refuses "binaries" (the binary cache's directory).
std::string dir_name_problem(const std::string& name, bool top_level);

// -- the logic ---------------------------------------------------------------------------------

class worker_logic {
public:
  /// `cpus`: what ember.executor.pinCores hands out; `binaries` outlives the logic.
  worker_logic(worker_settings settings, cpu_pool cpus, binary_lookup& binaries);

  // -- the master link --

  /// The actor is published and named `worker_id`: connect.
  worker_decisions start(std::string worker_id);
  worker_decisions connect_tick();
  worker_decisions master_reached();
  worker_decisions master_not_published();
  worker_decisions master_unreachable(const std::string& error);
  /// Resends RegisterWorker when `attempt` is the latest one and still unanswered.
  worker_decisions register_tick(std::uint32_t attempt);
  worker_decisions registered(const std::string& master_url);
  /// A recovered master took over (the actor checked the sender exists).
  worker_decisions master_changed(const std::string& master_url);
  worker_decisions registration_refused(const std::string& reason);
  worker_decisions reconnect_requested();
  /// The master's actor went down: children keep running; reconnect every retry_interval.
  worker_decisions master_lost(const std::string& reason);
  worker_decisions heartbeat_tick();

  // -- executors --

  /// Idempotent on (app id, executor id).
  worker_decisions launch_executor(executor_launch launch);
  worker_decisions executor_started(const executor_key& key, pid_t pid, std::filesystem::path cgroup,
                                    std::vector<std::filesystem::path> local_dirs);
  worker_decisions executor_start_failed(const executor_key& key, const std::string& error);
  worker_decisions kill_executor(const executor_key& key, const std::string& reason);
  worker_decisions application_finished(const std::string& app_id);
  worker_decisions fetch_succeeded(const std::string& content_hash, const std::filesystem::path& binary);
  worker_decisions fetch_failed(const std::string& content_hash, const std::string& message);

  // -- drivers --

  /// Idempotent on the driver id.
  worker_decisions launch_driver(driver_launch launch);
  worker_decisions driver_started(const std::string& driver_id, pid_t pid, std::filesystem::path cgroup);
  worker_decisions driver_start_failed(const std::string& driver_id, const std::string& error);
  worker_decisions kill_driver(const std::string& driver_id);
  worker_decisions restart_driver_tick(const std::string& driver_id);

  // -- children and shutdown --

  /// A child was reaped. cgroup_oom: its cgroup recorded an OOM kill (see cgroup_of).
  worker_decisions child_exited(pid_t pid, const exit_status& status, bool cgroup_oom);
  /// The kill grace period of `pid` is over: SIGKILL if it still runs.
  worker_decisions escalate_tick(pid_t pid);
  /// Kill every child (SIGTERM, SIGKILL after the grace period); finish once all are reaped.
  worker_decisions shutdown();
  /// The same for an exit message (the actor logged it).
  worker_decisions exit_requested();

  // -- reading --

  link_state link() const { return link_; }
  run_state run() const { return run_; }
  const std::string& worker_id() const { return id_; }
  const std::string& master_url() const { return settings_.master_url; }
  const std::map<executor_key, executor_child>& executors() const { return executors_; }
  const std::map<std::string, driver_child>& drivers() const { return drivers_; }
  /// The leaf cgroup of a live executor process (empty when none or unknown).
  std::filesystem::path cgroup_of(pid_t pid) const;
  /// Content hashes being fetched.
  std::vector<std::string> fetches() const;

private:
  struct fetch_record {
    std::vector<executor_key> waiting;
    std::vector<std::string> waiting_drivers;  // driver ids
  };

  std::chrono::milliseconds backoff() const;
  worker_report running_report() const;
  void connect(worker_decisions& out);
  void register_now(worker_decisions& out);
  void flush_unsent(worker_decisions& out);
  void start_heartbeat(worker_decisions& out);
  void report(worker_decision report, worker_decisions& out);
  void resolve_binary(const executor_key& key, worker_decisions& out);
  void start_executor(const executor_key& key, const std::filesystem::path& binary, worker_decisions& out);
  void fail_executor(const executor_key& key, const std::string& message, worker_decisions& out);
  void remove_app_dir_if_done(const std::string& app_id, worker_decisions& out);
  /// `fetched`: the binary just fetched for it (else it is looked up, and fetched if missing).
  void start_driver(const std::string& driver_id, worker_decisions& out,
                    std::optional<std::filesystem::path> fetched = std::nullopt);
  void kill_process(pid_t pid, worker_decisions& out);
  void executor_exited(std::map<executor_key, executor_child>::iterator it, const exit_status& status,
                       bool cgroup_oom, worker_decisions& out);
  void driver_exited(std::map<std::string, driver_child>::iterator it, const exit_status& status,
                     worker_decisions& out);
  void stop_everything(worker_decisions& out);
  void maybe_finish_shutdown(worker_decisions& out);
  bool no_children() const;

  worker_settings settings_;
  cpu_pool cpus_;
  binary_lookup& binaries_;
  std::string id_;
  link_state link_ = link_state::unstarted;
  run_state run_ = run_state::running;
  bool connect_in_flight_ = false;  // a connect request is out (its answer may come after a MasterChanged)
  bool steady_retry_ = false;       // lost a master: retry every retry_interval, no backoff
  bool announced_ = false;          // announce_registered was decided
  bool heartbeating_ = false;       // the heartbeat timer runs
  std::uint32_t attempt_ = 0;       // connection/registration attempts since the last success
  // Reports decided while no master was registered, sent once one is (before this worker's
  // registration, so a recovering master learns of ends first).
  std::vector<worker_decision> unsent_;
  std::map<executor_key, executor_child> executors_;
  std::map<std::string, driver_child> drivers_;
  std::map<std::string, fetch_record> fetches_;  // by content hash
  std::set<std::string> finished_apps_;          // work dirs to remove once their executors are reaped
};

} // namespace ember::deploy
