// One launch on a task thread: what the executor does around the task runner. A launch killed
// while queued is skipped and reported (not run); otherwise it runs; its update goes to the
// outbox, held back when the task was short and more are queued. Called by the executor actor's
// task jobs (actors/executor.cpp); a template over the update type, as the outbox is.
#pragma once

#include <cstdint>
#include <utility>

#include "executor/kill_list.hpp"
#include "executor/status_outbox.hpp"
#include "executor/task_pool.hpp"
#include "executor/task_runner.hpp"

namespace ember::executor {

// `has_binary`: the executor holds the stage's binary (if not, the launch fails unrun).
// `not_run(spec, killed)` makes the update of a skipped launch, `run(spec)` runs it and makes its
// update, `run_ns(update)` reads the run time an update reports (0 for a skipped one).
// `short_ns`: ember.executor.shortTaskThreshold.
template <class Update, class NotRun, class Run, class RunNs>
void run_launch(const task_spec& spec, bool has_binary, uint64_t short_ns, kill_list& kills,
                status_outbox<Update>& outbox, task_pool& pool, NotRun&& not_run, Run&& run, RunNs&& run_ns) {
  typename status_outbox<Update>::stage_key stage{spec.stage_id, spec.stage_attempt};
  // Held updates must not wait for a task that may run long.
  if (!outbox.known_short(stage, short_ns))
    outbox.flush();
  Update u = kills.take(spec.task_id) || !has_binary ? not_run(spec, has_binary) : run(spec);
  uint64_t ns = run_ns(u);
  outbox.ran(stage, ns);
  bool hold = ns < short_ns && pool.queued() > 0;
  outbox.post({spec.task_id, spec.attempt}, std::move(u), hold);
}

} // namespace ember::executor
