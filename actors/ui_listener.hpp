// The driver UI's listener: subscribed to the listener bus, it applies every event to the UI's
// store (ui/app_store.hpp), which the UI's HTTP threads read under the store's lock. The
// schedulers never wait for the UI: they post to the bus and go on; only this actor takes the
// lock, for the few microseconds an event needs.
#pragma once

#include <memory>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "ui/app_source.hpp"

namespace ember::actors {

// The caller subscribes it to the bus ((caf::subscribe_atom, listener)) before posting the
// first event, so the store sees the whole application.
caf::actor spawn_ui_listener(caf::actor_system& sys, std::shared_ptr<ui::live_app> app);

} // namespace ember::actors
