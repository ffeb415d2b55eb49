// The standalone master's bookkeeping and decisions, without CAF: registered workers and their
// liveness, applications in FIFO order and the allocation of executors to them (Spark's
// Master.schedule / scheduleExecutorsOnWorkers, spread out or consolidated), executor failures,
// cluster-mode drivers with supervision, and master recovery (Spark's RECOVERING state: what a
// persistence_engine read back waits for its workers and drivers to answer). Every call returns
// the decisions (plain structs) that the master actor (actors/master.cpp) turns into messages.
// Time is passed in.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace ember::deploy {

using clock_type = std::chrono::steady_clock;
using time_point = clock_type::time_point;

struct master_settings {
  bool spread_out = true;                                 // ember.deploy.spreadOut
  std::chrono::milliseconds worker_timeout{60000};        // ember.worker.timeout
  std::uint32_t max_executor_retries = 10;                // ember.deploy.maxExecutorRetries
  std::uint32_t default_cores = 0;                        // ember.deploy.defaultCores (0 = unlimited)
  // State kept for ids remote peers choose is bounded: finished applications and drivers beyond
  // these are forgotten oldest first; a dead worker's record after dead_worker_persistence timeouts.
  std::size_t retained_applications = 200;                // ember.deploy.retainedApplications
  std::size_t retained_drivers = 200;                     // ember.deploy.retainedDrivers
  std::uint32_t dead_worker_persistence = 15;             // ember.dead.worker.persistence
};

// -- states (mirror deploy.capnp's enums) ----------------------------------------------------

enum class executor_state { launching, running, killed, failed, lost, exited };
enum class app_state { waiting, running, finished, failed, killed };
enum class driver_state { submitted, running, finished, relaunching, unknown, killed, failed, error };
/// Why an executor ended (common.capnp's ExecutorLossCause): decided by the worker that saw the
/// process end, or by the master (worker lost, released on request), relayed to the driver; a
/// cluster manager backend reports it with each loss (deploy/cluster_manager.hpp). exit_code,
/// signal and memory_limit mean its own tasks ended it (they count as task failures).
enum class executor_loss_cause {
  exit_code,         // the process exited by itself with a non-zero code
  signal,            // killed by a signal the driver did not ask for
  memory_limit,      // exceeded ember.executor.memory (or the OOM killer took it)
  heartbeat_timeout, // silent for longer than ember.network.timeout
  connection_lost,   // its connection to the driver ended
  killed_by_driver,  // released by dynamic allocation or killed on request
  worker_lost,       // the host supervising it is gone, and its local shuffle files with it
};

bool is_finished(executor_state s);
bool is_finished(driver_state s);

// -- what the master knows -------------------------------------------------------------------

struct binary_ref {
  std::string path;
  std::string content_hash;
  std::uint64_t size = 0;
};

using properties = std::vector<std::pair<std::string, std::string>>;

struct worker_description {
  std::string id;
  std::string host;
  std::uint16_t port = 0;
  std::uint32_t cores = 0;
  std::uint64_t memory = 0;
};

struct worker_record {
  worker_description desc;
  bool alive = true;
  time_point last_heartbeat;
  std::uint32_t cores_used = 0;
  std::uint64_t memory_used = 0;
  std::set<std::pair<std::string, std::string>> executors;  // (app id, executor id)
  std::set<std::string> drivers;
  bool recovering = false;  // read back by a restarted master; not heard from yet (alive = false)
  std::optional<time_point> dead_since;  // first check_timeouts after it was lost

  std::uint32_t cores_free() const { return desc.cores - cores_used; }
  std::uint64_t memory_free() const { return desc.memory - memory_used; }
};

struct app_description {
  std::string name;
  std::string user;
  std::uint32_t max_cores = 0;          // 0 = settings.default_cores
  std::uint32_t executor_cores = 1;
  std::uint64_t executor_memory = 0;
  binary_ref binary;
  std::vector<std::string> args;
  properties conf;
  std::string driver_host;
  std::uint16_t driver_port = 0;
  std::uint32_t initial_executors = 0;  // 0 = as many as fit
  std::string ui_url;                   // the driver's web UI; empty when it has none
};

struct executor_record {
  std::string app_id;
  std::string id;
  std::string worker_id;
  std::uint32_t cores = 0;
  std::uint64_t memory = 0;
  executor_state state = executor_state::launching;
  std::uint32_t pid = 0;
};

struct app_record {
  std::string id;
  app_description desc;
  app_state state = app_state::waiting;
  std::uint64_t submit_time_ms = 0;
  std::optional<std::uint32_t> executor_limit;  // requested total; nullopt = unlimited
  std::uint32_t next_executor_id = 0;
  std::uint32_t retry_count = 0;                // executor failures since the last normal end
  std::map<std::string, executor_record> executors;  // live ones, by executor id
  std::string end_reason;
  bool recovering = false;  // read back by a restarted master; its driver has not reconnected yet

  std::uint32_t cores_granted() const;
  /// Cores it may still get (max cores or default cores minus granted); UINT32_MAX if unlimited.
  std::uint32_t cores_left(std::uint32_t default_cores) const;
};

struct driver_description {
  binary_ref binary;
  std::vector<std::string> args;
  properties conf;
  std::uint32_t cores = 1;
  std::uint64_t memory = 0;
  bool supervise = false;
  std::string user;  // the submitter, its owner
};

struct driver_record {
  std::string id;
  driver_description desc;
  driver_state state = driver_state::submitted;
  std::string worker_id;   // empty while waiting
  std::uint32_t restarts = 0;
  std::uint32_t pid = 0;
  std::string message;
  bool kill_requested = false;
};

// -- recovery ------------------------------------------------------------------------------

/// Where master_logic records workers, applications and drivers so that a restarted master can
/// recover them (deploy/persistence.hpp); none with ember.deploy.recoveryMode=NONE. A call may
/// throw; master_logic keeps the message (take_persistence_errors) and goes on.
class persistence_engine {
public:
  virtual ~persistence_engine() = default;
  virtual void persist_worker(const worker_description& w) = 0;
  virtual void unpersist_worker(const std::string& worker_id) = 0;
  virtual void persist_app(const app_record& a) = 0;
  virtual void unpersist_app(const std::string& app_id) = 0;
  virtual void persist_driver(const driver_record& d) = 0;
  virtual void unpersist_driver(const std::string& driver_id) = 0;
};

/// What a restarted master read back. errors: one line per file that could not be read or
/// parsed ("recovery file <path> ...: <why>"); that entity is left out.
struct recovered_state {
  std::vector<worker_description> workers;
  std::vector<app_record> apps;        // executors empty: the workers report them
  std::vector<driver_record> drivers;  // worker_id empty: the workers claim them
  std::vector<std::string> errors;

  bool empty() const { return workers.empty() && apps.empty() && drivers.empty(); }
};

/// One executor a worker runs, as it reports it when it (re)registers or answers MasterChanged.
struct executor_report {
  std::string app_id, executor_id;
  std::uint32_t cores = 0;
  std::uint64_t memory = 0;
  executor_state state = executor_state::running;
};

/// What runs on a worker: its executors and cluster-mode drivers.
struct worker_report {
  std::vector<executor_report> executors;
  std::vector<std::string> driver_ids;
};

// -- decisions -------------------------------------------------------------------------------

/// master -> worker LaunchExecutor (binary, args, conf, driver address come from the app).
struct launch_executor {
  std::string worker_id, app_id, executor_id;
  std::uint32_t cores = 0;
  std::uint64_t memory = 0;
};
/// master -> driver ExecutorAdded.
struct executor_added {
  std::string app_id, executor_id, worker_id, host;
  std::uint32_t cores = 0;
  std::uint64_t memory = 0;
};
/// master -> driver ExecutorUpdated.
struct executor_updated {
  std::string app_id, executor_id;
  executor_state state = executor_state::running;
  int exit_code = 0;
  int signal = 0;
  std::string message;
  bool worker_lost = false;
  executor_loss_cause cause = executor_loss_cause::exit_code;
};
/// master -> worker KillExecutor.
struct kill_executor {
  std::string worker_id, app_id, executor_id, reason;
};
/// master -> driver ApplicationRemoved (the app is over for the master: too many failures).
struct application_removed {
  std::string app_id, reason;
};
/// master -> every alive worker ApplicationFinished.
struct application_finished {
  std::string app_id;
};
/// master -> worker LaunchDriver.
struct launch_driver {
  std::string worker_id, driver_id;
};
/// master -> worker KillDriver.
struct kill_driver {
  std::string worker_id, driver_id;
};
/// master -> worker ReconnectWorker (a heartbeat from a worker the master does not know as alive).
struct reconnect_worker {
  std::string worker_id;
};

using decision = std::variant<launch_executor, executor_added, executor_updated, kill_executor,
                              application_removed, application_finished, launch_driver, kill_driver,
                              reconnect_worker>;
using decisions = std::vector<decision>;

struct register_worker_result {
  bool accepted = false;
  bool duplicate = false;   // this id was registered before (re-registration)
  std::string reason;       // when refused
  decisions out;
};

// -- the logic -------------------------------------------------------------------------------

class master_logic {
public:
  explicit master_logic(master_settings settings);

  const master_settings& settings() const { return settings_; }

  // -- workers --

  /// Accepts a new worker, or the re-registration of a known id; refuses another id on a
  /// host:port that an alive worker holds. With a report (a worker that lost its master), the
  /// executors and drivers it runs are adopted when the master recovers them (a recovering
  /// worker, a live application or driver) and killed otherwise (kill_executor / kill_driver).
  register_worker_result register_worker(const worker_description& w, time_point now,
                                         const worker_report* report = nullptr);
  /// A heartbeat; unknown or dead worker -> reconnect_worker.
  decisions worker_heartbeat(const std::string& worker_id, time_point now);
  /// The worker is gone (connection down, timeout): its executors are lost, its drivers
  /// relaunched (supervise) or ended with state error.
  decisions worker_lost(const std::string& worker_id, const std::string& reason);
  /// Declares lost every alive worker silent for longer than worker_timeout.
  decisions check_timeouts(time_point now);

  // -- applications --

  decisions register_application(const std::string& app_id, app_description desc, std::uint64_t now_ms);
  /// The driver finished (UnregisterApplication or its actor died): kill its executors.
  decisions finish_application(const std::string& app_id, app_state final_state, const std::string& reason);
  /// Someone (the master web UI's kill button) removes a live application: its driver hears
  /// ApplicationRemoved with `reason`, its executors are killed, it ends as killed. found = false
  /// when the id is unknown or already finished.
  std::pair<bool, decisions> kill_application(const std::string& app_id, const std::string& reason);
  /// `cause` (the worker's) is relayed to the driver with the update.
  decisions executor_state_changed(const std::string& app_id, const std::string& executor_id, executor_state state,
                                   int exit_code, int signal, const std::string& message, std::uint32_t pid,
                                   executor_loss_cause cause = executor_loss_cause::exit_code);
  /// Dynamic allocation: the app wants `total` executors in all.
  decisions request_executors(const std::string& app_id, std::uint32_t total);
  /// Dynamic allocation: release these executors. An app without an executor limit gets one
  /// (its executors left), so the killed executors are not replaced at once.
  decisions kill_executors(const std::string& app_id, const std::vector<std::string>& executor_ids);

  // -- drivers (cluster deploy mode) --

  decisions submit_driver(const std::string& driver_id, driver_description desc);
  /// found = false when the id is unknown or already finished.
  std::pair<bool, decisions> kill_driver(const std::string& driver_id);
  decisions driver_state_changed(const std::string& driver_id, driver_state state, int exit_code, int signal,
                                 const std::string& message, std::uint32_t pid);

  // -- recovery --

  /// Persist every change from now on (nullptr: none).
  void set_persistence(persistence_engine* engine) { persistence_ = engine; }
  /// Messages of persistence calls that failed since the last call.
  std::vector<std::string> take_persistence_errors();
  /// A restarted master takes over what was persisted: workers (not alive until they answer),
  /// applications (waiting for their drivers) and drivers (unclaimed); nothing is scheduled until
  /// complete_recovery. False (and no recovery) when there is nothing to recover.
  bool begin_recovery(recovered_state state, time_point now);
  bool recovering() const { return recovering_; }
  /// A recovered worker answered MasterChanged (WorkerSchedulerState). found = false if unknown.
  std::pair<bool, decisions> worker_recovered(const std::string& worker_id, const worker_report& report,
                                              time_point now);
  /// The driver of a live application registered again (its app client reconnected); false if
  /// the master does not know the application.
  bool application_reconnected(const std::string& app_id);
  /// Every recovered worker and application has answered.
  bool all_recovered() const;
  /// Ends RECOVERING: workers that did not answer are removed, applications whose driver did not
  /// reconnect are finished, unclaimed drivers relaunched (supervise) or ended with error; then
  /// scheduling resumes.
  decisions complete_recovery();

  // -- reading --

  const std::map<std::string, worker_record>& workers() const { return workers_; }
  /// Live applications, in submission (FIFO) order.
  std::vector<const app_record*> apps() const;
  const std::vector<app_record>& finished_apps() const { return finished_apps_; }
  const app_record* app(const std::string& app_id) const;
  std::vector<const driver_record*> drivers() const;
  const std::vector<driver_record>& finished_drivers() const { return finished_drivers_; }
  const driver_record* driver(const std::string& driver_id) const;  // live or finished

private:
  decisions schedule();
  void schedule_drivers(decisions& out);
  void allocate(app_record& app, decisions& out);
  void remove_executor(app_record& app, const std::string& executor_id);
  void remove_app(const std::string& app_id, app_state state, const std::string& reason, decisions& out);
  void end_driver(const std::string& driver_id, driver_state state, const std::string& message);
  std::vector<worker_record*> alive_workers();
  void adopt(worker_record& w, const worker_report& report, bool recovering_worker, decisions& out);
  void persist(const worker_description& w);
  void persist(const app_record& a);
  void persist(const driver_record& d);
  void unpersist(const char* kind, const std::string& id);

  master_settings settings_;
  std::map<std::string, worker_record> workers_;
  std::map<std::string, app_record> apps_;
  std::vector<std::string> app_order_;      // FIFO
  std::vector<app_record> finished_apps_;
  std::map<std::string, driver_record> drivers_;
  std::vector<std::string> driver_order_;   // FIFO of live drivers
  std::vector<driver_record> finished_drivers_;
  std::size_t next_worker_rr_ = 0;          // drivers are placed round-robin
  persistence_engine* persistence_ = nullptr;
  std::vector<std::string> persistence_errors_;
  bool recovering_ = false;
};

} // namespace ember::deploy
