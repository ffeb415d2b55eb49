#include "actors/runtime.hpp"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/block_manager_master_actor.hpp"
#include "actors/broadcast_driver.hpp"
#include "actors/cluster_driver.hpp"
#include "actors/cluster_manager_backend.hpp"
#include "actors/conversions.hpp"
#include "actors/dag_scheduler.hpp"
#include "actors/listener_bus.hpp"
#include "actors/map_output_tracker.hpp"
#include "actors/remoting.hpp"
#include "security/secret.hpp"
#include "actors/settings_wiring.hpp"
#include "actors/task_scheduler_actor.hpp"
#include "config/log.hpp"
#include "config/secure_fs.hpp"
#include "deploy/binary_cache.hpp"
#include "protocol/deploy.capnp.h"
#include "protocol/register_types.hpp"
#include "ui/app_routes.hpp"
#include "ui/metrics_sinks.hpp"
#include "ui/pages.hpp"
#include "ui/prometheus.hpp"
#include "ui/ui_settings.hpp"

namespace ember::actors {

namespace {

detail::dataset_settings dataset_settings_from(const config::config& c, uint32_t cores) {
  detail::dataset_settings s;
  auto parallelism = c.get(config::keys::default_parallelism);
  s.default_parallelism = parallelism > 0 ? static_cast<uint32_t>(parallelism) : cores;
  s.max_partition_bytes = static_cast<uint64_t>(c.get(config::keys::files_max_partition_bytes));
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

// The web UI binds before any actor exists: a port it cannot take fails the start with nothing
// to tear down. The listener bus feeds its store from the first event on.
void driver_runtime::start_ui() {
  ui_app_ = std::make_shared<ui::live_app>(ui::retention_from(conf_));
  std::vector<std::string> warnings;
  auto settings = ui::settings_from(conf_, "ember.ui", static_cast<int>(conf_.get(config::keys::ui_port)),
                                    conf_.get(config::keys::ui_host), security::os_user(), warnings);
  for (const auto& w : warnings)
    log::get("ui")->warn("{}", w);
  ui_server_ = std::make_unique<ui::http_server>(std::move(settings));
  ui::mount_rest_api(*ui_server_, ui_app_);
  ui::mount_driver_metrics(*ui_server_, ui_app_);
  ui::mount_pages(*ui_server_, ui::page_layout::driver);
  ui_server_->start();
  log::get("ui")->info("Ember UI at {}", ui_server_->url());
}

// Sinks read the same store as the UI (which may be off): created before the bus, so they see
// the whole application, started once it runs.
void driver_runtime::start_metrics_sinks() {
  auto file = conf_.get(config::keys::metrics_conf);
  if (file.empty())
    return;
  auto sinks = ui::load_metrics_conf(file, "driver");  // throws with the file and line
  if (!ui_app_)
    ui_app_ = std::make_shared<ui::live_app>(ui::retention_from(conf_));
  metrics_ = std::make_unique<ui::metrics_reporter>(
    std::move(sinks), app_id_,
    [app = ui_app_](ui::prometheus_writer& w) {
      app->for_each([&](const ui::app_store& store) { ui::write_driver_metrics(w, store); });
    },
    std::cout);
}

void driver_runtime::start_schedulers(bool remoting) {
  log::configure(conf_);
  auto sched = task_scheduler_settings_from(conf_);
  // Settings that can be wrong are checked before any actor exists (nothing to tear down).
  task_scheduler_config tc;
  if (sched.mode == scheduler::scheduling_mode::fair) {
    if (auto file = conf_.get(config::keys::scheduler_allocation_file); !file.empty()) {
      auto pools = scheduler::load_pools(file);
      if (!pools.ok())
        throw std::runtime_error("ember.scheduler.allocation.file: " + pools.error);
      tc.pools = std::move(pools.pools);
    }
  }
  if (remoting && conf_.get(config::keys::dynamic_allocation_enabled))
    tc.allocation = allocation_settings_from(conf_); // throws when Spark would refuse them
  if (conf_.get(config::keys::ui_enabled))
    start_ui();
  start_metrics_sinks();
  cfg_ = std::make_unique<caf::actor_system_config>();
  if (remoting) {
    configure_remoting(*cfg_, conf_, "driver");
  } else {
    register_types(*cfg_);
    cfg_->set("logger.verbosity", caf::atom("quiet"));
  }
  cfg_->set("scheduler.max-threads", std::max<size_t>(2, std::thread::hardware_concurrency()));
  sys_ = std::make_unique<caf::actor_system>(*cfg_);

  listener_bus_config bc;
  bc.app_id = app_id_;
  bc.event_log = conf_.get(config::keys::event_log_enabled);
  bc.event_log_dir = conf_.get(config::keys::event_log_dir);
  bc.event_log_buffer = static_cast<std::size_t>(conf_.get(config::keys::event_log_buffer));
  bc.console_progress = conf_.get(config::keys::ui_show_console_progress) && ::isatty(STDERR_FILENO) == 1;
  if (bc.console_progress)
    bc.console_width = terminal_width();
  if (ui_app_)
    bc.sinks.emplace_back([app = ui_app_](proto::ListenerEvent::Reader ev) {
      app->update([&](ui::app_store& store) { store.apply(ev); });
    });
  bus_ = spawn_listener_bus(*sys_, bc); // first: ApplicationStart precedes every other event
  if (metrics_)
    metrics_->start();

  tc.settings = sched;
  if (remoting) {
    tc.loss_reason_wait = conf_.get(config::keys::executor_loss_reason_wait);
    auto executors = conf_.get(config::keys::dynamic_allocation_enabled)
                       ? std::max(conf_.get(config::keys::dynamic_allocation_initial_executors),
                                  conf_.get(config::keys::dynamic_allocation_min_executors))
                       : conf_.get(config::keys::executor_instances);
    auto cores = static_cast<double>(executors * conf_.get(config::keys::executor_cores));
    tc.min_registered_cores =
      static_cast<uint32_t>(std::ceil(cores * conf_.get(config::keys::scheduler_min_registered_resources_ratio)));
    tc.max_registered_wait = conf_.get(config::keys::scheduler_max_registered_resources_waiting_time);
  }
  tc.task_queue_depth = static_cast<uint32_t>(conf_.get(config::keys::executor_task_queue_depth));
  tc.short_task_queue_depth = static_cast<uint32_t>(conf_.get(config::keys::executor_short_task_queue_depth));
  tc.short_task_threshold = conf_.get(config::keys::executor_short_task_threshold);
  // One role per actor: the dag scheduler owns the planner (and the map outputs it plans with),
  // the tracker serves them to reducers, the block manager master knows the cached blocks.
  tracker_ = spawn_map_output_tracker(*sys_);
  block_manager_master_config mc;
  mc.ask_timeout = conf_.get(config::keys::rpc_ask_timeout);
  mc.listener_bus = bus_;
  block_master_ = spawn_block_manager_master(*sys_, mc);
  tc.listener_bus = bus_;
  tc.block_manager_master = block_master_;
  tc.task_events = bc.event_log || bc.console_progress || !bc.sinks.empty();
  tasks_ = spawn_task_scheduler(*sys_, tc);
  caf::anon_send(bus_, caf::join_atom::value, tasks_);
  dag_scheduler_config dc;
  dc.max_consecutive_attempts = static_cast<int>(conf_.get(config::keys::stage_max_consecutive_attempts));
  auto max_result_size = conf_.get(config::keys::driver_max_result_size);
  dc.max_result_size = max_result_size == 0 ? INT64_MAX : max_result_size; // 0 = unlimited
  dc.listener_bus = bus_;
  dc.map_output_tracker = tracker_;
  dc.block_manager_master = block_master_;
  dag_ = spawn_dag_scheduler(*sys_, dc, tasks_);
  caf::anon_send(tasks_, dag_);
  if (!remoting)
    driver_services_ = sys_->spawn(local_driver_services, tracker_, block_master_);
}

std::string driver_runtime::app_name() const {
  auto name = conf_.get(config::keys::app_name);
  if (name.empty()) {
    std::error_code ec;
    name = std::filesystem::read_symlink("/proc/self/exe", ec).filename().string();
  }
  return name;
}

void driver_runtime::post_application_start() {
  caf::anon_send(bus_, make_wire<proto::ListenerEvent>([&](proto::ListenerEvent::Builder e) {
    auto b = e.initApplicationStart();
    b.setAppId(app_id_);
    b.setAppName(app_name());
    b.setUser(security::os_user());
    b.setTime(epoch_ms());
  }));
  // The effective configuration, for the UI's Environment tab and the history server.
  caf::anon_send(bus_, make_wire<proto::ListenerEvent>([&](proto::ListenerEvent::Builder e) {
    auto b = e.initEnvironmentUpdate();
    const auto& entries = conf_.entries();
    auto props = b.initProperties(static_cast<unsigned>(entries.size()));
    unsigned i = 0;
    for (const auto& entry : entries) {
      auto value = config::format_value(*entry.spec, entry.value);
      if (security::is_secret_key(entry.spec->name) && !value.empty())
        value = security::redacted;
      props[i].setName(std::string(entry.spec->name));
      props[i].setValue(value);
      props[i].setOrigin(entry.origin.describe());
      ++i;
    }
    std::vector<std::pair<std::string, std::string>> system{
      {"ember.version", EMBER_PROJECT_VERSION}, {"host", host_name()}, {"pid", std::to_string(::getpid())},
      {"executable", std::filesystem::read_symlink("/proc/self/exe").string()}};
    auto sys = b.initSystem(static_cast<unsigned>(system.size()));
    for (unsigned k = 0; k < system.size(); ++k) {
      sys[k].setName(system[k].first);
      sys[k].setValue(system[k].second);
    }
  }));
}

namespace {

std::vector<std::pair<std::string, std::string>> explicit_settings(const config::config& c) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& e : c.entries()) {
    auto k = e.origin.what;
    // The secret never travels: executors get it from their worker, not from the application.
    if ((k == config::origin::kind::file || k == config::origin::kind::conf || k == config::origin::kind::flag)
        && !security::is_secret_key(e.spec->name))
      out.emplace_back(e.spec->name, c.text(e.spec->name));
  }
  return out;
}

const deploy::cluster_manager_kind& cluster_manager_for(const config::config& c) {
  const auto& master = c.get(config::keys::master);
  const auto* kind = cluster_managers().find(master);
  if (kind == nullptr)
    throw std::runtime_error("ember.master: " + cluster_managers().unsupported(master));
  return *kind;
}

} // namespace

driver_runtime::driver_runtime(config::config conf, std::vector<std::string> app_args)
  : detail::context_impl(dataset_settings_from(
      conf, cluster_manager_for(conf).default_parallelism(conf.get(config::keys::master), conf))),
    conf_(std::move(conf)), manager_(&cluster_manager_for(conf_)) {
  const auto ask_timeout = conf_.get(config::keys::rpc_ask_timeout);
  const auto max_chunk_size = static_cast<size_t>(conf_.get(config::keys::network_max_chunk_size));
  const auto& master = conf_.get(config::keys::master);
  // Executors in this process: the driver names the application. Otherwise the cluster manager
  // may (the standalone master does): until then the event log goes by a provisional name.
  bool in_process = manager_->executors_in_process;
  app_id_ = in_process ? new_app_id() : "pending-" + new_app_id();
  if (in_process) {
    auto app_dir = config::local_dirs(conf_).at(0) / ("ember-" + app_id_);
    config::make_private_dir(app_dir);
    app_dir_ = app_dir.string();
  }
  start_schedulers(!in_process);
  auto fail = [&](const std::string& what) {
    stopped_ = true; // nothing to unregister; the actor system goes down with this object
    caf::anon_send_exit(tasks_, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(dag_, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(bus_, caf::exit_reason::user_shutdown);
    throw std::runtime_error(what);
  };

  deploy::driver_services services{*sys_, conf_, master, tasks_, driver_services_, app_id_, app_dir_, nullptr, nullptr};
  deploy::app_description app;
  auto bstore = std::make_shared<storage::broadcast_store>();
  std::string host;
  uint16_t port = 0;
  if (in_process) {
    // ApplicationStart precedes the in-process executor's ExecutorAdded.
    post_application_start();
    // No broadcast master: the executor reads broadcasts straight from the driver's store.
    broadcasts_ = std::make_shared<broadcast_driver>(*sys_, bstore, broadcast_settings_from(conf_), caf::actor{},
                                                     ask_timeout);
    services.broadcasts = bstore;
  } else {
    app.binary.path = std::filesystem::canonical("/proc/self/exe").string();
    app.binary.content_hash = deploy::content_hash(app.binary.path);
    app.binary.size = std::filesystem::file_size(app.binary.path);
    heartbeat_receiver_config hb;
    hb.timeout = conf_.get(config::keys::network_timeout);
    hb.check_interval = conf_.get(config::keys::network_timeout_interval);
    // Broadcast pieces and manifests: the driver endpoint routes executors' requests to its master.
    broadcasts_ = std::make_shared<broadcast_driver>(
      *sys_, bstore, broadcast_settings_from(conf_),
      spawn_broadcast_master(*sys_, bstore, max_chunk_size, ask_timeout, tasks_),
      ask_timeout);
    // Racks of executors' hosts (docs/scheduling.md): a bad topology file or script fails the start.
    std::shared_ptr<scheduler::topology> topology;
    try {
      topology = std::make_shared<scheduler::topology>(conf_.get(config::keys::topology_file),
                                                       conf_.get(config::keys::topology_script),
                                                       conf_.get(config::keys::topology_script_timeout));
    } catch (const std::exception& e) {
      fail(e.what());
    }
    endpoint_ = spawn_driver_endpoint(*sys_, tasks_, tracker_, block_master_, app.binary.path, app.binary.content_hash,
                                      max_chunk_size, hb, topology);
    host = conf_.get(config::keys::driver_host);
    if (host.empty())
      host = host_name();
    auto published = publish(*sys_, endpoint_, static_cast<uint16_t>(conf_.get(config::keys::driver_port)),
                                               host.c_str(), true);
    if (!published)
      fail("cannot listen for executors on " + host + ":" + conf_.text(config::keys::driver_port)
           + " (ember.driver.host/port): " + describe(published.error()));
    port = *published;

    app.name = conf_.get(config::keys::app_name);
    if (app.name.empty())
      app.name = std::filesystem::path{app.binary.path}.filename().string();
    app.user = std::getenv("USER") ? std::getenv("USER") : "";
    app.max_cores = static_cast<uint32_t>(conf_.get(config::keys::cores_max));
    app.executor_cores = static_cast<uint32_t>(conf_.get(config::keys::executor_cores));
    app.executor_memory = static_cast<uint64_t>(conf_.get(config::keys::executor_memory));
    app.args = std::move(app_args);
    app.conf = explicit_settings(conf_);
    app.driver_host = host;
    app.driver_port = port;
    app.ui_url = ui_server_ ? ui_server_->url() : std::string{};  // the master UI links to it
    app.initial_executors = static_cast<uint32_t>(conf_.get(config::keys::executor_instances));
    if (conf_.get(config::keys::dynamic_allocation_enabled))
      app.initial_executors = allocation_settings_from(conf_).initial_executors;
    data_files_ = std::make_shared<data_file_catalog>();
    services.data_files = data_files_;
  }

  std::unique_ptr<deploy::cluster_manager_backend> backend;
  try {
    backend = manager_->create(services); // the standalone one connects to the master here
  } catch (const std::exception& e) {
    fail(e.what());
  }
  backend_ = spawn_cluster_manager_backend(*sys_, std::move(backend), std::move(app), tasks_, dag_);
  std::string error;
  std::string id;
  {
    caf::scoped_actor self{*sys_};
    self->request(backend_, ask_timeout, register_atom::value)
      .receive([&](const std::string& started) { id = started; },
               [&](const caf::error& err) { error = describe(err); });
  }
  if (!error.empty())
    fail("cannot register with the master at " + master + ": " + error);
  if (in_process)
    return;
  app_id_ = id;
  caf::anon_send(tasks_, caf::put_atom::value, app_id_);
  caf::anon_send(tasks_, allocation_target_atom::value, backend_);
  caf::anon_send(endpoint_, kill_target_atom::value, backend_); // executors lost for silence are killed
  caf::anon_send(bus_, caf::put_atom::value, app_id_);
  post_application_start();
  log::get("runtime")->info("application {} on {}: executors connect to {}:{}", app_id_, master, host, port);
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
    auto timeout = conf_.get(config::keys::rpc_ask_timeout);
    if (!manager_->executors_in_process) {
      // Executors stop by themselves (StopExecutor), then the manager forgets the application.
      // First the manager hears that the application wants no executors any more: otherwise it
      // would replace each one that exits now with a new one, killed again at the unregistration.
      self->send(backend_, make_wire<proto::RequestExecutors>([](proto::RequestExecutors::Builder b) {
        b.setRequestedTotal(0);
      }));
      self->request(tasks_, timeout, caf::close_atom::value).receive([](caf::close_atom) {}, [](const caf::error&) {});
    }
    self->request(backend_, timeout, caf::close_atom::value).receive([](caf::close_atom) {}, [](const caf::error&) {});
    // The task scheduler goes first: an in-process executor's end is then no "executor removed"
    // event (mailboxes are FIFO, its exit message is ahead of the executor's down message). The
    // backend actor, linked to it, ends with it and takes such an executor along.
    caf::anon_send_exit(tasks_, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(dag_, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(tracker_, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(block_master_, caf::exit_reason::user_shutdown);
    // Every event the schedulers posted is in the bus's mailbox once they are gone, so
    // ApplicationEnd is the log's last line; the bus flushes and closes the log, then quits.
    self->wait_for(tasks_, dag_, tracker_, block_master_, backend_);
    self->send(bus_, make_wire<proto::ListenerEvent>([&](proto::ListenerEvent::Builder e) {
      auto b = e.initApplicationEnd();
      b.setAppId(app_id_);
      b.setTime(epoch_ms());
    }));
    self->request(bus_, caf::infinite, caf::close_atom::value)
      .receive([](caf::close_atom) {},
               [&](const caf::error& err) { log::get("runtime")->warn("listener bus: {}", describe(err)); });
  }
  if (ui_server_)
    ui_server_->stop();
  if (metrics_)
    metrics_->stop();  // a last report, with the application's end in it
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
