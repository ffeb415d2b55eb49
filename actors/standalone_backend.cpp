#include "actors/standalone_backend.hpp"
#include "actors/remoting.hpp"

#include <stdexcept>

#include <caf/all.hpp>
#include <caf/io/middleman.hpp>

#include "actors/cluster_driver.hpp"
#include "actors/cluster_manager_backend.hpp"
#include "actors/conversions.hpp"
#include "config/config.hpp"
#include "protocol/deploy.capnp.h"

namespace ember::actors {

namespace {

// Each call becomes a message to the app client, which owns the connection to the master (and
// its loss and recovery); the app client reports to the events sink itself.
class standalone_backend : public deploy::cluster_manager_backend {
public:
  standalone_backend(caf::actor_system& sys, caf::actor master, app_client_options options, caf::actor tasks)
    : sys_(sys), master_(std::move(master)), options_(std::move(options)), tasks_(std::move(tasks)) {}

  void start(const deploy::app_description& app, std::shared_ptr<deploy::cluster_manager_events> events) override {
    client_ = spawn_app_client(sys_, master_, app, options_, tasks_, std::move(events));
    caf::anon_send(client_, register_atom::value);
  }
  // Before start() there is no app client and nothing to ask for.
  void request_total_executors(std::uint32_t total) override {
    if (!client_)
      return;
    caf::anon_send(client_, make_wire<proto::RequestExecutors>([&](proto::RequestExecutors::Builder b) {
      b.setRequestedTotal(total);
    }));
  }
  void kill_executors(const std::vector<std::string>& executor_ids) override {
    if (!client_)
      return;
    caf::anon_send(client_, make_wire<proto::KillExecutors>([&](proto::KillExecutors::Builder b) {
      auto ids = b.initExecutorIds(static_cast<unsigned>(executor_ids.size()));
      for (unsigned i = 0; i < executor_ids.size(); ++i)
        ids.set(i, executor_ids[i]);
    }));
  }
  void stop() override {
    if (client_)
      caf::anon_send(client_, caf::close_atom::value);
  }

private:
  caf::actor_system& sys_;
  caf::actor master_;
  app_client_options options_;
  caf::actor tasks_, client_;
};

} // namespace

std::unique_ptr<deploy::cluster_manager_backend> make_standalone_backend(deploy::driver_services& services) {
  auto master = deploy::parse_standalone_master(services.master).value();
  auto handle = remote_actor(services.system, master.host, master.port);
  if (!handle)
    throw std::runtime_error("cannot reach the master at " + master.url() + ": " + describe(handle.error()));
  app_client_options options;
  options.master_host = master.host; // the app client reconnects here if the master goes away
  options.master_port = master.port;
  options.reconnect_interval = services.conf.get(config::keys::worker_registration_retry_interval);
  options.data_files = services.data_files;
  return std::make_unique<standalone_backend>(services.system, std::move(*handle), std::move(options),
                                              services.task_scheduler);
}

} // namespace ember::actors
