// The driver's listener bus: one actor that receives every ListenerEvent (application, jobs,
// stages, tasks, executors) posted by the runtime and the schedulers, and fans it out to the
// event log (one JSON object per line), the console progress bar and subscribed actors.
// the driver runtime spawns it first and closes it last, so the log holds the whole application.
//
//   runtime ──ApplicationStart/End──┐
//   dag_scheduler ──Job*/Stage*─────┼──► listener_bus ──► <eventLog.dir>/<app id>.jsonl
//   task_scheduler ──Task*/Executor*┘          ├────────► progress bar on stderr (timer)
//                                              ├────────► sinks: the web UI's store, in place
//                                              └────────► subscribers: wire<ListenerEvent>
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "protocol/events.capnp.h"
#include "protocol/wire.hpp"

namespace ember::actors {

// -- configuration -----------------------------------------------------------------------------

struct listener_bus_config {
  std::string app_id;
  bool event_log = false;          // ember.eventLog.enabled
  std::string event_log_dir;       // ember.eventLog.dir
  std::size_t event_log_buffer = 64 << 10;  // ember.eventLog.buffer: 0 = write each event at once
  bool console_progress = false;   // ember.ui.showConsoleProgress, and stderr is a terminal
  std::size_t console_width = 80;  // terminal columns
  std::chrono::milliseconds progress_interval{150};
  // Called on the bus's thread with every event, in order, before subscribers hear of it: the
  // web UI's store (ui/app_source.hpp live_app), which applies an event in a microsecond under its
  // own lock. A message to a listener actor instead cost each task as much as building its
  // events did (docs/monitoring.md).
  std::vector<std::function<void(proto::ListenerEvent::Reader)>> sinks;
};

/// <dir>/<app id>.jsonl
std::string event_log_path(const std::string& dir, const std::string& app_id);

/// Columns of the terminal on stderr (TIOCGWINSZ), else $COLUMNS, else 80.
std::size_t terminal_width();

// -- the actor ---------------------------------------------------------------------------------

/// Spawns the bus. When the event log is enabled, creates its directory and opens the file here,
/// before any actor runs: a directory that cannot be written fails the context at start-up with
/// std::runtime_error ("ember.eventLog.dir: cannot ...") instead of silently losing the log.
///
/// The bus understands:
///   wire<proto::ListenerEvent>            an event; fire and forget, never answered
///   (caf::subscribe_atom, caf::actor)     send that actor every later event as a
///                                         wire<proto::ListenerEvent>, until it terminates or
///   (caf::unsubscribe_atom, caf::actor)   unsubscribes
///   (caf::join_atom, caf::actor)          the task scheduler: it posts TaskStart/TaskEnd only
///                                         while they are consumed, so the bus sends it
///                                         caf::subscribe_atom once it has a subscriber
///   caf::flush_atom                       -> caf::flush_atom once the log is written to the file
///                                         (page cache: the bus never fsyncs)
///   caf::close_atom                       -> caf::close_atom after flushing the log and erasing
///                                         the progress bar; then the bus quits
caf::actor spawn_listener_bus(caf::actor_system& sys, listener_bus_config cfg);

// -- posting events ----------------------------------------------------------------------------

/// Milliseconds since the Unix epoch: the unit of every time field of events.capnp.
inline uint64_t epoch_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count());
}

/// Builds one event and sends it to the bus; does nothing (builds nothing) without a bus.
///   post_event(self, bus, [&](proto::ListenerEvent::Builder e) { e.initJobEnd()...; });
template <class Self, class F>
void post_event(Self* self, const caf::actor& bus, F&& fill) {
  if (!bus)
    return;
  self->send(bus, make_wire<proto::ListenerEvent>(std::forward<F>(fill)));
}

/// The union member name of an event ("taskEnd"): its kind, as the event log spells it.
std::string event_kind(proto::ListenerEvent::Reader event);

} // namespace ember::actors
