#include "actors/worker.hpp"

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <ctime>
#include <map>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/conversions.hpp"
#include "config/config.hpp"
#include "config/log.hpp"
#include "deploy/binary_cache.hpp"
#include "protocol/deploy.capnp.h"
#include "protocol/wire.hpp"

namespace ember::actors {

namespace fs = std::filesystem;

namespace {

using connect_tick_atom = caf::atom_constant<caf::atom("wconnect")>;
using register_tick_atom = caf::atom_constant<caf::atom("wregister")>;
using heartbeat_atom = caf::atom_constant<caf::atom("wbeat")>;
using reaped_atom = caf::atom_constant<caf::atom("wreaped")>;
using escalate_atom = caf::atom_constant<caf::atom("wescalate")>;
using restart_atom = caf::atom_constant<caf::atom("wrestart")>;

using exec_key = std::pair<std::string, std::string>;  // (app id, executor id)

struct executor_proc {
  wire<proto::LaunchExecutor> launch;
  pid_t pid = 0;
  fs::path cgroup;
  std::vector<int> cpus; // pinned CPUs (ember.executor.pinCores), given back when it ends
  std::vector<fs::path> local_dirs; // its <ember.local.dir>/ember-<app>-<driver port>/<id>, deleted when it ends
  bool kill_requested = false;
};

struct driver_proc {
  wire<proto::LaunchDriver> launch;
  pid_t pid = 0;
  fs::path cgroup;
  bool kill_requested = false;
  std::uint32_t restarts = 0;
};

struct fetch_state {
  std::unique_ptr<deploy::binary_assembly> assembly;
  caf::actor source;
  std::string source_text;  // host:port, for errors
  std::vector<exec_key> waiting;
};

struct worker_state {
  worker_options opt;
  std::string url;  // ember://master
  std::unique_ptr<deploy::binary_cache> cache;
  std::unique_ptr<deploy::reaper> reaper;
  caf::actor master;
  bool connecting = false;
  bool registered = false;
  bool announced = false;
  bool heartbeating = false;
  bool shutting_down = false;
  bool lost_master = false;   // the master went away: retry every retry_interval, no backoff
  std::uint32_t attempt = 0;  // registration/connection attempts since the last success
  // State changes that happened while no master was connected, sent once one is (before this
  // worker's report, so a recovering master learns of ends first).
  std::vector<caf::message> unsent;
  std::map<exec_key, executor_proc> executors;
  deploy::cpu_pool cpus = deploy::cpu_pool::of_this_process(); // for ember.executor.pinCores
  std::map<pid_t, exec_key> executor_pids;
  std::map<std::string, driver_proc> drivers;
  std::map<pid_t, std::string> driver_pids;
  std::map<std::string, fetch_state> fetches;  // by content hash
  std::set<std::string> finished_apps;         // work dirs to remove once their executors are reaped
  caf::response_promise shutdown_promise;
  std::shared_ptr<spdlog::logger> log = ember::log::get("worker");
  static inline const char* name = "ember.worker";

  ~worker_state() {
    reaper.reset();  // joins the reaper thread
  }
};

using worker_actor = caf::stateful_actor<worker_state>;

std::string make_stamp() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d%H%M%S", &tm);
  return stamp;
}

std::chrono::milliseconds backoff(const worker_state& st) {
  if (st.lost_master)
    return st.opt.retry_interval;
  auto factor = std::min<std::uint32_t>(st.attempt, 4);  // 1, 2, 4, 8, 16 times the interval
  return st.opt.retry_interval * (1u << factor);
}

// -- master connection -------------------------------------------------------------------------

void send_registration(worker_actor* self);

void connect(worker_actor* self) {
  auto& st = self->state;
  if (st.connecting || st.master || st.shutting_down)
    return;
  st.connecting = true;
  auto mm = self->system().middleman().actor_handle();
  self->request(mm, st.opt.ask_timeout, caf::connect_atom::value, st.opt.master_host, st.opt.master_port)
      .then(
          [self](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>&) {
            auto& st = self->state;
            st.connecting = false;
            if (st.master)
              return;  // a recovering master reached this worker first (MasterChanged)
            if (!ptr) {
              st.log->warn("no actor published at {}", st.url);
              ++st.attempt;
              self->delayed_send(self, backoff(st), connect_tick_atom::value);
              return;
            }
            st.master = caf::actor_cast<caf::actor>(ptr);
            self->monitor(st.master);
            send_registration(self);
          },
          [self](caf::error& err) {
            auto& st = self->state;
            st.connecting = false;
            auto wait = backoff(st);
            st.log->warn("cannot reach master {} ({}); retrying in {} ms", st.url, describe(err), wait.count());
            ++st.attempt;
            self->delayed_send(self, wait, connect_tick_atom::value);
          });
}

// What runs here, for a master that lost track of it (RegisterWorker, WorkerSchedulerState).
template <class Builder>
void fill_running(worker_state& st, Builder b) {
  auto executors = b.initExecutors(static_cast<unsigned>(st.executors.size()));
  unsigned i = 0;
  for (auto& [key, e] : st.executors) {
    auto x = executors[i++];
    auto r = e.launch.reader();
    x.setAppId(key.first);
    x.setExecutorId(key.second);
    x.setCores(r.getCores());
    x.setMemoryBytes(r.getMemoryBytes());
    x.setState(e.pid != 0 ? proto::ExecutorState::RUNNING : proto::ExecutorState::LAUNCHING);
  }
  auto drivers = b.initDriverIds(static_cast<unsigned>(st.drivers.size()));
  i = 0;
  for (auto& [id, d] : st.drivers)
    drivers.set(i++, id);
}

void flush_unsent(worker_actor* self) {
  auto& st = self->state;
  for (auto& m : st.unsent)
    self->send(st.master, m);
  st.unsent.clear();
}

// Every regular file under the data dirs (recursively), as (absolute path, size), sorted. A dir
// that cannot be read is logged and skipped: the worker still serves executors.
std::vector<std::pair<std::string, std::uint64_t>> data_files(const std::vector<std::string>& dirs,
                                                              spdlog::logger& log) {
  std::vector<std::pair<std::string, std::uint64_t>> out;
  for (const auto& d : dirs) {
    std::error_code ec;
    for (fs::recursive_directory_iterator it{d, fs::directory_options::skip_permission_denied, ec}, end;
         !ec && it != end; it.increment(ec)) {
      std::error_code size_ec;
      if (it->is_regular_file(size_ec)) {
        auto size = it->file_size(size_ec);
        if (!size_ec)
          out.emplace_back(it->path().lexically_normal().string(), size);
      }
    }
    if (ec)
      log.warn("data dir {}: {} (its files are not declared)", d, ec.message());
  }
  std::sort(out.begin(), out.end());
  return out;
}

void send_registration(worker_actor* self) {
  auto& st = self->state;
  if (!st.master || st.shutting_down)
    return;
  st.registered = false;
  flush_unsent(self);
  self->send(st.master, make_wire<proto::RegisterWorker>([&](proto::RegisterWorker::Builder b) {
               b.setWorkerId(st.opt.id);
               b.setHost(st.opt.host);
               b.setPort(st.opt.port);
               b.setCores(st.opt.cores);
               b.setMemoryBytes(st.opt.memory);
               auto dirs = b.initDataDirs(static_cast<unsigned>(st.opt.data_dirs.size()));
               for (unsigned i = 0; i < st.opt.data_dirs.size(); ++i)
                 dirs.set(i, st.opt.data_dirs[i]);
               // Scanned at every registration (the worker is detached: blocking is fine here).
               auto files = data_files(st.opt.data_dirs, *st.log);
               auto list = b.initDataFiles(static_cast<unsigned>(files.size()));
               for (unsigned i = 0; i < files.size(); ++i) {
                 list[i].setPath(files[i].first);
                 list[i].setSize(files[i].second);
               }
               fill_running(st, b);
             }));
  // No answer in time: send again (the master may be busy or just restarted).
  self->delayed_send(self, backoff(st), register_tick_atom::value, st.attempt);
  ++st.attempt;
}

void report_executor(worker_actor* self, const exec_key& key, proto::ExecutorState state, int exit_code, int signal,
                     const std::string& message, pid_t pid) {
  auto& st = self->state;
  auto msg = make_wire<proto::ExecutorStateChanged>([&](proto::ExecutorStateChanged::Builder b) {
    b.setAppId(key.first);
    b.setExecutorId(key.second);
    b.setState(state);
    b.setExitCode(exit_code);
    b.setSignal(signal);
    b.setMessage(message);
    b.setWorkerId(st.opt.id);
    b.setPid(static_cast<std::uint32_t>(pid));
  });
  if (!st.master || !st.registered) {
    st.unsent.push_back(caf::make_message(std::move(msg)));  // for the next master
    return;
  }
  self->send(st.master, std::move(msg));
}

void report_driver(worker_actor* self, const std::string& id, proto::DriverState state, int exit_code, int signal,
                   const std::string& message, pid_t pid = 0) {
  auto& st = self->state;
  auto msg = make_wire<proto::DriverStateChanged>([&](proto::DriverStateChanged::Builder b) {
    b.setDriverId(id);
    b.setState(state);
    b.setExitCode(exit_code);
    b.setSignal(signal);
    b.setMessage(message);
    b.setPid(static_cast<std::uint32_t>(pid));
  });
  if (!st.master || !st.registered) {
    st.unsent.push_back(caf::make_message(std::move(msg)));
    return;
  }
  self->send(st.master, std::move(msg));
}

// -- processes -----------------------------------------------------------------------------------

bool no_children(const worker_state& st) {
  return st.executor_pids.empty() && st.driver_pids.empty();
}

void maybe_finish_shutdown(worker_actor* self) {
  auto& st = self->state;
  if (st.shutting_down && no_children(st)) {
    st.log->info("all child processes reaped; worker {} stops", st.opt.id);
    if (st.shutdown_promise.pending())
      st.shutdown_promise.deliver(caf::unit);
    self->quit();
  }
}

void remove_app_dir_if_done(worker_actor* self, const std::string& app_id) {
  auto& st = self->state;
  if (st.finished_apps.count(app_id) == 0)
    return;
  for (auto& [key, e] : st.executors)
    if (key.first == app_id)
      return;
  std::error_code ec;
  fs::remove_all(st.opt.work_dir / app_id, ec);
  st.finished_apps.erase(app_id);
}

void fail_executor(worker_actor* self, const exec_key& key, const std::string& message) {
  auto& st = self->state;
  st.log->error("executor {}/{} failed to start: {}", key.first, key.second, message);
  st.executors.erase(key);
  report_executor(self, key, proto::ExecutorState::FAILED, 0, 0, message, 0);
  remove_app_dir_if_done(self, key.first);
}

// The directories an executor keeps its shuffle files and spills in, <ember.local.dir>/ember-<app>-
// <driver port>/<id>, resolved at its launch as the executor itself resolves them (this worker's
// ember.worker.localDir, else its --conf, then the defaults file). Empty, with a warning, if the
// configuration cannot be read.
std::vector<fs::path> executor_local_dirs(worker_actor* self, const exec_key& key, proto::LaunchExecutor::Reader r) {
  std::vector<fs::path> out;
  try {
    config::load_options lo;
    for (auto p : r.getConf())
      lo.conf.push_back(str(p.getKey()) + "=" + str(p.getValue()));
    if (!self->state.opt.local_dir.empty())
      lo.conf.push_back(std::string(config::keys::local_dir.name) + "=" + self->state.opt.local_dir);
    for (auto& d : config::split_list(config::load(lo).get(config::keys::local_dir)))
      out.push_back(fs::path{d} / ("ember-" + key.first + "-" + std::to_string(r.getDriverPort())) / key.second);
  } catch (const std::exception& ex) {
    self->state.log->warn("executor {}/{}: cannot tell its local dirs to clean them later: {}", key.first,
                          key.second, ex.what());
  }
  return out;
}

void start_executor(worker_actor* self, const exec_key& key, const fs::path& binary) {
  auto& st = self->state;
  auto it = st.executors.find(key);
  if (it == st.executors.end())
    return;  // killed while its binary was fetched
  auto& e = it->second;
  auto r = e.launch.reader();
  deploy::launch_spec spec;
  spec.program = binary.string();
  spec.args = {"--ember-executor",
               "--ember-driver", str(r.getDriverHost()) + ":" + std::to_string(r.getDriverPort()),
               "--ember-app-id", key.first,
               "--ember-executor-id", key.second,
               "--ember-worker-id", st.opt.id,
               "--ember-host", st.opt.host,
               "--ember-cores", std::to_string(r.getCores()),
               "--ember-memory", std::to_string(r.getMemoryBytes())};
  for (auto p : r.getConf()) {
    spec.args.push_back("--conf");
    spec.args.push_back(str(p.getKey()) + "=" + str(p.getValue()));
  }
  if (!st.opt.local_dir.empty()) { // the last --conf wins
    spec.args.push_back("--conf");
    spec.args.push_back(std::string(config::keys::local_dir.name) + "=" + st.opt.local_dir);
  }
  for (auto a : r.getArgs())
    spec.args.push_back(str(a));
  spec.cwd = st.opt.work_dir / key.first / key.second;
  spec.memory_limit = r.getMemoryBytes();
  spec.name = key.first + "-" + key.second;
  spec.parent_death_signal = SIGTERM; // an orphaned executor cleans up its local dirs, then exits
  bool pin = false;
  for (auto p : r.getConf())
    if (str(p.getKey()) == config::keys::executor_pin_cores.name)
      pin = str(p.getValue()) == "true";
  if (pin) {
    if (auto cpus = st.cpus.take(r.getCores()))
      spec.cpus = std::move(*cpus);
    else
      st.log->warn("executor {}/{}: no {} free CPUs to pin it to (ember.executor.pinCores); it runs unpinned", key.first,
                   key.second, r.getCores());
  }
  try {
    auto p = deploy::launch(spec, st.opt.limiter);
    e.cpus = spec.cpus;
    e.local_dirs = executor_local_dirs(self, key, r);
    st.reaper->notify_launched();
    e.pid = p.pid;
    e.cgroup = p.cgroup;
    st.executor_pids[p.pid] = key;
    st.log->info("executor {}/{} started as pid {} in {}", key.first, key.second, p.pid, spec.cwd.string());
    report_executor(self, key, proto::ExecutorState::RUNNING, 0, 0, "", p.pid);
  } catch (const std::exception& ex) {
    st.cpus.give(spec.cpus);
    fail_executor(self, key, ex.what());
  }
}

void fail_fetch(worker_actor* self, const std::string& hash, const std::string& message) {
  auto& st = self->state;
  auto it = st.fetches.find(hash);
  if (it == st.fetches.end())
    return;
  auto waiting = std::move(it->second.waiting);
  st.fetches.erase(it);
  for (auto& key : waiting)
    if (st.executors.count(key) != 0)
      fail_executor(self, key, message);
}

void fetch_next(worker_actor* self, const std::string& hash) {
  auto& st = self->state;
  auto& f = st.fetches.at(hash);
  auto msg = make_wire<proto::FetchBinary>([&](proto::FetchBinary::Builder b) {
    b.setContentHash(hash);
    b.setOffset(f.assembly->next_offset());
    b.setMaxChunkSize(st.opt.max_chunk_size);
  });
  self->request(f.source, st.opt.ask_timeout, msg)
      .then(
          [self, hash](const wire<proto::BinaryChunk>& chunk) {
            auto& st = self->state;
            auto it = st.fetches.find(hash);
            if (it == st.fetches.end())
              return;
            auto r = chunk.reader();
            deploy::binary_chunk c;
            c.offset = r.getOffset();
            c.total_size = r.getTotalSize();
            c.data = std::string{view(r.getData())};
            c.checksum = r.getChecksum();
            c.last = r.getLast();
            if (str(r.getContentHash()) != hash) {
              fail_fetch(self, hash, "driver sent a chunk of " + str(r.getContentHash()) + " for " + hash);
              return;
            }
            if (auto err = it->second.assembly->add(c)) {
              fail_fetch(self, hash, "fetching the application binary failed: " + *err);
              return;
            }
            if (!it->second.assembly->complete()) {
              fetch_next(self, hash);
              return;
            }
            fs::path path;
            try {
              path = it->second.assembly->finish();
            } catch (const std::exception& ex) {
              fail_fetch(self, hash, std::string{"fetching the application binary failed: "} + ex.what());
              return;
            }
            st.log->info("fetched binary {} ({} bytes) from {}", hash, c.total_size, it->second.source_text);
            auto waiting = std::move(it->second.waiting);
            st.fetches.erase(it);
            for (auto& key : waiting)
              start_executor(self, key, path);
          },
          [self, hash](caf::error& err) {
            auto& st = self->state;
            auto it = st.fetches.find(hash);
            auto from = it == st.fetches.end() ? std::string{} : it->second.source_text;
            fail_fetch(self, hash, "fetching binary " + hash + " from the driver at " + from + " failed: " + describe(err));
          });
}

void resolve_binary(worker_actor* self, const exec_key& key) {
  auto& st = self->state;
  auto r = st.executors.at(key).launch.reader();
  auto bin = r.getBinary();
  auto hash = str(bin.getContentHash());
  if (!deploy::valid_content_hash(hash)) {
    fail_executor(self, key, "bad content hash '" + hash + "' for the application binary");
    return;
  }
  if (auto p = st.cache->lookup(hash)) {
    start_executor(self, key, *p);
    return;
  }
  if (auto p = st.cache->local_match(str(bin.getPath()), hash)) {
    start_executor(self, key, *p);
    return;
  }
  auto [it, fresh] = st.fetches.try_emplace(hash);
  it->second.waiting.push_back(key);
  if (!fresh)
    return;  // a fetch of this binary is under way
  auto host = str(r.getDriverHost());
  auto port = r.getDriverPort();
  it->second.source_text = host + ":" + std::to_string(port);
  try {
    it->second.assembly = std::make_unique<deploy::binary_assembly>(*st.cache, hash);
  } catch (const std::exception& ex) {
    fail_fetch(self, hash, ex.what());
    return;
  }
  st.log->info("fetching binary {} from the driver at {}:{}", hash, host, port);
  auto mm = self->system().middleman().actor_handle();
  self->request(mm, st.opt.ask_timeout, caf::connect_atom::value, host, port)
      .then(
          [self, hash](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>&) {
            auto& st = self->state;
            auto it = st.fetches.find(hash);
            if (it == st.fetches.end())
              return;
            if (!ptr) {
              fail_fetch(self, hash, "no driver endpoint published at " + it->second.source_text);
              return;
            }
            it->second.source = caf::actor_cast<caf::actor>(ptr);
            fetch_next(self, hash);
          },
          [self, hash](caf::error& err) {
            auto& st = self->state;
            auto it = st.fetches.find(hash);
            auto from = it == st.fetches.end() ? std::string{} : it->second.source_text;
            fail_fetch(self, hash, "cannot reach the driver at " + from + " to fetch the application binary: "
                                     + describe(err));
          });
}

void kill_process(worker_actor* self, pid_t pid) {
  if (pid <= 0)
    return;
  deploy::kill_group(pid, SIGTERM);
  // A stopped (SIGSTOPped, hung in a debugger...) process acts on SIGTERM only once continued:
  // without this, the driver's kill of a hung executor would wait the whole grace period.
  deploy::kill_group(pid, SIGCONT);
  self->delayed_send(self, self->state.opt.kill_grace, escalate_atom::value, static_cast<std::int32_t>(pid));
}

void kill_executor(worker_actor* self, const exec_key& key, const std::string& reason) {
  auto& st = self->state;
  auto it = st.executors.find(key);
  if (it == st.executors.end())
    return;
  auto& e = it->second;
  if (e.pid == 0) {
    // Still waiting for its binary: it never started.
    st.executors.erase(it);
    report_executor(self, key, proto::ExecutorState::KILLED, 0, 0, reason, 0);
    return;
  }
  if (!e.kill_requested) {
    st.log->info("killing executor {}/{} (pid {}): {}", key.first, key.second, e.pid, reason);
    e.kill_requested = true;
    kill_process(self, e.pid);
  }
}

void start_driver(worker_actor* self, const std::string& id) {
  auto& st = self->state;
  auto it = st.drivers.find(id);
  if (it == st.drivers.end())
    return;
  auto& d = it->second;
  auto desc = d.launch.reader().getDescription();
  auto bin = desc.getBinary();
  auto hash = str(bin.getContentHash());
  auto path = str(bin.getPath());
  std::optional<fs::path> binary = st.cache->lookup(hash);
  if (!binary)
    binary = st.cache->local_match(path, hash);
  if (!binary) {
    auto msg = "driver " + id + ": binary " + path + " with hash " + hash + " is not on worker " + st.opt.id
               + " (cluster deploy mode needs the binary at the same path on every worker)";
    st.log->error("{}", msg);
    st.drivers.erase(it);
    report_driver(self, id, proto::DriverState::ERROR, 0, 0, msg);
    return;
  }
  deploy::launch_spec spec;
  spec.program = binary->string();
  for (auto a : desc.getArgs())
    spec.args.push_back(str(a));
  spec.cwd = st.opt.work_dir / id;
  spec.memory_limit = 0;  // a driver is accounted by the master, not limited (as Spark's DriverRunner)
  spec.name = id;
  try {
    auto p = deploy::launch(spec, st.opt.limiter);
    st.reaper->notify_launched();
    d.pid = p.pid;
    st.driver_pids[p.pid] = id;
    st.log->info("driver {} started as pid {} in {}", id, p.pid, spec.cwd.string());
    report_driver(self, id, proto::DriverState::RUNNING, 0, 0, "pid " + std::to_string(p.pid), p.pid);
  } catch (const std::exception& ex) {
    st.drivers.erase(it);
    report_driver(self, id, proto::DriverState::ERROR, 0, 0, std::string{"driver "} + id + ": " + ex.what());
  }
}

// An executor removes its local dirs on a clean exit and on SIGTERM, but not when killed with
// SIGKILL or by the memory limit; nobody else reads its files then (its outputs die with its
// block server and the driver unregisters them). The application's directory goes once no other
// executor of it on this host has files there.
void remove_executor_local_dirs(const executor_proc& e) {
  for (auto& dir : e.local_dirs) {
    std::error_code ec;
    fs::remove_all(dir, ec);
    fs::remove(dir.parent_path(), ec); // fails, as it should, while another executor uses it
  }
}

void on_executor_exit(worker_actor* self, const exec_key& key, const deploy::exit_status& status) {
  auto& st = self->state;
  auto it = st.executors.find(key);
  if (it == st.executors.end())
    return;
  auto e = std::move(it->second);
  st.executors.erase(it);
  st.cpus.give(e.cpus);
  auto memory = e.launch.reader().getMemoryBytes();
  bool oom = (status.exited && status.exit_code == deploy::oom_exit_code) || deploy::cgroup_oom_killed(e.cgroup);
  deploy::remove_cgroup(e.cgroup);
  proto::ExecutorState state;
  std::string message;
  if (e.kill_requested) {
    state = proto::ExecutorState::KILLED;
    message = "executor " + key.second + " killed by the worker (" + status.describe() + ")";
  } else if (oom) {
    state = proto::ExecutorState::FAILED;
    message = memory_exceeded_message(key.second, st.opt.host, memory);
  } else {
    state = status.exited ? proto::ExecutorState::EXITED : proto::ExecutorState::FAILED;
    message = "executor " + key.second + " on host " + st.opt.host + " ended with " + status.describe();
  }
  st.log->info("executor {}/{} (pid {}): {}", key.first, key.second, e.pid, message);
  remove_executor_local_dirs(e);
  if (!st.shutting_down)
    report_executor(self, key, state, status.exit_code, status.signal, message, e.pid);
  remove_app_dir_if_done(self, key.first);
}

void on_driver_exit(worker_actor* self, const std::string& id, const deploy::exit_status& status) {
  auto& st = self->state;
  auto it = st.drivers.find(id);
  if (it == st.drivers.end())
    return;
  auto& d = it->second;
  d.pid = 0;
  deploy::remove_cgroup(d.cgroup);
  bool supervise = d.launch.reader().getDescription().getSupervise();
  auto text = "driver " + id + " ended with " + status.describe();
  st.log->info("{}", text);
  if (d.kill_requested || st.shutting_down) {
    st.drivers.erase(it);
    if (!st.shutting_down)
      report_driver(self, id, proto::DriverState::KILLED, status.exit_code, status.signal, text);
    return;
  }
  if (status.success()) {
    st.drivers.erase(it);
    report_driver(self, id, proto::DriverState::FINISHED, 0, 0, text);
    return;
  }
  if (!supervise) {
    st.drivers.erase(it);
    report_driver(self, id, proto::DriverState::FAILED, status.exit_code, status.signal, text);
    return;
  }
  // Supervised: restart here with a doubling backoff (as Spark's DriverRunner).
  auto factor = std::min<std::uint32_t>(d.restarts, 6);
  auto wait = st.opt.driver_restart_backoff * (1u << factor);
  ++d.restarts;
  report_driver(self, id, proto::DriverState::RELAUNCHING, status.exit_code, status.signal,
                text + "; restarting in " + std::to_string(wait.count()) + " ms");
  self->delayed_send(self, wait, restart_atom::value, id);
}

void stop_everything(worker_actor* self) {
  auto& st = self->state;
  st.shutting_down = true;
  for (auto& [pid, key] : st.executor_pids)
    kill_process(self, pid);
  for (auto& [pid, id] : st.driver_pids)
    kill_process(self, pid);
  // Executors still waiting for a binary never started.
  for (auto it = st.executors.begin(); it != st.executors.end();)
    it = it->second.pid == 0 ? st.executors.erase(it) : std::next(it);
  st.fetches.clear();
  maybe_finish_shutdown(self);
}

caf::behavior worker(worker_actor* self, worker_options options) {
  auto& st = self->state;
  st.opt = std::move(options);
  st.url = "ember://" + st.opt.master_host + ":" + std::to_string(st.opt.master_port);
  st.cache = std::make_unique<deploy::binary_cache>(st.opt.work_dir / "binaries");
  auto weak = caf::actor_cast<caf::weak_actor_ptr>(self);
  st.reaper = std::make_unique<deploy::reaper>([weak](pid_t pid, int status) {
    if (auto strong = weak.lock())
      caf::anon_send(caf::actor_cast<caf::actor>(strong), reaped_atom::value, static_cast<std::int32_t>(pid),
                     static_cast<std::int32_t>(status));
  });
  self->set_down_handler([self](const caf::down_msg& dm) {
    auto& st = self->state;
    if (dm.source != st.master.address())
      return;
    st.log->warn("lost the master {} ({}); executors and drivers keep running; reconnecting every {} ms", st.url,
                 caf::to_string(dm.reason), st.opt.retry_interval.count());
    st.master = caf::actor{};
    st.registered = false;
    st.lost_master = true;
    st.attempt = 0;
    self->delayed_send(self, st.opt.retry_interval, connect_tick_atom::value);
  });
  self->set_exit_handler([self](const caf::exit_msg& em) {
    // Stop children on any exit request (shutdown included), then quit.
    self->state.log->info("exit requested ({})", caf::to_string(em.reason));
    stop_everything(self);  // quits once every child is reaped
  });
  auto guarded = [self](const char* what, auto&& f) {
    try {
      f();
    } catch (const std::exception& e) {
      self->state.log->error("dropped {}: {}", what, e.what());
    }
  };
  return {
    [self](start_atom, std::uint16_t port) {
      auto& st = self->state;
      st.opt.port = port;
      if (st.opt.id.empty())
        st.opt.id = "worker-" + make_stamp() + "-" + st.opt.host + "-" + std::to_string(port);
      st.log->info("worker {} ({} cores, {}, memory limit by {}) connecting to {}", st.opt.id, st.opt.cores,
                   config::format_size(static_cast<std::int64_t>(st.opt.memory)), st.opt.limiter.describe(), st.url);
      connect(self);
    },
    [self](connect_tick_atom) { connect(self); },
    [self](register_tick_atom, std::uint32_t attempt) {
      auto& st = self->state;
      // Only the latest attempt's timer counts; an answer in between cancels it.
      if (!st.registered && st.master && attempt + 1 == st.attempt)
        send_registration(self);
    },
    [self](const wire<proto::RegisteredWorker>& msg) {
      auto& st = self->state;
      st.registered = true;
      st.lost_master = false;
      st.attempt = 0;
      st.url = str(msg.reader().getMasterUrl());
      st.log->info("registered with {}", st.url);
      flush_unsent(self);
      if (!st.announced) {
        st.announced = true;
        if (st.opt.on_registered)
          st.opt.on_registered(st.opt.id, st.url);
      }
      if (!st.heartbeating) {
        st.heartbeating = true;
        self->delayed_send(self, st.opt.heartbeat_interval, heartbeat_atom::value);
      }
    },
    [self](const wire<proto::MasterChanged>& msg) {
      // A restarted master recovered this worker: it is the master now; tell it what runs here.
      auto& st = self->state;
      auto sender = caf::actor_cast<caf::actor>(self->current_sender());
      if (!sender || st.shutting_down)
        return;
      if (st.master && st.master != sender)
        self->demonitor(st.master);
      if (st.master != sender)
        self->monitor(sender);
      st.master = sender;
      st.url = str(msg.reader().getMasterUrl());
      st.registered = true;
      st.lost_master = false;
      st.attempt = 0;
      st.log->info("master changed to {}: reporting {} executor(s) and {} driver(s)", st.url, st.executors.size(),
                   st.drivers.size());
      flush_unsent(self);
      self->send(st.master, make_wire<proto::WorkerSchedulerState>([&](proto::WorkerSchedulerState::Builder b) {
                   b.setWorkerId(st.opt.id);
                   fill_running(st, b);
                 }));
      if (!st.heartbeating) {
        st.heartbeating = true;
        self->delayed_send(self, st.opt.heartbeat_interval, heartbeat_atom::value);
      }
    },
    [self](const wire<proto::RegisterWorkerFailed>& msg) {
      auto reason = str(msg.reader().getReason());
      self->state.log->error("the master refused this worker: {}", reason);
      stop_everything(self);
      self->quit(caf::make_error(caf::sec::runtime_error, "registration refused: " + reason));
    },
    [self](const wire<proto::ReconnectWorker>&) {
      self->state.log->warn("the master asks this worker to register again");
      self->state.attempt = 0;
      send_registration(self);
    },
    [self](heartbeat_atom) {
      auto& st = self->state;
      if (st.registered && st.master) {
        std::uint32_t cores = 0;
        std::uint64_t memory = 0;
        for (auto& [key, e] : st.executors) {
          cores += e.launch.reader().getCores();
          memory += e.launch.reader().getMemoryBytes();
        }
        self->send(st.master, make_wire<proto::WorkerHeartbeat>([&](proto::WorkerHeartbeat::Builder b) {
                     b.setWorkerId(st.opt.id);
                     b.setCoresUsed(cores);
                     b.setMemoryUsed(memory);
                   }));
      }
      self->delayed_send(self, st.opt.heartbeat_interval, heartbeat_atom::value);
    },
    // -- executors --
    [self, guarded](const wire<proto::LaunchExecutor>& msg) {
      guarded("LaunchExecutor", [&] {
        auto& st = self->state;
        auto r = msg.reader();
        exec_key key{str(r.getAppId()), str(r.getExecutorId())};
        if (st.shutting_down || st.executors.count(key) != 0)
          return;  // idempotent: a repeated launch changes nothing
        st.finished_apps.erase(key.first);
        st.executors[key].launch = msg;
        resolve_binary(self, key);
      });
    },
    [self](const wire<proto::KillExecutor>& msg) {
      auto r = msg.reader();
      kill_executor(self, {str(r.getAppId()), str(r.getExecutorId())}, str(r.getReason()));
    },
    [self](const wire<proto::ApplicationFinished>& msg) {
      auto& st = self->state;
      auto app_id = str(msg.reader().getAppId());
      if (app_id.empty() || app_id.find('/') != std::string::npos || app_id == "." || app_id == ".."
          || app_id == "binaries")
        return;
      st.finished_apps.insert(app_id);
      std::vector<exec_key> keys;
      for (auto& [key, e] : st.executors)
        if (key.first == app_id)
          keys.push_back(key);
      for (auto& key : keys)
        kill_executor(self, key, "application " + app_id + " finished");
      remove_app_dir_if_done(self, app_id);
    },
    // -- drivers --
    [self, guarded](const wire<proto::LaunchDriver>& msg) {
      guarded("LaunchDriver", [&] {
        auto& st = self->state;
        auto id = str(msg.reader().getDriverId());
        if (st.shutting_down || st.drivers.count(id) != 0 || id.find('/') != std::string::npos)
          return;
        st.drivers[id].launch = msg;
        start_driver(self, id);
      });
    },
    [self](const wire<proto::KillDriver>& msg) {
      auto& st = self->state;
      auto id = str(msg.reader().getDriverId());
      auto it = st.drivers.find(id);
      if (it == st.drivers.end())
        return;
      it->second.kill_requested = true;
      if (it->second.pid == 0) {  // waiting for a supervised restart
        st.drivers.erase(it);
        report_driver(self, id, proto::DriverState::KILLED, 0, 0, "driver " + id + " killed");
        return;
      }
      kill_process(self, it->second.pid);
    },
    [self](restart_atom, const std::string& id) {
      auto& st = self->state;
      auto it = st.drivers.find(id);
      if (it == st.drivers.end() || it->second.pid != 0 || st.shutting_down)
        return;
      start_driver(self, id);
    },
    // -- children --
    [self](reaped_atom, std::int32_t pid, std::int32_t status) {
      auto& st = self->state;
      auto s = deploy::exit_status::from_wait(status);
      if (auto i = st.executor_pids.find(pid); i != st.executor_pids.end()) {
        auto key = i->second;
        st.executor_pids.erase(i);
        on_executor_exit(self, key, s);
      } else if (auto j = st.driver_pids.find(pid); j != st.driver_pids.end()) {
        auto id = j->second;
        st.driver_pids.erase(j);
        on_driver_exit(self, id, s);
      }
      maybe_finish_shutdown(self);
    },
    [self](escalate_atom, std::int32_t pid) {
      auto& st = self->state;
      if (st.executor_pids.count(pid) != 0 || st.driver_pids.count(pid) != 0) {
        st.log->warn("pid {} still alive {} ms after SIGTERM: SIGKILL", pid, st.opt.kill_grace.count());
        deploy::kill_group(pid, SIGKILL);
      }
    },
    [self](shutdown_atom) {
      auto& st = self->state;
      st.log->info("worker {} stopping: killing {} executor(s) and {} driver(s)", st.opt.id, st.executor_pids.size(),
                   st.driver_pids.size());
      st.shutdown_promise = self->make_response_promise();
      stop_everything(self);
    },
  };
}

} // namespace

std::string memory_exceeded_message(const std::string& executor_id, const std::string& host, std::uint64_t memory) {
  return "executor " + executor_id + " on host " + host + " killed: exceeded ember.executor.memory ("
         + config::format_size(static_cast<std::int64_t>(memory)) + ")";
}

worker_options worker_options::from(const config::config& c) {
  worker_options o;
  o.heartbeat_interval = c.get(config::keys::worker_heartbeat_interval);
  o.retry_interval = c.get(config::keys::worker_registration_retry_interval);
  o.kill_grace = c.get(config::keys::worker_kill_grace_period);
  o.driver_restart_backoff = c.get(config::keys::worker_driver_restart_backoff);
  o.ask_timeout = c.get(config::keys::rpc_ask_timeout);
  o.local_dir = c.get(config::keys::worker_local_dir);
  for (auto& d : config::split_list(c.get(config::keys::worker_data_dirs)))
    o.data_dirs.push_back(std::filesystem::absolute(d).lexically_normal().string());
  o.max_chunk_size = static_cast<std::uint32_t>(c.get(config::keys::network_max_chunk_size));
  o.limiter = deploy::memory_limiter::detect(c.get(config::keys::worker_cgroup_enabled),
                                             static_cast<std::uint64_t>(c.get(config::keys::worker_address_space_overhead)),
                                             "ember-worker-" + std::to_string(::getpid()));
  return o;
}

caf::actor spawn_worker(caf::actor_system& sys, worker_options options) {
  // Detached (a thread of its own): the worker hashes binaries, writes fetched chunks to disk and
  // forks executors, blocking work that must not hold one of CAF's scheduler threads.
  return sys.spawn<caf::detached>(worker, std::move(options));
}

} // namespace ember::actors
