// The driver side of an application in local mode: one actor system holding the
// dag_scheduler, the task_scheduler and one executor with N task threads. Datasets reach it
// through detail::context_impl::run_job, which blocks the user's thread (never an actor).
#pragma once

#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "api/context_impl.hpp"
#include "config/config.hpp"

namespace ember::actors {

// "local" -> 1, "local[4]" -> 4, "local[*]" -> hardware threads; nullopt for anything else.
std::optional<uint32_t> parse_local_master(const std::string& master);

class local_runtime : public detail::context_impl {
public:
  local_runtime(config::config conf, uint32_t cores);
  ~local_runtime() override;

  std::vector<std::string> run_job(const detail::node_ptr& rdd, const std::vector<uint32_t>& partitions,
                                   const detail::result_fn& fn) override;
  void stop();
  const config::config& conf() const { return conf_; }

private:
  config::config conf_;
  std::string app_id_;
  std::string app_dir_;
  std::unique_ptr<caf::actor_system_config> cfg_;
  std::unique_ptr<caf::actor_system> sys_;
  caf::actor bus_, tasks_, dag_, executor_; // bus_: listener bus, spawned first, closed last
  std::atomic<uint32_t> next_job_{0};
  bool stopped_ = false;
};

} // namespace ember::actors
