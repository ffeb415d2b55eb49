#include "actors/runtime.hpp"

#include <pwd.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/broadcast_driver.hpp"
#include "actors/cluster_driver.hpp"
#include "deploy/binary_cache.hpp"
#include "actors/block_manager_master_actor.hpp"
#include "actors/dag_scheduler.hpp"
#include "actors/map_output_tracker.hpp"
#include "actors/executor.hpp"
#include "actors/listener_bus.hpp"
#include "actors/master.hpp"
#include "actors/conversions.hpp"
#include "actors/remoting.hpp"
#include "actors/task_scheduler_actor.hpp"
#include "config/log.hpp"
#include "config/settings.hpp"
#include "protocol/deploy.capnp.h"
#include "protocol/register_types.hpp"

namespace ember::actors {

std::optional<uint32_t> parse_local_master(const std::string& master) {
  if (master == "local")
    return 1;
  if (!master.starts_with("local[") || !master.ends_with("]"))
    return std::nullopt;
  auto inner = master.substr(6, master.size() - 7);
  if (inner == "*")
    return std::max(1u, std::thread::hardware_concurrency());
  try {
    size_t used = 0;
    auto n = std::stoul(inner, &used);
    if (used != inner.size() || n == 0 || n > 4096)
      return std::nullopt;
    return static_cast<uint32_t>(n);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

namespace {

detail::dataset_settings dataset_settings_from(const config::config& c, uint32_t cores) {
  detail::dataset_settings s;
  auto sched = config::scheduler_settings::from(c);
  s.default_parallelism = sched.default_parallelism > 0 ? static_cast<uint32_t>(sched.default_parallelism) : cores;
  s.max_partition_bytes = static_cast<uint64_t>(c.get_size("ember.files.maxPartitionBytes"));
  return s;
}

std::string new_app_id() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return "local-" + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(now).count()) + "-"
         + std::to_string(::getpid());
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0)
    return "localhost";
  return buf;
}

std::string user_name() {
  if (const auto* pw = ::getpwuid(::getuid()); pw != nullptr && pw->pw_name != nullptr)
    return pw->pw_name;
  if (const char* u = std::getenv("USER"))
    return u;
  return {};
}

// Local mode's stand-in for the driver endpoint (actors/cluster_driver.hpp): the in-process
// executor has one handle for the driver's map outputs and blocks, as a remote one has.
caf::behavior local_driver_services(caf::event_based_actor* self, caf::actor tracker, caf::actor block_master) {
  self->link_to(tracker);
  self->link_to(block_master);
  return {
    [=](const wire<proto::GetMapOutputs>& msg) { return self->delegate(tracker, msg); },
    [=](const wire<proto::UpdateBlockInfo>& msg) { return self->delegate(block_master, msg); },
    [=](const wire<proto::GetBlockLocations>& msg) { return self->delegate(block_master, msg); },
  };
}

} // namespace

std::optional<std::pair<std::string, uint16_t>> parse_cluster_master(const std::string& master) {
  std::pair<std::string, uint16_t> out;
  if (!parse_master_url(master, out.first, out.second))
    return std::nullopt;
  return out;
}

void driver_runtime::start_schedulers(bool remoting) {
  log::configure(conf_);
  auto sched = config::scheduler_settings::from(conf_);
  auto drv = config::driver_settings::from(conf_);
  // Settings that can be wrong are checked before any actor exists (nothing to tear down).
  task_scheduler_config tc;
  if (sched.mode == config::scheduling_mode::fair) {
    if (auto file = conf_.get_string("ember.scheduler.allocation.file"); !file.empty()) {
      auto pools = scheduler::load_pools(file);
      if (!pools.ok())
        throw std::runtime_error("ember.scheduler.allocation.file: " + pools.error);
      tc.pools = std::move(pools.pools);
    }
  }
  if (remoting && conf_.get_bool("ember.dynamicAllocation.enabled"))
    tc.allocation = allocation_settings_from(conf_); // throws when Spark would refuse them
  cfg_ = std::make_unique<caf::actor_system_config>();
  if (remoting) {
    configure_remoting(*cfg_, conf_);
  } else {
    register_types(*cfg_);
    cfg_->set("logger.verbosity", caf::atom("quiet"));
  }
  cfg_->set("scheduler.max-threads", std::max<size_t>(2, std::thread::hardware_concurrency()));
  sys_ = std::make_unique<caf::actor_system>(*cfg_);

  listener_bus_config bc;
  bc.app_id = app_id_;
  bc.event_log = drv.event_log_enabled;
  bc.event_log_dir = drv.event_log_dir;
  bc.event_log_buffer = static_cast<std::size_t>(drv.event_log_buffer);
  bc.console_progress = drv.show_console_progress && ::isatty(STDERR_FILENO) == 1;
  if (bc.console_progress)
    bc.console_width = terminal_width();
  bus_ = spawn_listener_bus(*sys_, bc); // first: ApplicationStart precedes every other event

  tc.settings = sched;
  if (remoting) {
    tc.loss_reason_wait = conf_.get_duration("ember.executor.lossReasonWait");
    auto executors = conf_.get_bool("ember.dynamicAllocation.enabled")
                       ? std::max(conf_.get_int("ember.dynamicAllocation.initialExecutors"),
                                  conf_.get_int("ember.dynamicAllocation.minExecutors"))
                       : conf_.get_int("ember.executor.instances");
    auto cores = static_cast<double>(executors * conf_.get_int("ember.executor.cores"));
    tc.min_registered_cores = static_cast<uint32_t>(std::ceil(cores * sched.min_registered_resources_ratio));
    tc.max_registered_wait = sched.max_registered_resources_waiting_time;
  }
  tc.task_queue_depth = static_cast<uint32_t>(conf_.get_int("ember.executor.taskQueueDepth"));
  tc.short_task_queue_depth = static_cast<uint32_t>(conf_.get_int("ember.executor.shortTaskQueueDepth"));
  tc.short_task_threshold = conf_.get_duration("ember.executor.shortTaskThreshold");
  // One role per actor: the dag scheduler owns the planner (and the map outputs it plans with),
  // the tracker serves them to reducers, the block manager master knows the cached blocks.
  tracker_ = spawn_map_output_tracker(*sys_);
  block_manager_master_config mc;
  mc.ask_timeout = drv.ask_timeout;
  block_master_ = spawn_block_manager_master(*sys_, mc);
  tc.listener_bus = bus_;
  tc.block_manager_master = block_master_;
  tc.task_events = bc.event_log || bc.console_progress;
  tasks_ = spawn_task_scheduler(*sys_, tc);
  caf::anon_send(bus_, caf::join_atom::value, tasks_);
  dag_scheduler_config dc;
  dc.max_consecutive_attempts = sched.max_stage_attempts;
  dc.max_result_size = drv.max_result_size;
  dc.listener_bus = bus_;
  dc.map_output_tracker = tracker_;
  dc.block_manager_master = block_master_;
  dag_ = spawn_dag_scheduler(*sys_, dc, tasks_);
  caf::anon_send(tasks_, dag_);
  if (!remoting)
    driver_services_ = sys_->spawn(local_driver_services, tracker_, block_master_);
}

void driver_runtime::post_application_start() {
  caf::anon_send(bus_, make_wire<proto::ListenerEvent>([&](proto::ListenerEvent::Builder e) {
    auto b = e.initApplicationStart();
    b.setAppId(app_id_);
    b.setAppName(conf_.get_string("ember.app.name"));
    b.setUser(user_name());
    b.setTime(epoch_ms());
  }));
}

driver_runtime::driver_runtime(config::config conf, uint32_t cores)
  : detail::context_impl(dataset_settings_from(conf, cores)), conf_(std::move(conf)) {
  auto exec = config::executor_settings::from(conf_);
  auto shuf = config::shuffle_settings::from(conf_);
  auto drv = config::driver_settings::from(conf_);
  app_id_ = new_app_id();
  app_dir_ = (std::filesystem::path{shuf.local_dirs.at(0)} / ("ember-" + app_id_)).string();
  std::filesystem::create_directories(app_dir_);
  start_schedulers(false);
  post_application_start();

  executor_config ec;
  ec.executor_id = "driver";
  ec.host = host_name();
  ec.cores = cores;
  ec.app_dir = app_dir_;
  // Local mode: the driver's memory is the executor's (as in Spark), shared by the task threads.
  ec.task_memory = static_cast<size_t>(static_cast<double>(drv.memory_bytes) * exec.memory_fraction / cores);
  ec.storage_memory = {static_cast<size_t>(static_cast<double>(drv.memory_bytes) * exec.memory_fraction),
                       exec.storage_fraction};
  ec.compress = shuf.compress;
  ec.block_size = static_cast<size_t>(shuf.lz4_block_size);
  ec.ask_timeout = drv.ask_timeout;
  // Local mode: the executor reads broadcasts straight from the driver's store (the originals).
  auto bstore = std::make_shared<storage::broadcast_store>();
  broadcasts_ = std::make_shared<broadcast_driver>(*sys_, bstore, broadcast_settings_from(conf_), caf::actor{},
                                                   drv.ask_timeout);
  ec.broadcasts = std::make_shared<local_broadcast_source>(bstore);
  executor_ = spawn_executor(*sys_, ec, tasks_, driver_services_);
}

namespace {

// Cluster mode without ember.default.parallelism: the cores the application asks for
// (executors x cores each, at least 2), as Spark's standalone backend does once they register.
uint32_t cluster_parallelism(const config::config& c) {
  auto instances = std::max<int64_t>(1, c.get_int("ember.executor.instances"));
  return static_cast<uint32_t>(std::max<int64_t>(2, instances * c.get_int("ember.executor.cores")));
}

std::vector<std::pair<std::string, std::string>> explicit_settings(const config::config& c) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& e : c.entries()) {
    auto k = e.origin.what;
    if (k == config::origin::kind::file || k == config::origin::kind::conf || k == config::origin::kind::flag)
      out.emplace_back(e.spec->name, c.text(e.spec->name));
  }
  return out;
}

} // namespace

driver_runtime::driver_runtime(config::config conf, const std::pair<std::string, uint16_t>& master,
                               std::vector<std::string> app_args)
  : detail::context_impl(dataset_settings_from(conf, cluster_parallelism(conf))), conf_(std::move(conf)) {
  auto drv = config::driver_settings::from(conf_);
  auto shuf = config::shuffle_settings::from(conf_);
  app_id_ = "pending-" + new_app_id(); // the event log's name until the master assigns the id
  start_schedulers(true);
  auto fail = [&](const std::string& what) {
    stopped_ = true; // nothing to unregister; the actor system goes down with this object
    caf::anon_send_exit(tasks_, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(dag_, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(bus_, caf::exit_reason::user_shutdown);
    throw std::runtime_error(what);
  };

  app_description app;
  app.binary_path = std::filesystem::canonical("/proc/self/exe").string();
  app.binary_hash = deploy::content_hash(app.binary_path);
  app.binary_size = std::filesystem::file_size(app.binary_path);
  heartbeat_receiver_config hb;
  hb.timeout = conf_.get_duration("ember.network.timeout");
  hb.check_interval = conf_.get_duration("ember.network.timeoutInterval");
  // Broadcast pieces and manifests: the driver endpoint routes executors' requests to its master.
  auto bstore = std::make_shared<storage::broadcast_store>();
  broadcasts_ = std::make_shared<broadcast_driver>(
    *sys_, bstore, broadcast_settings_from(conf_),
    spawn_broadcast_master(*sys_, bstore, static_cast<size_t>(shuf.max_chunk_size), drv.ask_timeout, tasks_),
    drv.ask_timeout);
  // Racks of executors' hosts (docs/scheduling.md): a bad topology file or script fails the start.
  std::shared_ptr<scheduler::topology> topology;
  try {
    auto cs = config::cluster_settings::from(conf_);
    topology = std::make_shared<scheduler::topology>(cs.topology_file, cs.topology_script, cs.topology_script_timeout);
  } catch (const std::exception& e) {
    fail(e.what());
  }
  endpoint_ = spawn_driver_endpoint(*sys_, tasks_, tracker_, block_master_, app.binary_path, app.binary_hash,
                                    static_cast<size_t>(shuf.max_chunk_size), hb, topology);
  auto host = conf_.get_string("ember.driver.host");
  if (host.empty())
    host = host_name();
  auto port = sys_->middleman().publish(endpoint_, static_cast<uint16_t>(conf_.get_int("ember.driver.port")),
                                        host.c_str(), true);
  if (!port)
    fail("cannot listen for executors on " + host + ":" + conf_.text("ember.driver.port") + " (ember.driver.host/port): "
         + describe(port.error()));
  auto master_url = "ember://" + master.first + ":" + std::to_string(master.second);
  auto master_actor = sys_->middleman().remote_actor(master.first, master.second);
  if (!master_actor)
    fail("cannot reach the master at " + master_url + ": " + describe(master_actor.error()));

  app.name = conf_.get_string("ember.app.name");
  if (app.name.empty())
    app.name = std::filesystem::path{app.binary_path}.filename().string();
  app.max_cores = static_cast<uint32_t>(conf_.get_int("ember.cores.max"));
  app.executor_cores = static_cast<uint32_t>(conf_.get_int("ember.executor.cores"));
  app.executor_memory = static_cast<uint64_t>(conf_.get_size("ember.executor.memory"));
  app.args = std::move(app_args);
  app.conf = explicit_settings(conf_);
  app.driver_host = host;
  app.driver_port = *port;
  app.initial_executors = static_cast<uint32_t>(conf_.get_int("ember.executor.instances"));
  app.master_host = master.first; // the app client reconnects here if the master goes away
  app.master_port = master.second;
  app.reconnect_interval = conf_.get_duration("ember.worker.registrationRetryInterval");
  data_files_ = std::make_shared<data_file_catalog>();
  app.data_files = data_files_;
  if (conf_.get_bool("ember.dynamicAllocation.enabled"))
    app.initial_executors = allocation_settings_from(conf_).initial_executors;
  app_ = spawn_app_client(*sys_, *master_actor, app, tasks_, dag_);
  std::string error;
  {
    caf::scoped_actor self{*sys_};
    self->request(app_, drv.ask_timeout, register_atom::value)
      .receive([&](const std::string& id) { app_id_ = id; },
               [&](const caf::error& err) { error = describe(err); });
  }
  if (!error.empty())
    fail("cannot register with the master at " + master_url + ": " + error);
  caf::anon_send(tasks_, caf::put_atom::value, app_id_);
  caf::anon_send(tasks_, allocation_target_atom::value, app_);
  caf::anon_send(endpoint_, kill_target_atom::value, app_); // executors lost for silence are killed
  caf::anon_send(bus_, caf::put_atom::value, app_id_);
  post_application_start();
  log::get("runtime")->info("application {} on {}: executors connect to {}:{}", app_id_, master_url, host, *port);
}

driver_runtime::~driver_runtime() { stop(); }

detail::declared_files driver_runtime::data_files() const {
  return data_files_ ? data_files_->snapshot() : detail::declared_files{};
}

std::shared_ptr<detail::broadcast_control> driver_runtime::broadcasts() const { return broadcasts_; }

void driver_runtime::stop() {
  if (stopped_)
    return;
  stopped_ = true;
  {
    caf::scoped_actor self{*sys_};
    if (app_) {
      // Executors stop by themselves (StopExecutor), then the master forgets the application.
      // First the master hears that the application wants no executors any more: otherwise it
      // would replace each one that exits now with a new one, killed again at the unregistration.
      self->send(app_, make_wire<proto::RequestExecutors>([](proto::RequestExecutors::Builder b) {
        b.setRequestedTotal(0);
      }));
      auto timeout = config::driver_settings::from(conf_).ask_timeout;
      self->request(tasks_, timeout, caf::close_atom::value).receive([](caf::close_atom) {}, [](const caf::error&) {});
      self->request(app_, timeout, caf::close_atom::value).receive([](caf::close_atom) {}, [](const caf::error&) {});
    }
    // The task scheduler goes first: the executor's end is then no "executor removed" event
    // (mailboxes are FIFO, its exit message is ahead of the executor's down message).
    caf::anon_send_exit(tasks_, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(dag_, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(tracker_, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(block_master_, caf::exit_reason::user_shutdown);
    if (executor_)
      caf::anon_send_exit(executor_, caf::exit_reason::user_shutdown);
    // Every event the schedulers posted is in the bus's mailbox once they are gone, so
    // ApplicationEnd is the log's last line; the bus flushes and closes the log, then quits.
    self->wait_for(tasks_, dag_, tracker_, block_master_);
    if (executor_)
      self->wait_for(executor_);
    self->send(bus_, make_wire<proto::ListenerEvent>([&](proto::ListenerEvent::Builder e) {
      auto b = e.initApplicationEnd();
      b.setAppId(app_id_);
      b.setTime(epoch_ms());
    }));
    self->request(bus_, caf::infinite, caf::close_atom::value)
      .receive([](caf::close_atom) {},
               [&](const caf::error& err) { log::get("runtime")->warn("listener bus: {}", describe(err)); });
  }
  sys_.reset(); // waits for every actor (and the executor's task threads) to finish
  if (!app_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(app_dir_, ec);
  }
}

void driver_runtime::unpersist(uint32_t rdd_id, bool blocking) {
  if (stopped_)
    return;
  auto msg = make_wire<proto::RemoveRdd>([&](proto::RemoveRdd::Builder b) { b.setRddId(rdd_id); });
  if (!blocking) {
    caf::anon_send(block_master_, msg);
    return;
  }
  caf::scoped_actor self{*sys_};
  self->request(block_master_, caf::infinite, msg)
    .receive([](const wire<proto::RemoveRdd>&) {},
             [&](const caf::error& err) { log::get("runtime")->warn("unpersist of rdd {}: {}", rdd_id, describe(err)); });
}

wire<proto::SubmitJob> make_submit_job(uint32_t job_id, const detail::node_ptr& rdd,
                                       const std::vector<uint32_t>& partitions, const detail::result_fn& fn,
                                       const std::map<std::string, std::string>& properties) {
  auto graph = detail::encode_graph(*rdd);
  byte_writer fw;
  detail::encode_result_fn(fw, fn);
  return make_wire<proto::SubmitJob>([&](proto::SubmitJob::Builder b) {
    b.setJobId(job_id);
    b.setLineage(bytes(graph));
    auto ps = b.initPartitions(static_cast<unsigned>(partitions.size()));
    for (unsigned i = 0; i < partitions.size(); ++i)
      ps.set(i, partitions[i]);
    b.setResultFn(bytes(fw.view()));
    b.setCallSite(rdd->name());
    auto list = b.initProperties(static_cast<unsigned>(properties.size()));
    unsigned i = 0;
    for (auto& [k, v] : properties) {
      list[i].setKey(k);
      list[i++].setValue(v);
    }
  });
}

std::vector<std::string> driver_runtime::run_job(const detail::node_ptr& rdd, const std::vector<uint32_t>& partitions,
                                                const detail::result_fn& fn) {
  if (stopped_)
    throw detail::job_error("cannot run a job: the context was stopped");
  uint32_t job_id = next_job_.fetch_add(1);
  auto msg = make_submit_job(job_id, rdd, partitions, fn, local_properties());
  std::vector<std::string> results;
  std::string failure;
  caf::scoped_actor self{*sys_};
  self->request(dag_, caf::infinite, msg)
    .receive(
      [&](const wire<proto::JobResult>& res) {
        auto r = res.reader();
        if (!r.getSucceeded()) {
          failure = str(r.getMessage());
          return;
        }
        for (auto d : r.getResults())
          results.emplace_back(view(d));
      },
      [&](const caf::error& err) { failure = "Job " + std::to_string(job_id) + " failed: " + describe(err); });
  if (!failure.empty())
    throw detail::job_error(failure);
  return results;
}

} // namespace ember::actors
