#include "actors/remoting.hpp"

#include <algorithm>

#include <caf/atom.hpp>
#include <caf/io/middleman.hpp>

#include "protocol/register_types.hpp"

namespace ember::actors {

void configure_remoting(caf::actor_system_config& cfg, const config::config& c) {
  register_types(cfg);
  cfg.load<caf::io::middleman>();
  auto timeout = c.get(config::keys::network_timeout);
  // Also at most 500 ms: a peer closes a connection silent for *its own* ember.network.timeout,
  // and an application may set a short one (2 s) that the master and workers, with their own
  // settings, know nothing about; their heartbeats must keep such a driver's connection open.
  auto heartbeat = std::min({c.get(config::keys::executor_heartbeat_interval), timeout / 4,
                             std::chrono::milliseconds{500}});
  cfg.set("middleman.heartbeat-interval", caf::timespan{std::chrono::duration_cast<caf::timespan>(heartbeat)});
  cfg.set("middleman.connection-timeout", caf::timespan{std::chrono::duration_cast<caf::timespan>(timeout)});
  cfg.set("logger.verbosity", caf::atom("quiet"));
}

} // namespace ember::actors
