// The driver side of an application: one actor system holding the listener bus, the
// dag_scheduler, the task_scheduler, the map_output_tracker and the block_manager_master, plus either one in-process executor with N task threads
// (local mode) or, on a standalone cluster, the driver endpoint executors connect to and the app
// client that asks the master for them. Datasets reach it through detail::context_impl::run_job,
// which blocks the user's thread (never an actor).
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

namespace ember::detail {
class broadcast_control;
}

namespace ember::actors {

struct data_file_catalog;

class broadcast_driver;

// "local" -> 1, "local[4]" -> 4, "local[*]" -> hardware threads; nullopt for anything else.
std::optional<uint32_t> parse_local_master(const std::string& master);

// "ember://HOST:PORT" -> (HOST, PORT); nullopt for anything else.
std::optional<std::pair<std::string, uint16_t>> parse_cluster_master(const std::string& master);

// The SubmitJob that runs `fn` over `partitions` of `rdd`'s graph (every action's job, whatever
// drives the dag scheduler: the driver, or the actor tests standing in for it).
wire<proto::SubmitJob> make_submit_job(uint32_t job_id, const detail::node_ptr& rdd,
                                       const std::vector<uint32_t>& partitions, const detail::result_fn& fn,
                                       const std::map<std::string, std::string>& properties);

class driver_runtime : public detail::context_impl {
public:
  // Local mode with `cores` task threads.
  driver_runtime(config::config conf, uint32_t cores);
  // A standalone cluster: registers with the master at host:port; `app_args` are the
  // application's own arguments (executors get them too). Throws std::runtime_error when the
  // master cannot be reached or refuses the application.
  driver_runtime(config::config conf, const std::pair<std::string, uint16_t>& master,
                 std::vector<std::string> app_args);
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
  void post_application_start();

  config::config conf_;
  std::string app_id_;
  std::string app_dir_;
  std::unique_ptr<caf::actor_system_config> cfg_;
  std::unique_ptr<caf::actor_system> sys_;
  caf::actor bus_, tasks_, dag_; // bus_: listener bus, spawned first, closed last
  caf::actor tracker_, block_master_; // map_output_tracker, block_manager_master
  caf::actor driver_services_; // local mode: the executor's handle on tracker_ and block_master_
  caf::actor executor_;          // local mode
  caf::actor endpoint_, app_;    // cluster: driver endpoint, app client
  std::shared_ptr<broadcast_driver> broadcasts_;
  std::shared_ptr<data_file_catalog> data_files_;
  std::atomic<uint32_t> next_job_{0};
  bool stopped_ = false;
};

} // namespace ember::actors
