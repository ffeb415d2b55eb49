#include "actors/worker.hpp"
#include "actors/remoting.hpp"

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <variant>

#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/send.hpp>

#include "actors/conversions.hpp"
#include "actors/deploy_conversions.hpp"
#include "config/config.hpp"
#include "config/log.hpp"
#include "config/secure_fs.hpp"
#include "deploy/binary_cache.hpp"
#include "deploy/worker_logic.hpp"
#include "security/secret.hpp"
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

// -- conversions ---------------------------------------------------------------------------------

deploy::properties to_properties(capnp::List<proto::Property>::Reader list) {
  deploy::properties out;
  for (auto p : list)
    out.emplace_back(str(p.getKey()), str(p.getValue()));
  return out;
}

std::vector<std::string> to_strings(capnp::List<capnp::Text>::Reader list) {
  std::vector<std::string> out;
  for (auto s : list)
    out.push_back(str(s));
  return out;
}

deploy::executor_launch to_launch(proto::LaunchExecutor::Reader r) {
  deploy::executor_launch l;
  l.app_id = str(r.getAppId());
  l.executor_id = str(r.getExecutorId());
  l.cores = r.getCores();
  l.memory = r.getMemoryBytes();
  l.binary.path = str(r.getBinary().getPath());
  l.binary.content_hash = str(r.getBinary().getContentHash());
  l.args = to_strings(r.getArgs());
  l.conf = to_properties(r.getConf());
  l.driver_host = str(r.getDriverHost());
  l.driver_port = r.getDriverPort();
  return l;
}

deploy::driver_launch to_launch(proto::LaunchDriver::Reader r) {
  auto desc = r.getDescription();
  deploy::driver_launch l;
  l.driver_id = str(r.getDriverId());
  l.binary.path = str(desc.getBinary().getPath());
  l.binary.content_hash = str(desc.getBinary().getContentHash());
  l.args = to_strings(desc.getArgs());
  l.supervise = desc.getSupervise();
  return l;
}

template <class Builder>
void fill(Builder b, const deploy::worker_report& running) {
  auto executors = b.initExecutors(static_cast<unsigned>(running.executors.size()));
  for (unsigned i = 0; i < running.executors.size(); ++i) {
    auto& e = running.executors[i];
    auto x = executors[i];
    x.setAppId(e.app_id);
    x.setExecutorId(e.executor_id);
    x.setCores(e.cores);
    x.setMemoryBytes(e.memory);
    x.setState(to_proto(e.state));
  }
  auto drivers = b.initDriverIds(static_cast<unsigned>(running.driver_ids.size()));
  for (unsigned i = 0; i < running.driver_ids.size(); ++i)
    drivers.set(i, running.driver_ids[i]);
}

std::string make_stamp() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d%H%M%S", &tm);
  return stamp;
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

// -- the actor -----------------------------------------------------------------------------------

// Detached (a thread of its own): the worker hashes binaries, writes fetched chunks to disk and
// forks executors, blocking work that must not hold one of CAF's scheduler threads.
class worker_actor : public caf::event_based_actor, private deploy::binary_lookup {
public:
  worker_actor(caf::actor_config& cfg, worker_options options)
      : caf::event_based_actor(cfg),
        opt_(std::move(options)),
        cache_(opt_.work_dir / "binaries", opt_.binary_cache_max_size),
        logic_(settings(opt_), deploy::cpu_pool::of_this_process(), *this) {
    // nop
  }

  const char* name() const override {
    return "ember.worker";
  }

  caf::behavior make_behavior() override;

  // Handles to actors (the promise holds this actor too) must go now, not in the destructor: a
  // detached actor is destroyed only once nothing refers to it any more.
  void on_exit() override {
    reaper_.reset();  // joins the reaper thread
    fetches_.clear();
    master_ = caf::actor{};
    candidate_ = caf::actor{};
    shutdown_promise_ = caf::response_promise{};
  }

private:
  // The I/O side of one binary fetch; the logic knows which executors wait for it.
  struct fetch_io {
    std::unique_ptr<deploy::binary_assembly> assembly;
    caf::actor source;
    std::string source_text;  // "the master" or "the driver at host:port", for errors
  };

  static deploy::worker_settings settings(const worker_options& o) {
    deploy::worker_settings s;
    s.host = o.host;
    s.work_dir = o.work_dir;
    s.local_dir = o.local_dir;
    s.master_url = "ember://" + o.master_host + ":" + std::to_string(o.master_port);
    s.heartbeat_interval = o.heartbeat_interval;
    s.retry_interval = o.retry_interval;
    s.kill_grace = o.kill_grace;
    s.driver_restart_backoff = o.driver_restart_backoff;
    s.child_conf = o.child_conf;
    s.secret = o.secret;
    return s;
  }

  std::optional<fs::path> find(const std::string& hash, const std::string& path) override {
    if (auto p = cache_.lookup(hash))
      return p;
    auto p = cache_.local_match(path, hash);
    if (p)
      evict_binaries();
    return p;
  }

  // Digests of the binaries the logic's children run or are about to run (never evicted).
  std::set<std::string> binaries_in_use() const {
    std::set<std::string> r;
    for (auto& [key, e] : logic_.executors())
      r.insert(e.launch.binary.content_hash);
    for (auto& [id, d] : logic_.drivers())
      r.insert(d.launch.binary.content_hash);
    return r;
  }

  void evict_binaries() {
    for (auto& hash : cache_.evict(binaries_in_use()))
      log_->info("binary cache: removed {} (least recently used; the cache exceeds ember.worker.binaryCache.maxSize)",
                 hash);
  }

  // -- events --

  void on_start(std::uint16_t port);
  void connect_to_master();
  void master_changed(const wire<proto::MasterChanged>& msg);
  void master_down(const caf::down_msg& dm);
  bool from_master(const char* what);
  void guarded(const char* what, const std::function<void()>& f);

  // -- enacting decisions --

  void enact(deploy::worker_decisions ds, caf::actor candidate = {});
  void enact_one(const deploy::connect_master&) { connect_to_master(); }
  void enact_one(const deploy::adopt_master&);
  void enact_one(const deploy::send_registration& x);
  void enact_one(const deploy::send_scheduler_state& x);
  void enact_one(const deploy::send_heartbeat& x);
  void enact_one(const deploy::report_executor& x);
  void enact_one(const deploy::report_driver& x);
  void enact_one(const deploy::announce_registered& x) {
    if (opt_.on_registered)
      opt_.on_registered(x.worker_id, x.master_url);
  }
  void enact_one(const deploy::connect_later& x) { delayed_send(this, x.delay, connect_tick_atom::value); }
  void enact_one(const deploy::register_later& x) {
    delayed_send(this, x.delay, register_tick_atom::value, x.attempt);
  }
  void enact_one(const deploy::heartbeat_later& x) { delayed_send(this, x.delay, heartbeat_atom::value); }
  void enact_one(const deploy::escalate_later& x) {
    delayed_send(this, x.delay, escalate_atom::value, static_cast<std::int32_t>(x.pid));
  }
  void enact_one(const deploy::restart_driver_later& x) {
    delayed_send(this, x.delay, restart_atom::value, x.driver_id);
  }
  void enact_one(const deploy::spawn_executor& x);
  void enact_one(const deploy::spawn_driver& x);
  void enact_one(const deploy::terminate_child& x) {
    deploy::kill_group(x.pid, SIGTERM);
    // A stopped (SIGSTOPped, hung in a debugger...) process acts on SIGTERM only once continued:
    // without this, the driver's kill of a hung executor would wait the whole grace period.
    deploy::kill_group(x.pid, SIGCONT);
  }
  void enact_one(const deploy::force_kill_child& x) { deploy::kill_group(x.pid, SIGKILL); }
  void enact_one(const deploy::fetch_binary& x);
  void enact_one(const deploy::cancel_fetches&) { fetches_.clear(); }
  void enact_one(const deploy::remove_cgroup_dir& x) { deploy::remove_cgroup(x.cgroup); }
  void enact_one(const deploy::remove_executor_dirs& x) {
    for (auto& dir : x.dirs) {
      std::error_code ec;
      fs::remove_all(dir, ec);
      fs::remove(dir.parent_path(), ec);  // fails, as it should, while another executor uses it
    }
  }
  void enact_one(const deploy::remove_app_dir& x) {
    std::error_code ec;
    fs::remove_all(opt_.work_dir / x.app_id, ec);
  }
  void enact_one(const deploy::log_line& x);
  void enact_one(const deploy::finish_shutdown&) {
    if (shutdown_promise_.pending())
      shutdown_promise_.deliver(caf::unit);
    quit();
  }
  void enact_one(const deploy::quit_refused& x) { quit(caf::make_error(caf::sec::runtime_error, x.reason)); }

  // -- binary fetch --

  void fetch_next(const std::string& hash);
  void chunk_arrived(const std::string& hash, const wire<proto::BinaryChunk>& chunk);
  void fail_fetch(const std::string& hash, const std::string& message);
  std::vector<fs::path> executor_local_dirs(const deploy::spawn_executor& x);

  worker_options opt_;
  deploy::binary_cache cache_;
  deploy::worker_logic logic_;
  std::unique_ptr<deploy::reaper> reaper_;
  caf::actor master_;
  caf::actor candidate_;  // the actor an adopt_master decision refers to
  std::map<std::string, fetch_io> fetches_;  // by content hash
  caf::response_promise shutdown_promise_;
  std::shared_ptr<spdlog::logger> log_ = ember::log::get("worker");
};

caf::behavior worker_actor::make_behavior() {
  auto weak = caf::actor_cast<caf::weak_actor_ptr>(this);
  reaper_ = std::make_unique<deploy::reaper>([weak](pid_t pid, int status) {
    if (auto strong = weak.lock())
      caf::anon_send(caf::actor_cast<caf::actor>(strong), reaped_atom::value, static_cast<std::int32_t>(pid),
                     static_cast<std::int32_t>(status));
  });
  set_down_handler([this](const caf::down_msg& dm) { master_down(dm); });
  set_exit_handler([this](const caf::exit_msg& em) {
    // Stop children on any exit request (shutdown included); quits once every child is reaped.
    log_->info("exit requested ({})", caf::to_string(em.reason));
    enact(logic_.exit_requested());
  });
  return {
    [this](start_atom, std::uint16_t port) { on_start(port); },
    [this](connect_tick_atom) { enact(logic_.connect_tick()); },
    [this](register_tick_atom, std::uint32_t attempt) { enact(logic_.register_tick(attempt)); },
    [this](heartbeat_atom) { enact(logic_.heartbeat_tick()); },
    [this](const wire<proto::RegisteredWorker>& msg) {
      if (from_master("RegisteredWorker"))
        enact(logic_.registered(str(msg.reader().getMasterUrl())));
    },
    [this](const wire<proto::MasterChanged>& msg) { master_changed(msg); },
    [this](const wire<proto::RegisterWorkerFailed>& msg) {
      if (from_master("RegisterWorkerFailed"))
        enact(logic_.registration_refused(str(msg.reader().getReason())));
    },
    [this](const wire<proto::ReconnectWorker>&) {
      if (from_master("ReconnectWorker"))
        enact(logic_.reconnect_requested());
    },
    // -- executors --
    [this](const wire<proto::LaunchExecutor>& msg) {
      if (from_master("LaunchExecutor"))
        guarded("LaunchExecutor", [&] { enact(logic_.launch_executor(to_launch(msg.reader()))); });
    },
    [this](const wire<proto::KillExecutor>& msg) {
      auto r = msg.reader();
      if (from_master("KillExecutor"))
        enact(logic_.kill_executor({str(r.getAppId()), str(r.getExecutorId())}, str(r.getReason())));
    },
    [this](const wire<proto::ApplicationFinished>& msg) {
      if (from_master("ApplicationFinished"))
        enact(logic_.application_finished(str(msg.reader().getAppId())));
    },
    // -- drivers --
    [this](const wire<proto::LaunchDriver>& msg) {
      if (from_master("LaunchDriver"))
        guarded("LaunchDriver", [&] { enact(logic_.launch_driver(to_launch(msg.reader()))); });
    },
    [this](const wire<proto::KillDriver>& msg) {
      if (from_master("KillDriver"))
        enact(logic_.kill_driver(str(msg.reader().getDriverId())));
    },
    [this](restart_atom, const std::string& id) { enact(logic_.restart_driver_tick(id)); },
    // -- children --
    [this](reaped_atom, std::int32_t pid, std::int32_t status) {
      auto cgroup = logic_.cgroup_of(pid);
      bool oom = deploy::cgroup_oom_killed(cgroup);
      enact(logic_.child_exited(pid, deploy::exit_status::from_wait(status), oom));
    },
    [this](escalate_atom, std::int32_t pid) { enact(logic_.escalate_tick(pid)); },
    [this](shutdown_atom) {
      shutdown_promise_ = make_response_promise();
      enact(logic_.shutdown());
    },
  };
}

// -- events --------------------------------------------------------------------------------------

void worker_actor::on_start(std::uint16_t port) {
  opt_.port = port;
  if (opt_.id.empty())
    opt_.id = "worker-" + make_stamp() + "-" + opt_.host + "-" + std::to_string(port);
  log_->info("worker {} ({} cores, {}, memory limit by {}) connecting to {}", opt_.id, opt_.cores,
             config::format_size(static_cast<std::int64_t>(opt_.memory)), opt_.limiter.describe(),
             logic_.master_url());
  enact(logic_.start(opt_.id));
}

void worker_actor::connect_to_master() {
  auto mm = middleman_handle(system());
  request(mm, opt_.ask_timeout, caf::connect_atom::value, opt_.master_host, opt_.master_port)
      .then(
          [this](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>&) {
            if (!ptr)
              enact(logic_.master_not_published());
            else
              enact(logic_.master_reached(), caf::actor_cast<caf::actor>(ptr));
          },
          [this](caf::error& err) { enact(logic_.master_unreachable(describe(err))); });
}

void worker_actor::master_changed(const wire<proto::MasterChanged>& msg) {
  // A restarted master recovered this worker: it is the master now; tell it what runs here.
  auto sender = caf::actor_cast<caf::actor>(current_sender());
  if (!sender)
    return;
  enact(logic_.master_changed(str(msg.reader().getMasterUrl())), sender);
}

void worker_actor::master_down(const caf::down_msg& dm) {
  if (!master_ || dm.source != master_.address())
    return;
  master_ = caf::actor{};
  enact(logic_.master_lost(caf::to_string(dm.reason)));
}

// Orders come from the master this worker registered with (or that recovered it), nobody else.
bool worker_actor::from_master(const char* what) {
  if (master_ && caf::actor_cast<caf::actor>(current_sender()) == master_)
    return true;
  log_->warn("dropped {}: not sent by this worker's master", what);
  return false;
}

void worker_actor::guarded(const char* what, const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    log_->error("dropped {}: {}", what, e.what());
  }
}

// -- enacting decisions --------------------------------------------------------------------------

void worker_actor::enact(deploy::worker_decisions ds, caf::actor candidate) {
  for (auto& d : ds) {
    candidate_ = candidate;
    std::visit([this](const auto& x) { enact_one(x); }, d);
  }
  candidate_ = caf::actor{};
}

void worker_actor::enact_one(const deploy::adopt_master&) {
  if (master_ == candidate_)
    return;
  if (master_)
    demonitor(master_);
  master_ = candidate_;
  monitor(master_);
}

void worker_actor::enact_one(const deploy::send_registration& x) {
  send(master_, make_wire<proto::RegisterWorker>([&](proto::RegisterWorker::Builder b) {
         b.setWorkerId(opt_.id);
         b.setHost(opt_.host);
         b.setPort(opt_.port);
         b.setCores(opt_.cores);
         b.setMemoryBytes(opt_.memory);
         auto dirs = b.initDataDirs(static_cast<unsigned>(opt_.data_dirs.size()));
         for (unsigned i = 0; i < opt_.data_dirs.size(); ++i)
           dirs.set(i, opt_.data_dirs[i]);
         // Scanned at every registration (the worker is detached: blocking is fine here).
         auto files = data_files(opt_.data_dirs, *log_);
         auto list = b.initDataFiles(static_cast<unsigned>(files.size()));
         for (unsigned i = 0; i < files.size(); ++i) {
           list[i].setPath(files[i].first);
           list[i].setSize(files[i].second);
         }
         fill(b, x.running);
       }));
}

void worker_actor::enact_one(const deploy::send_scheduler_state& x) {
  send(master_, make_wire<proto::WorkerSchedulerState>([&](proto::WorkerSchedulerState::Builder b) {
         b.setWorkerId(opt_.id);
         fill(b, x.running);
       }));
}

void worker_actor::enact_one(const deploy::send_heartbeat& x) {
  send(master_, make_wire<proto::WorkerHeartbeat>([&](proto::WorkerHeartbeat::Builder b) {
         b.setWorkerId(opt_.id);
         b.setCoresUsed(x.cores_used);
         b.setMemoryUsed(x.memory_used);
       }));
}

void worker_actor::enact_one(const deploy::report_executor& x) {
  send(master_, make_wire<proto::ExecutorStateChanged>([&](proto::ExecutorStateChanged::Builder b) {
         b.setAppId(x.app_id);
         b.setExecutorId(x.executor_id);
         b.setState(to_proto(x.state));
         b.setExitCode(x.exit_code);
         b.setSignal(x.signal);
         b.setMessage(x.message);
         b.setWorkerId(opt_.id);
         b.setPid(static_cast<std::uint32_t>(x.pid));
         b.setCause(to_proto(x.cause));
       }));
}

void worker_actor::enact_one(const deploy::report_driver& x) {
  send(master_, make_wire<proto::DriverStateChanged>([&](proto::DriverStateChanged::Builder b) {
         b.setDriverId(x.driver_id);
         b.setState(to_proto(x.state));
         b.setExitCode(x.exit_code);
         b.setSignal(x.signal);
         b.setMessage(x.message);
         b.setPid(static_cast<std::uint32_t>(x.pid));
       }));
}

void worker_actor::enact_one(const deploy::log_line& x) {
  switch (x.level) {
    case deploy::log_level::info: log_->info("{}", x.text); break;
    case deploy::log_level::warn: log_->warn("{}", x.text); break;
    case deploy::log_level::error: log_->error("{}", x.text); break;
  }
}

// The directories an executor keeps its shuffle files and spills in, <ember.local.dir>/ember-<app>-
// <driver port>/<id>, resolved at its launch as the executor itself resolves them (this worker's
// ember.worker.localDir, else its --conf, then the defaults file). Empty, with a warning, if the
// configuration cannot be read.
std::vector<fs::path> worker_actor::executor_local_dirs(const deploy::spawn_executor& x) {
  std::vector<fs::path> out;
  try {
    config::load_options lo;
    for (auto& [k, v] : x.conf)
      lo.conf.push_back(k + "=" + v);
    if (!opt_.local_dir.empty())
      lo.conf.push_back(std::string(config::keys::local_dir.name) + "=" + opt_.local_dir);
    for (auto& d : config::local_dir_paths(config::load(lo)))
      out.push_back(d / ("ember-" + x.app_id + "-" + std::to_string(x.driver_port)) / x.executor_id);
  } catch (const std::exception& ex) {
    log_->warn("executor {}/{}: cannot tell its local dirs to clean them later: {}", x.app_id, x.executor_id,
               ex.what());
  }
  return out;
}

void worker_actor::enact_one(const deploy::spawn_executor& x) {
  deploy::executor_key key{x.app_id, x.executor_id};
  deploy::launched_process p;
  try {
    p = deploy::launch(x.spec, opt_.limiter);
  } catch (const std::exception& ex) {
    enact(logic_.executor_start_failed(key, ex.what()));
    return;
  }
  auto local_dirs = executor_local_dirs(x);
  reaper_->notify_launched();
  enact(logic_.executor_started(key, p.pid, p.cgroup, std::move(local_dirs)));
}

void worker_actor::enact_one(const deploy::spawn_driver& x) {
  deploy::launched_process p;
  try {
    p = deploy::launch(x.spec, opt_.limiter);
  } catch (const std::exception& ex) {
    enact(logic_.driver_start_failed(x.driver_id, ex.what()));
    return;
  }
  reaper_->notify_launched();
  enact(logic_.driver_started(x.driver_id, p.pid, p.cgroup));
}

// -- binary fetch --------------------------------------------------------------------------------

void worker_actor::enact_one(const deploy::fetch_binary& x) {
  auto hash = x.content_hash;
  auto& f = fetches_[hash];
  f.source_text = x.from_master ? "the master" : "the driver at " + x.host + ":" + std::to_string(x.port);
  try {
    f.assembly = std::make_unique<deploy::binary_assembly>(cache_, hash);
  } catch (const std::exception& ex) {
    fail_fetch(hash, ex.what());
    return;
  }
  if (x.from_master) {  // a submitted driver's binary, kept by the master
    if (!master_) {
      fail_fetch(hash, "cannot fetch the driver's binary " + hash + ": no connection to the master");
      return;
    }
    log_->info("fetching binary {} from the master", hash);
    f.source = master_;
    fetch_next(hash);
    return;
  }
  log_->info("fetching binary {} from the driver at {}:{}", hash, x.host, x.port);
  auto mm = middleman_handle(system());
  request(mm, opt_.ask_timeout, caf::connect_atom::value, x.host, x.port)
      .then(
          [this, hash](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>&) {
            auto it = fetches_.find(hash);
            if (it == fetches_.end())
              return;
            if (!ptr) {
              fail_fetch(hash, it->second.source_text + " publishes no driver endpoint");
              return;
            }
            it->second.source = caf::actor_cast<caf::actor>(ptr);
            fetch_next(hash);
          },
          [this, hash](caf::error& err) {
            auto it = fetches_.find(hash);
            auto from = it == fetches_.end() ? std::string{} : it->second.source_text;
            fail_fetch(hash, "cannot reach " + from + " to fetch the application binary: " + describe(err));
          });
}

void worker_actor::fetch_next(const std::string& hash) {
  auto& f = fetches_.at(hash);
  auto msg = make_wire<proto::FetchBinary>([&](proto::FetchBinary::Builder b) {
    b.setContentHash(hash);
    b.setOffset(f.assembly->next_offset());
    b.setMaxChunkSize(opt_.max_chunk_size);
  });
  request(f.source, opt_.ask_timeout, msg)
      .then([this, hash](const wire<proto::BinaryChunk>& chunk) { chunk_arrived(hash, chunk); },
            [this, hash](caf::error& err) {
              auto it = fetches_.find(hash);
              auto from = it == fetches_.end() ? std::string{} : it->second.source_text;
              fail_fetch(hash, "fetching binary " + hash + " from " + from + " failed: " + describe(err));
            });
}

void worker_actor::chunk_arrived(const std::string& hash, const wire<proto::BinaryChunk>& chunk) {
  auto it = fetches_.find(hash);
  if (it == fetches_.end())
    return;  // cancelled by a shutdown, or failed
  auto r = chunk.reader();
  auto c = from_proto(r);
  if (str(r.getContentHash()) != hash) {
    fail_fetch(hash, it->second.source_text + " sent a chunk of " + str(r.getContentHash()) + " for " + hash);
    return;
  }
  if (auto err = it->second.assembly->add(c)) {
    fail_fetch(hash, "fetching the application binary failed: " + *err);
    return;
  }
  if (!it->second.assembly->complete()) {
    fetch_next(hash);
    return;
  }
  fs::path path;
  try {
    path = it->second.assembly->finish();
  } catch (const std::exception& ex) {
    fail_fetch(hash, std::string{"fetching the application binary failed: "} + ex.what());
    return;
  }
  log_->info("fetched binary {} ({} bytes) from {}", hash, c.total_size, it->second.source_text);
  fetches_.erase(it);
  evict_binaries();
  enact(logic_.fetch_succeeded(hash, path));
}

void worker_actor::fail_fetch(const std::string& hash, const std::string& message) {
  if (fetches_.erase(hash) == 0)
    return;
  enact(logic_.fetch_failed(hash, message));
}

} // namespace

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
  o.binary_cache_max_size = static_cast<std::uint64_t>(c.get(config::keys::worker_binary_cache_max_size));
  o.limiter = deploy::memory_limiter::detect(c.get(config::keys::worker_cgroup_enabled),
                                             static_cast<std::uint64_t>(c.get(config::keys::worker_address_space_overhead)),
                                             "ember-worker-" + std::to_string(::getpid()));
  std::vector<std::string> warnings;  // configure_remoting already logged them
  auto security = security::resolve(c, warnings);
  namespace k = config::keys;
  if (security.mode == security::cluster_security::kind::shared_secret) {
    o.child_conf.push_back(std::string{k::authenticate.name} + "=true");
    o.secret = security.secret;
  } else if (security.mode == security::cluster_security::kind::certificates) {
    o.child_conf.push_back(std::string{k::ssl_enabled.name} + "=true");
    o.child_conf.push_back(std::string{k::ssl_certificate.name} + "=" + fs::absolute(security.certificate).string());
    o.child_conf.push_back(std::string{k::ssl_key.name} + "=" + fs::absolute(security.key).string());
    o.child_conf.push_back(std::string{k::ssl_ca_file.name} + "=" + fs::absolute(security.ca_file).string());
  }
  return o;
}

caf::actor spawn_worker(caf::actor_system& sys, worker_options options) {
  return sys.spawn<worker_actor, caf::detached>(std::move(options));
}

} // namespace ember::actors
