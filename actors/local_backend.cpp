#include "actors/local_backend.hpp"

#include <unistd.h>

#include <thread>

#include <caf/all.hpp>

#include "actors/broadcast_driver.hpp"
#include "actors/cluster_manager_backend.hpp"
#include "actors/executor.hpp"
#include "actors/settings_wiring.hpp"

namespace ember::actors {

namespace {

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0)
    return "localhost";
  return buf;
}

// The executor is spawned at start() and ends with this object, i.e. when the backend actor ends,
// after the task scheduler (so its end is no "executor removed" event: the scheduler is gone).
// There is nothing to allocate or release: the one executor has the cores local[N] names.
class local_backend : public deploy::cluster_manager_backend {
public:
  local_backend(caf::actor_system& sys, executor_config cfg, caf::actor tasks, caf::actor dag, std::string app_id)
    : sys_(sys), cfg_(std::move(cfg)), tasks_(std::move(tasks)), dag_(std::move(dag)), app_id_(std::move(app_id)) {}

  ~local_backend() override {
    if (executor_)
      caf::anon_send_exit(executor_, caf::exit_reason::user_shutdown);
  }

  void start(const deploy::app_description&, std::shared_ptr<deploy::cluster_manager_events> events) override {
    events_ = std::move(events);
    executor_ = spawn_executor(sys_, cfg_, tasks_, dag_);
    events_->application_started(app_id_);
  }
  void request_total_executors(std::uint32_t) override {} // no dynamic allocation in local mode
  void kill_executors(const std::vector<std::string>&) override {} // no heartbeats, nothing to release
  void stop() override { events_->stopped(); }

private:
  caf::actor_system& sys_;
  executor_config cfg_;
  caf::actor tasks_, dag_, executor_;
  std::string app_id_;
  std::shared_ptr<deploy::cluster_manager_events> events_;
};

} // namespace

std::unique_ptr<deploy::cluster_manager_backend> make_local_backend(deploy::driver_services& services) {
  const auto& conf = services.conf;
  auto cores = deploy::parse_local_master(services.master, std::thread::hardware_concurrency()).value();
  executor_config ec;
  ec.executor_id = "driver";
  ec.host = host_name();
  ec.cores = cores;
  ec.app_dir = services.app_dir;
  // Local mode: the driver's memory is the executor's (as in Spark), shared by the task threads.
  const auto driver_memory = conf.get(config::keys::driver_memory);
  ec.task_memory =
    static_cast<size_t>(static_cast<double>(driver_memory) * conf.get(config::keys::memory_fraction) / cores);
  ec.storage_memory = memory_settings_from(conf, driver_memory);
  ec.compress = conf.get(config::keys::shuffle_compress);
  ec.block_size = static_cast<size_t>(conf.get(config::keys::io_compression_lz4_block_size));
  ec.ask_timeout = conf.get(config::keys::rpc_ask_timeout);
  ec.short_task_threshold = conf.get(config::keys::executor_short_task_threshold);
  ec.stop_grace = conf.get(config::keys::executor_stop_grace_period);
  // The executor reads broadcasts straight from the driver's store (the originals).
  ec.broadcasts = std::make_shared<local_broadcast_source>(services.broadcasts);
  return std::make_unique<local_backend>(services.system, std::move(ec), services.task_scheduler,
                                         services.driver_handle, services.app_id);
}

} // namespace ember::actors
