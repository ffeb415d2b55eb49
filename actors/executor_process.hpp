// The executor role of an application binary: a worker starts `app --ember-executor ...`, and
// ember::context::create hands over to run_executor_process, which connects to the driver, runs
// tasks until the driver stops it (or dies), and exits the process — it never returns to main.
#pragma once

#include <chrono>

#include <caf/actor_system_config.hpp>

namespace ember::actors {

// True when argv asks for the executor role (`--ember-executor` anywhere).
bool is_executor_role(int argc, char** argv);

[[noreturn]] void run_executor_process(int argc, char** argv);

// Loads CAF's middleman with its own connection heartbeat, so a hung peer is noticed
// (a down message) after `timeout`: CAF's defaults switch both off.
void enable_remoting(caf::actor_system_config& cfg, std::chrono::milliseconds heartbeat,
                     std::chrono::milliseconds timeout);

} // namespace ember::actors
