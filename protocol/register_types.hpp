// Registers every type that crosses an actor boundary with CAF: wire<X> for each message of
// protocol/messages.hpp, under the name "wire<X>", plus the wire error category. Every binary
// (driver/executor, master, worker, tests) calls it before creating its actor_system.
#pragma once

#include <caf/actor_system_config.hpp>

namespace ember {

void register_types(caf::actor_system_config& cfg);

} // namespace ember
