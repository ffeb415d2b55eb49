#include "deploy/worker_logic.hpp"

#include <algorithm>
#include <csignal>

#include "config/config.hpp"
#include "config/registry.hpp"
#include "deploy/binary_cache.hpp"

namespace ember::deploy {

namespace fs = std::filesystem;

std::string memory_exceeded_message(const std::string& executor_id, const std::string& host, std::uint64_t memory) {
  return "executor " + executor_id + " on host " + host + " killed: exceeded ember.executor.memory ("
         + config::format_size(static_cast<std::int64_t>(memory)) + ")";
}

std::string dir_name_problem(const std::string& name, bool top_level) {
  if (name.empty())
    return "is empty";
  if (name == "." || name == "..")
    return "is '" + name + "'";
  if (name.find('/') != std::string::npos)
    return "contains '/'";
  if (name.find('\0') != std::string::npos)
    return "contains a NUL byte";
  if (top_level && name == "binaries")
    return "is the binary cache's directory";
  return {};
}

namespace {

log_line info(std::string text) {
  return {log_level::info, std::move(text)};
}

log_line warn(std::string text) {
  return {log_level::warn, std::move(text)};
}

log_line error(std::string text) {
  return {log_level::error, std::move(text)};
}

std::string key_text(const executor_key& key) {
  return key.first + "/" + key.second;
}

} // namespace

worker_logic::worker_logic(worker_settings settings, cpu_pool cpus, binary_lookup& binaries)
    : settings_(std::move(settings)), cpus_(std::move(cpus)), binaries_(binaries) {
  // nop
}

// -- the master link -----------------------------------------------------------------------------

std::chrono::milliseconds worker_logic::backoff() const {
  if (steady_retry_)
    return settings_.retry_interval;
  auto factor = std::min<std::uint32_t>(attempt_, 4);  // 1, 2, 4, 8, 16 times the interval
  return settings_.retry_interval * (1u << factor);
}

// What runs here, for a master that lost track of it (RegisterWorker, WorkerSchedulerState).
worker_report worker_logic::running_report() const {
  worker_report r;
  for (auto& [key, e] : executors_)
    r.executors.push_back({key.first, key.second, e.launch.cores, e.launch.memory,
                           e.pid != 0 ? executor_state::running : executor_state::launching});
  for (auto& [id, d] : drivers_)
    r.driver_ids.push_back(id);
  return r;
}

worker_decisions worker_logic::start(std::string worker_id) {
  id_ = std::move(worker_id);
  link_ = link_state::connecting;
  worker_decisions out;
  connect(out);
  return out;
}

void worker_logic::connect(worker_decisions& out) {
  if (connect_in_flight_ || link_ == link_state::registering || link_ == link_state::registered
      || run_ != run_state::running)
    return;
  connect_in_flight_ = true;
  out.push_back(connect_master{});
}

worker_decisions worker_logic::connect_tick() {
  worker_decisions out;
  connect(out);
  return out;
}

worker_decisions worker_logic::master_reached() {
  connect_in_flight_ = false;
  worker_decisions out;
  if (link_ != link_state::connecting || run_ != run_state::running)
    return out;  // a recovering master reached this worker first (MasterChanged), or stopping
  out.push_back(adopt_master{});
  link_ = link_state::registering;
  register_now(out);
  return out;
}

worker_decisions worker_logic::master_not_published() {
  connect_in_flight_ = false;
  worker_decisions out;
  if (link_ != link_state::connecting)
    return out;
  out.push_back(warn("no actor published at " + settings_.master_url));
  ++attempt_;
  out.push_back(connect_later{backoff()});
  return out;
}

worker_decisions worker_logic::master_unreachable(const std::string& error) {
  connect_in_flight_ = false;
  auto wait = backoff();
  worker_decisions out;
  out.push_back(warn("cannot reach master " + settings_.master_url + " (" + error + "); retrying in "
                     + std::to_string(wait.count()) + " ms"));
  ++attempt_;
  out.push_back(connect_later{wait});
  return out;
}

void worker_logic::register_now(worker_decisions& out) {
  if (link_ == link_state::connecting || link_ == link_state::unstarted || run_ != run_state::running)
    return;
  link_ = link_state::registering;
  flush_unsent(out);
  out.push_back(send_registration{running_report()});
  // No answer in time: send again (the master may be busy or just restarted).
  out.push_back(register_later{backoff(), attempt_});
  ++attempt_;
}

worker_decisions worker_logic::register_tick(std::uint32_t attempt) {
  worker_decisions out;
  // Only the latest attempt's timer counts; an answer in between cancels it.
  if (link_ == link_state::registering && attempt + 1 == attempt_)
    register_now(out);
  return out;
}

void worker_logic::flush_unsent(worker_decisions& out) {
  for (auto& r : unsent_)
    out.push_back(std::move(r));
  unsent_.clear();
}

void worker_logic::start_heartbeat(worker_decisions& out) {
  if (heartbeating_)
    return;
  heartbeating_ = true;
  out.push_back(heartbeat_later{settings_.heartbeat_interval});
}

worker_decisions worker_logic::registered(const std::string& master_url) {
  worker_decisions out;
  link_ = link_state::registered;
  steady_retry_ = false;
  attempt_ = 0;
  settings_.master_url = master_url;
  out.push_back(info("registered with " + master_url));
  flush_unsent(out);
  if (!announced_) {
    announced_ = true;
    out.push_back(announce_registered{id_, master_url});
  }
  start_heartbeat(out);
  return out;
}

worker_decisions worker_logic::master_changed(const std::string& master_url) {
  worker_decisions out;
  if (run_ != run_state::running)
    return out;
  out.push_back(adopt_master{});
  link_ = link_state::registered;
  settings_.master_url = master_url;
  steady_retry_ = false;
  attempt_ = 0;
  out.push_back(info("master changed to " + master_url + ": reporting " + std::to_string(executors_.size())
                     + " executor(s) and " + std::to_string(drivers_.size()) + " driver(s)"));
  flush_unsent(out);
  out.push_back(send_scheduler_state{running_report()});
  start_heartbeat(out);
  return out;
}

worker_decisions worker_logic::registration_refused(const std::string& reason) {
  worker_decisions out;
  out.push_back(error("the master refused this worker: " + reason));
  stop_everything(out);
  out.push_back(quit_refused{"registration refused: " + reason});
  return out;
}

worker_decisions worker_logic::reconnect_requested() {
  worker_decisions out;
  out.push_back(warn("the master asks this worker to register again"));
  attempt_ = 0;
  register_now(out);
  return out;
}

worker_decisions worker_logic::master_lost(const std::string& reason) {
  worker_decisions out;
  out.push_back(warn("lost the master " + settings_.master_url + " (" + reason
                     + "); executors and drivers keep running; reconnecting every "
                     + std::to_string(settings_.retry_interval.count()) + " ms"));
  link_ = link_state::connecting;
  steady_retry_ = true;
  attempt_ = 0;
  out.push_back(connect_later{settings_.retry_interval});
  return out;
}

worker_decisions worker_logic::heartbeat_tick() {
  worker_decisions out;
  if (link_ == link_state::registered) {
    send_heartbeat h;
    for (auto& [key, e] : executors_) {
      h.cores_used += e.launch.cores;
      h.memory_used += e.launch.memory;
    }
    out.push_back(h);
  }
  out.push_back(heartbeat_later{settings_.heartbeat_interval});
  return out;
}

void worker_logic::report(worker_decision r, worker_decisions& out) {
  if (link_ != link_state::registered)
    unsent_.push_back(std::move(r));  // for the next master
  else
    out.push_back(std::move(r));
}

// -- executors -----------------------------------------------------------------------------------

worker_decisions worker_logic::launch_executor(executor_launch launch) {
  worker_decisions out;
  for (auto [name, top] : {std::pair{&launch.app_id, true}, std::pair{&launch.executor_id, false}})
    if (auto problem = dir_name_problem(*name, top); !problem.empty()) {
      out.push_back(error("dropped LaunchExecutor: " + std::string{top ? "app" : "executor"} + " id '" + *name
                          + "' " + problem + ", so it cannot name a directory"));
      return out;
    }
  executor_key key{launch.app_id, launch.executor_id};
  if (run_ != run_state::running || executors_.count(key) != 0)
    return out;  // idempotent: a repeated launch changes nothing
  finished_apps_.erase(key.first);
  executors_[key].launch = std::move(launch);
  resolve_binary(key, out);
  return out;
}

void worker_logic::resolve_binary(const executor_key& key, worker_decisions& out) {
  auto& launch = executors_.at(key).launch;
  auto hash = launch.binary.content_hash;
  if (!valid_content_hash(hash)) {
    fail_executor(key, "bad content hash '" + hash + "' for the application binary", out);
    return;
  }
  if (auto p = binaries_.find(hash, launch.binary.path)) {
    start_executor(key, *p, out);
    return;
  }
  auto [it, fresh] = fetches_.try_emplace(hash);
  it->second.waiting.push_back(key);
  if (fresh)  // else a fetch of this binary is under way: this launch waits for it too
    out.push_back(fetch_binary{hash, launch.driver_host, launch.driver_port});
}

void worker_logic::start_executor(const executor_key& key, const fs::path& binary, worker_decisions& out) {
  auto it = executors_.find(key);
  if (it == executors_.end())
    return;  // killed while its binary was fetched
  auto& e = it->second;
  auto& l = e.launch;
  spawn_executor s;
  s.app_id = key.first;
  s.executor_id = key.second;
  s.conf = l.conf;
  s.driver_port = l.driver_port;
  auto& spec = s.spec;
  spec.program = binary.string();
  spec.args = {"--ember-executor",
               "--ember-driver", l.driver_host + ":" + std::to_string(l.driver_port),
               "--ember-app-id", key.first,
               "--ember-executor-id", key.second,
               "--ember-worker-id", id_,
               "--ember-host", settings_.host,
               "--ember-cores", std::to_string(l.cores),
               "--ember-memory", std::to_string(l.memory)};
  for (auto& [k, v] : l.conf) {
    spec.args.push_back("--conf");
    spec.args.push_back(k + "=" + v);
  }
  if (!settings_.local_dir.empty()) {  // the last --conf wins
    spec.args.push_back("--conf");
    spec.args.push_back(std::string(config::keys::local_dir.name) + "=" + settings_.local_dir);
  }
  for (auto& c : settings_.child_conf)
    spec.args.insert(spec.args.end(), {"--conf", c});
  spec.secret = settings_.secret;
  for (auto& a : l.args)
    spec.args.push_back(a);
  spec.cwd = settings_.work_dir / key.first / key.second;
  spec.memory_limit = l.memory;
  spec.name = key.first + "-" + key.second;
  spec.parent_death_signal = SIGTERM;  // an orphaned executor cleans up its local dirs, then exits
  bool pin = false;
  for (auto& [k, v] : l.conf)
    if (k == config::keys::executor_pin_cores.name)
      pin = v == "true";
  if (pin) {
    if (auto cpus = cpus_.take(l.cores))
      spec.cpus = std::move(*cpus);
    else
      out.push_back(warn("executor " + key_text(key) + ": no " + std::to_string(l.cores)
                         + " free CPUs to pin it to (ember.executor.pinCores); it runs unpinned"));
  }
  e.cpus = spec.cpus;
  out.push_back(std::move(s));
}

worker_decisions worker_logic::executor_started(const executor_key& key, pid_t pid, fs::path cgroup,
                                                std::vector<fs::path> local_dirs) {
  worker_decisions out;
  auto it = executors_.find(key);
  if (it == executors_.end())
    return out;
  auto& e = it->second;
  e.pid = pid;
  e.cgroup = std::move(cgroup);
  e.local_dirs = std::move(local_dirs);
  out.push_back(info("executor " + key_text(key) + " started as pid " + std::to_string(pid) + " in "
                     + (settings_.work_dir / key.first / key.second).string()));
  report(report_executor{key.first, key.second, executor_state::running, 0, 0, "", pid,
                         executor_loss_cause::exit_code},
         out);
  return out;
}

worker_decisions worker_logic::executor_start_failed(const executor_key& key, const std::string& message) {
  worker_decisions out;
  auto it = executors_.find(key);
  if (it == executors_.end())
    return out;
  cpus_.give(it->second.cpus);
  fail_executor(key, message, out);
  return out;
}

void worker_logic::fail_executor(const executor_key& key, const std::string& message, worker_decisions& out) {
  out.push_back(error("executor " + key_text(key) + " failed to start: " + message));
  executors_.erase(key);
  report(report_executor{key.first, key.second, executor_state::failed, 0, 0, message, 0,
                         executor_loss_cause::exit_code},
         out);
  remove_app_dir_if_done(key.first, out);
}

void worker_logic::remove_app_dir_if_done(const std::string& app_id, worker_decisions& out) {
  if (finished_apps_.count(app_id) == 0)
    return;
  for (auto& [key, e] : executors_)
    if (key.first == app_id)
      return;
  out.push_back(remove_app_dir{app_id});
  finished_apps_.erase(app_id);
}

void worker_logic::kill_process(pid_t pid, worker_decisions& out) {
  if (pid <= 0)
    return;
  out.push_back(terminate_child{pid});
  out.push_back(escalate_later{settings_.kill_grace, pid});
}

worker_decisions worker_logic::kill_executor(const executor_key& key, const std::string& reason) {
  worker_decisions out;
  auto it = executors_.find(key);
  if (it == executors_.end())
    return out;
  auto& e = it->second;
  if (e.pid == 0) {
    // Still waiting for its binary: it never started.
    executors_.erase(it);
    report(report_executor{key.first, key.second, executor_state::killed, 0, 0, reason, 0,
                           executor_loss_cause::killed_by_driver},
           out);
    return out;
  }
  if (!e.kill_requested) {
    out.push_back(info("killing executor " + key_text(key) + " (pid " + std::to_string(e.pid) + "): " + reason));
    e.kill_requested = true;
    kill_process(e.pid, out);
  }
  return out;
}

worker_decisions worker_logic::application_finished(const std::string& app_id) {
  worker_decisions out;
  if (auto problem = dir_name_problem(app_id, true); !problem.empty()) {
    out.push_back(error("dropped ApplicationFinished: app id '" + app_id + "' " + problem
                        + ", so it cannot name a directory"));
    return out;
  }
  finished_apps_.insert(app_id);
  std::vector<executor_key> keys;
  for (auto& [key, e] : executors_)
    if (key.first == app_id)
      keys.push_back(key);
  for (auto& key : keys) {
    auto more = kill_executor(key, "application " + app_id + " finished");
    out.insert(out.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  }
  remove_app_dir_if_done(app_id, out);
  return out;
}

worker_decisions worker_logic::fetch_succeeded(const std::string& content_hash, const fs::path& binary) {
  worker_decisions out;
  auto it = fetches_.find(content_hash);
  if (it == fetches_.end())
    return out;  // cancelled (shutdown)
  auto waiting = std::move(it->second.waiting);
  auto drivers = std::move(it->second.waiting_drivers);
  fetches_.erase(it);
  for (auto& key : waiting)
    start_executor(key, binary, out);
  for (auto& id : drivers)
    if (auto d = drivers_.find(id); d != drivers_.end() && d->second.fetching)
      start_driver(id, out, binary);
  return out;
}

worker_decisions worker_logic::fetch_failed(const std::string& content_hash, const std::string& message) {
  worker_decisions out;
  auto it = fetches_.find(content_hash);
  if (it == fetches_.end())
    return out;
  auto waiting = std::move(it->second.waiting);
  auto drivers = std::move(it->second.waiting_drivers);
  fetches_.erase(it);
  for (auto& key : waiting)
    if (executors_.count(key) != 0)
      fail_executor(key, message, out);
  for (auto& id : drivers)
    if (auto d = drivers_.find(id); d != drivers_.end() && d->second.fetching) {
      drivers_.erase(d);
      report(report_driver{id, driver_state::error, 0, 0, "driver " + id + ": " + message, 0}, out);
    }
  return out;
}

std::vector<std::string> worker_logic::fetches() const {
  std::vector<std::string> r;
  for (auto& [hash, f] : fetches_)
    r.push_back(hash);
  return r;
}

// -- drivers -------------------------------------------------------------------------------------

worker_decisions worker_logic::launch_driver(driver_launch launch) {
  worker_decisions out;
  if (auto problem = dir_name_problem(launch.driver_id, true); !problem.empty()) {
    out.push_back(error("dropped LaunchDriver: driver id '" + launch.driver_id + "' " + problem
                        + ", so it cannot name a directory"));
    return out;
  }
  auto id = launch.driver_id;
  if (run_ != run_state::running || drivers_.count(id) != 0)
    return out;
  drivers_[id].launch = std::move(launch);
  start_driver(id, out);
  return out;
}

void worker_logic::start_driver(const std::string& id, worker_decisions& out, std::optional<fs::path> fetched) {
  auto it = drivers_.find(id);
  if (it == drivers_.end())
    return;
  auto& l = it->second.launch;
  auto refuse = [&](const std::string& msg) {
    out.push_back(error(msg));
    drivers_.erase(it);
    report(report_driver{id, driver_state::error, 0, 0, msg, 0}, out);
  };
  // A driver runs only as a verified copy in the binary cache, never as the path the message
  // names: without a digest there is nothing to verify, so nothing runs.
  if (!valid_content_hash(l.binary.content_hash)) {
    refuse("driver " + id + ": refused: binary " + l.binary.path + " has no SHA-256 digest ('"
           + l.binary.content_hash + "'); a cluster-mode driver must be an application binary shipped by ember submit");
    return;
  }
  auto binary = fetched ? fetched : binaries_.find(l.binary.content_hash, l.binary.path);
  if (!binary) {
    // ember submit gave it to the master, which keeps it until no driver of it is left: fetch
    // it from there (verified against the digest as it is stored).
    it->second.fetching = true;
    auto [f, fresh] = fetches_.try_emplace(l.binary.content_hash);
    f->second.waiting_drivers.push_back(id);
    if (fresh)
      out.push_back(fetch_binary{l.binary.content_hash, "", 0, true});
    return;
  }
  it->second.fetching = false;
  spawn_driver s;
  s.driver_id = id;
  s.spec.program = binary->string();
  for (auto& c : settings_.child_conf)  // first: the submitter's own arguments end the list
    s.spec.args.insert(s.spec.args.end(), {"--conf", c});
  s.spec.args.insert(s.spec.args.end(), l.args.begin(), l.args.end());
  s.spec.secret = settings_.secret;
  s.spec.cwd = settings_.work_dir / id;
  s.spec.memory_limit = 0;  // a driver is accounted by the master, not limited (as Spark's DriverRunner)
  s.spec.name = id;
  out.push_back(std::move(s));
}

worker_decisions worker_logic::driver_started(const std::string& id, pid_t pid, fs::path cgroup) {
  worker_decisions out;
  auto it = drivers_.find(id);
  if (it == drivers_.end())
    return out;
  it->second.pid = pid;
  it->second.cgroup = std::move(cgroup);
  out.push_back(info("driver " + id + " started as pid " + std::to_string(pid) + " in "
                     + (settings_.work_dir / id).string()));
  report(report_driver{id, driver_state::running, 0, 0, "pid " + std::to_string(pid), pid}, out);
  return out;
}

worker_decisions worker_logic::driver_start_failed(const std::string& id, const std::string& error) {
  worker_decisions out;
  if (drivers_.erase(id) == 0)
    return out;
  report(report_driver{id, driver_state::error, 0, 0, "driver " + id + ": " + error, 0}, out);
  return out;
}

worker_decisions worker_logic::kill_driver(const std::string& id) {
  worker_decisions out;
  auto it = drivers_.find(id);
  if (it == drivers_.end())
    return out;
  it->second.kill_requested = true;
  if (it->second.pid == 0) {  // waiting for a supervised restart
    drivers_.erase(it);
    report(report_driver{id, driver_state::killed, 0, 0, "driver " + id + " killed", 0}, out);
    return out;
  }
  kill_process(it->second.pid, out);
  return out;
}

worker_decisions worker_logic::restart_driver_tick(const std::string& id) {
  worker_decisions out;
  auto it = drivers_.find(id);
  if (it == drivers_.end() || it->second.pid != 0 || it->second.fetching || run_ != run_state::running)
    return out;
  start_driver(id, out);
  return out;
}

// -- children and shutdown -----------------------------------------------------------------------

fs::path worker_logic::cgroup_of(pid_t pid) const {
  for (auto& [key, e] : executors_)
    if (e.pid == pid)
      return e.cgroup;
  return {};
}

worker_decisions worker_logic::child_exited(pid_t pid, const exit_status& status, bool cgroup_oom) {
  worker_decisions out;
  if (pid > 0) {
    auto e = std::find_if(executors_.begin(), executors_.end(), [pid](auto& kv) { return kv.second.pid == pid; });
    auto d = std::find_if(drivers_.begin(), drivers_.end(), [pid](auto& kv) { return kv.second.pid == pid; });
    if (e != executors_.end())
      executor_exited(e, status, cgroup_oom, out);
    else if (d != drivers_.end())
      driver_exited(d, status, out);
  }
  maybe_finish_shutdown(out);
  return out;
}

// An executor removes its local dirs on a clean exit and on SIGTERM, but not when killed with
// SIGKILL or by the memory limit; nobody else reads its files then (its outputs die with its
// block server and the driver unregisters them). The application's directory goes once no other
// executor of it on this host has files there.
void worker_logic::executor_exited(std::map<executor_key, executor_child>::iterator it, const exit_status& status,
                                   bool cgroup_oom, worker_decisions& out) {
  auto key = it->first;
  auto e = std::move(it->second);
  executors_.erase(it);
  cpus_.give(e.cpus);
  bool oom = (status.exited && status.exit_code == oom_exit_code) || cgroup_oom;
  out.push_back(remove_cgroup_dir{e.cgroup});
  report_executor r{key.first, key.second, executor_state::failed, status.exit_code, status.signal, "", e.pid,
                    executor_loss_cause::exit_code};
  if (e.kill_requested) {
    r.state = executor_state::killed;
    r.message = "executor " + key.second + " killed by the worker (" + status.describe() + ")";
    r.cause = executor_loss_cause::killed_by_driver;
  } else if (oom) {
    r.message = memory_exceeded_message(key.second, settings_.host, e.launch.memory);
    r.cause = executor_loss_cause::memory_limit;
  } else {
    r.state = status.exited ? executor_state::exited : executor_state::failed;
    r.message = "executor " + key.second + " on host " + settings_.host + " ended with " + status.describe();
    r.cause = status.signal != 0 ? executor_loss_cause::signal : executor_loss_cause::exit_code;
  }
  out.push_back(info("executor " + key_text(key) + " (pid " + std::to_string(e.pid) + "): " + r.message));
  out.push_back(remove_executor_dirs{e.local_dirs});
  if (run_ == run_state::running)
    report(std::move(r), out);
  remove_app_dir_if_done(key.first, out);
}

void worker_logic::driver_exited(std::map<std::string, driver_child>::iterator it, const exit_status& status,
                                 worker_decisions& out) {
  auto id = it->first;
  auto& d = it->second;
  d.pid = 0;
  out.push_back(remove_cgroup_dir{d.cgroup});
  auto text = "driver " + id + " ended with " + status.describe();
  out.push_back(info(text));
  if (d.kill_requested || run_ != run_state::running) {
    drivers_.erase(it);
    if (run_ == run_state::running)
      report(report_driver{id, driver_state::killed, status.exit_code, status.signal, text, 0}, out);
    return;
  }
  if (status.success()) {
    drivers_.erase(it);
    report(report_driver{id, driver_state::finished, 0, 0, text, 0}, out);
    return;
  }
  if (!d.launch.supervise) {
    drivers_.erase(it);
    report(report_driver{id, driver_state::failed, status.exit_code, status.signal, text, 0}, out);
    return;
  }
  // Supervised: restart here with a doubling backoff (as Spark's DriverRunner).
  auto factor = std::min<std::uint32_t>(d.restarts, 6);
  auto wait = settings_.driver_restart_backoff * (1u << factor);
  ++d.restarts;
  report(report_driver{id, driver_state::relaunching, status.exit_code, status.signal,
                       text + "; restarting in " + std::to_string(wait.count()) + " ms", 0},
         out);
  out.push_back(restart_driver_later{wait, id});
}

worker_decisions worker_logic::escalate_tick(pid_t pid) {
  worker_decisions out;
  bool alive = pid > 0
               && (std::any_of(executors_.begin(), executors_.end(), [pid](auto& kv) { return kv.second.pid == pid; })
                   || std::any_of(drivers_.begin(), drivers_.end(), [pid](auto& kv) { return kv.second.pid == pid; }));
  if (alive) {
    out.push_back(warn("pid " + std::to_string(pid) + " still alive " + std::to_string(settings_.kill_grace.count())
                       + " ms after SIGTERM: SIGKILL"));
    out.push_back(force_kill_child{pid});
  }
  return out;
}

bool worker_logic::no_children() const {
  return std::none_of(executors_.begin(), executors_.end(), [](auto& kv) { return kv.second.pid != 0; })
         && std::none_of(drivers_.begin(), drivers_.end(), [](auto& kv) { return kv.second.pid != 0; });
}

worker_decisions worker_logic::shutdown() {
  worker_decisions out;
  auto running = [](auto& children) {
    return std::count_if(children.begin(), children.end(), [](auto& kv) { return kv.second.pid != 0; });
  };
  out.push_back(info("worker " + id_ + " stopping: killing " + std::to_string(running(executors_))
                     + " executor(s) and " + std::to_string(running(drivers_)) + " driver(s)"));
  stop_everything(out);
  return out;
}

worker_decisions worker_logic::exit_requested() {
  worker_decisions out;
  stop_everything(out);
  return out;
}

void worker_logic::stop_everything(worker_decisions& out) {
  if (run_ == run_state::running)
    run_ = run_state::shutting_down;
  for (auto& [key, e] : executors_)
    kill_process(e.pid, out);
  for (auto& [id, d] : drivers_)
    kill_process(d.pid, out);
  // Executors still waiting for a binary never started.
  for (auto it = executors_.begin(); it != executors_.end();)
    it = it->second.pid == 0 ? executors_.erase(it) : std::next(it);
  if (!fetches_.empty()) {
    fetches_.clear();
    out.push_back(cancel_fetches{});
  }
  maybe_finish_shutdown(out);
}

void worker_logic::maybe_finish_shutdown(worker_decisions& out) {
  if (run_ == run_state::shutting_down && no_children()) {
    run_ = run_state::stopped;
    out.push_back(info("all child processes reaped; worker " + id_ + " stops"));
    out.push_back(finish_shutdown{});
  }
}

} // namespace ember::deploy
