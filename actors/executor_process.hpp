// The executor role of an application binary: a worker starts `app --ember-executor ...`, and
// ember::context::create hands over to run_executor_process, which connects to the driver, runs
// tasks until the driver stops it (or dies), and exits the process — it never returns to main.
#pragma once

namespace ember::actors {

// True when argv asks for the executor role (`--ember-executor` anywhere).
bool is_executor_role(int argc, char** argv);

[[noreturn]] void run_executor_process(int argc, char** argv);

} // namespace ember::actors
