#include "actors/ui_listener.hpp"

#include <caf/event_based_actor.hpp>

#include "config/log.hpp"
#include "protocol/events.capnp.h"
#include "protocol/wire.hpp"

namespace ember::actors {

namespace {

caf::behavior ui_listener(caf::event_based_actor* self, std::shared_ptr<ui::live_app> app) {
  (void)self;
  return {
    [app](const wire<proto::ListenerEvent>& msg) {
      try {
        app->update([&](ui::app_store& store) { store.apply(msg.reader()); });
      } catch (const kj::Exception& e) {
        log::get("ui")->warn("dropped a malformed listener event: {}", e.getDescription().cStr());
      }
    },
  };
}

} // namespace

caf::actor spawn_ui_listener(caf::actor_system& sys, std::shared_ptr<ui::live_app> app) {
  return sys.spawn(ui_listener, std::move(app));
}

} // namespace ember::actors
