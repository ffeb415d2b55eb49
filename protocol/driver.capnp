# Messages between the driver's own actors (user thread, dag_scheduler, task_scheduler). They
# stay inside one process today, but are Cap'n Proto like everything else so the event log,
# the fault injector and a future remote scheduler see one protocol.
@0x90252710d0bd8ef7;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("ember::proto");

using Common = import "common.capnp";
using Executor = import "executor.capnp";

struct SubmitJob {
  # user thread (an action) -> dag_scheduler: run resultFn over these partitions of the graph.
  jobId @0 :UInt32;
  lineage @1 :Data;               # the whole graph, shuffle map sides included
  partitions @2 :List(UInt32);
  resultFn @3 :Data;              # the action's executor half
  callSite @4 :Text;              # e.g. "collect", for stage names and events
  properties @5 :List(Common.Property);  # the submitting thread's local properties
}

struct JobResult {
  # dag_scheduler -> user thread: the job ended. On success, one result per requested partition,
  # in the order of SubmitJob.partitions.
  jobId @0 :UInt32;
  succeeded @1 :Bool;
  message @2 :Text;               # one line naming job, stage, partition, attempt and cause
  results @3 :List(Data);
}

struct SubmitTaskSet {
  # dag_scheduler -> task_scheduler: a stage attempt is ready; one task per partition.
  jobId @0 :UInt32;
  stageId @1 :UInt32;
  stageAttempt @2 :UInt32;
  kind @3 :Executor.TaskKind;
  shuffleId @4 :UInt32;
  taskBinary @5 :Data;            # shared by every task of the stage attempt
  partitions @6 :List(UInt32);
  preferredHosts @7 :List(List(Text));   # parallel to partitions
  name @8 :Text;
  pool @9 :Text;                  # FAIR scheduling pool (local property ember.scheduler.pool)
  preferredExecutors @10 :List(List(Text)); # parallel to partitions: executors caching it (PROCESS_LOCAL)
}

struct TaskEnded {
  # task_scheduler -> dag_scheduler: a task attempt reached a terminal state that the task set
  # accepted (duplicates and late attempts already filtered out).
  stageId @0 :UInt32;
  stageAttempt @1 :UInt32;
  partition @2 :UInt32;
  host @3 :Text;
  update @4 :Executor.StatusUpdate;
}

struct TaskSetFailed {
  # task_scheduler -> dag_scheduler: a task failed ember.task.maxFailures times (or the set was
  # aborted); its jobs fail with this reason.
  stageId @0 :UInt32;
  stageAttempt @1 :UInt32;
  reason @2 :Text;
}

struct CancelStage {
  # dag_scheduler -> task_scheduler: no active job needs this stage attempt any more (its job
  # failed or was cancelled); stop launching its tasks and kill the running ones.
  stageId @0 :UInt32;
  stageAttempt @1 :UInt32;
  reason @2 :Text;
}
