// The driver side of an application: one actor system holding the listener bus, the
// dag_scheduler, the task_scheduler, the map_output_tracker, the block_manager_master and the
// cluster manager backend (actors/cluster_manager_backend.hpp) that ember.master chose: local
// mode's in-process executor with N task threads, or a cluster manager that starts executor
// processes, which connect to the driver endpoint. Datasets reach it through
// detail::context_impl::run_job, which blocks the user's thread (never an actor).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "actors/conversions.hpp"
#include "api/context_impl.hpp"
#include "api/narrow.hpp"
#include "config/config.hpp"
#include "deploy/cluster_manager.hpp"

namespace ember::detail {
class broadcast_control;
}
namespace ember::ui {
class http_server;
class live_app;
class metrics_reporter;
}

namespace ember::actors {

struct data_file_catalog;

class broadcast_driver;

// The SubmitJob that runs `fn` over `partitions` of `rdd`'s graph (every action's job, whatever
// drives the dag scheduler: the driver, or the actor tests standing in for it).
wire<proto::SubmitJob> make_submit_job(uint32_t job_id, const detail::node_ptr& rdd,
                                       const std::vector<uint32_t>& partitions, const detail::result_fn& fn,
                                       const std::map<std::string, std::string>& properties);

class driver_runtime : public detail::context_impl {
public:
  // Runs the application on the cluster manager that ember.master names (cluster_managers() in
  // actors/cluster_manager_backend.hpp); `app_args` are the application's own arguments
  // (executors in other processes get them too). Throws std::runtime_error with one line when no
  // manager serves the master, or it cannot be reached or refuses the application.
  driver_runtime(config::config conf, std::vector<std::string> app_args);
  ~driver_runtime() override;

  std::vector<std::string> run_job(const detail::node_ptr& rdd, const std::vector<uint32_t>& partitions,
                                   const detail::result_fn& fn) override;
  void unpersist(uint32_t rdd_id, bool blocking) override;
  void stop() override;
  const config::config& conf() const override { return conf_; }

  const std::string& app_id() const { return app_id_; }
  // The files workers' hosts hold in their data dirs (cluster mode; empty in local mode), as the
  // master told at registration: text_file splits of them prefer those hosts.
  detail::declared_files data_files() const override;
  // ctx.broadcast's driver half (actors/broadcast_driver.hpp).
  std::shared_ptr<detail::broadcast_control> broadcasts() const override;

private:
  void start_schedulers(bool remoting);
  void start_ui();
  void start_metrics_sinks();
  void post_application_start();
  std::string app_name() const;

  config::config conf_;
  const deploy::cluster_manager_kind* manager_; // chosen by ember.master
  std::string app_id_;
  std::string app_dir_;
  std::unique_ptr<caf::actor_system_config> cfg_;
  std::unique_ptr<caf::actor_system> sys_;
  caf::actor bus_, tasks_, dag_; // bus_: listener bus, spawned first, closed last
  caf::actor tracker_, block_master_; // map_output_tracker, block_manager_master
  caf::actor driver_services_;        // local mode: the executor's handle on tracker_ and block_master_
  caf::actor backend_;                // the cluster manager backend
  caf::actor endpoint_;               // executors in other processes: the driver endpoint
  std::shared_ptr<broadcast_driver> broadcasts_;
  std::shared_ptr<data_file_catalog> data_files_;
  std::shared_ptr<ui::live_app> ui_app_;      // the web UI's store (ember.ui.enabled)
  std::unique_ptr<ui::http_server> ui_server_;
  std::unique_ptr<ui::metrics_reporter> metrics_;  // ember.metrics.conf sinks
  std::atomic<uint32_t> next_job_{0};
  bool stopped_ = false;
};

} // namespace ember::actors
