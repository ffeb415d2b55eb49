// The executor role of an application binary: a worker starts `app --ember-executor ...`, and
// ember::context::create hands over to run_executor_process, which connects to the driver, runs
// tasks until the driver stops it (or dies), and exits the process — it never returns to main.
#pragma once

namespace ember::actors {

// The exit code of an executor the driver declared lost (it heard no heartbeat within
// ember.network.timeout, then heard one): Spark's HEARTBEAT_FAILURE. docs/architecture.md says
// why such an executor exits instead of registering again.
inline constexpr int executor_heartbeat_exit_code = 56;

// True when argv asks for the executor role (`--ember-executor` anywhere).
bool is_executor_role(int argc, char** argv);

[[noreturn]] void run_executor_process(int argc, char** argv);

} // namespace ember::actors
