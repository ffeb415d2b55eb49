// The master's web UI (ui/master_ui.hpp) wired to the master actor: its HTTP threads ask the
// actor (RequestMasterState, RequestKillApplication, RequestKillDriver) from a scoped actor of
// their own and wait at most ember.ui.timeout, so no actor ever blocks on a browser. Started by
// `ember master` once the master listens.
#pragma once

#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "ui/http_server.hpp"

namespace ember::config {
class config;
}

namespace ember::actors {

// Binds ember.master.ui.port (0: any free port; taken: the next ones, ember.port.maxRetries) on
// `host` (empty: as the cluster security allows, docs/monitoring.md) and serves. Throws
// std::runtime_error naming the key when it cannot listen.
std::unique_ptr<ui::http_server> start_master_ui(caf::actor_system& sys, caf::actor master, const config::config& c,
                                                 const std::string& host);

}  // namespace ember::actors
