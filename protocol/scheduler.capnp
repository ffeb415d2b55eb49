# Messages between the driver's two schedulers beyond driver.capnp: batches that amortise one
# actor message over many tasks (task_scheduler -> dag_scheduler).
@0xee71ffd2f522fb02;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("ember::proto");

using Driver = import "driver.capnp";

struct TaskEndedBatch {
  # task_scheduler -> dag_scheduler: the accepted task ends of one StatusUpdates batch, in order
  # (one actor message instead of one TaskEnded per task). Anything else the task scheduler tells
  # the dag scheduler (TaskSetFailed, ExecutorLost) is sent after the ends that preceded it.
  ends @0 :List(Driver.TaskEnded);
}
