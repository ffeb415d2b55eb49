// What every process of a cluster (driver, executor, master, worker, the `ember` clients) sets on
// its actor system before talking over the network: our message types, CAF's middleman, and a
// connection heartbeat so a hung peer ends in a down message (CAF switches it off by default).
#pragma once

#include <caf/actor_system_config.hpp>

#include "config/config.hpp"

namespace ember::actors {

// Heartbeat every min(ember.executor.heartbeatInterval, ember.network.timeout / 4, 500 ms); a
// connection silent for ember.network.timeout is closed. CAF's own logger off.
void configure_remoting(caf::actor_system_config& cfg, const config::config& c);

} // namespace ember::actors
