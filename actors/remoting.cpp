#include "actors/remoting.hpp"

#include <algorithm>

#include <caf/atom.hpp>
#include <caf/io/middleman.hpp>

#include "protocol/register_types.hpp"

namespace ember::actors {

void configure_remoting(caf::actor_system_config& cfg, const config::config& c) {
  register_types(cfg);
  cfg.load<caf::io::middleman>();
  auto timeout = c.get_duration("ember.network.timeout");
  auto heartbeat = std::min(c.get_duration("ember.executor.heartbeatInterval"), timeout / 4);
  cfg.set("middleman.heartbeat-interval", caf::timespan{std::chrono::duration_cast<caf::timespan>(heartbeat)});
  cfg.set("middleman.connection-timeout", caf::timespan{std::chrono::duration_cast<caf::timespan>(timeout)});
  cfg.set("logger.verbosity", caf::atom("quiet"));
}

} // namespace ember::actors
