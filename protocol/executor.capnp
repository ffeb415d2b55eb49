# Driver <-> executor messages: registration, heartbeats, task launch/kill, task status, stop and
# loss. Flows: design.md "Message flows" 1-3 and 6.
@0x86fdc647b1163690;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("ember::proto");

using Common = import "common.capnp";
using Shuffle = import "shuffle.capnp";

struct RegisterExecutor {
  # executor -> driver at start-up (and again after HeartbeatResponse.reregister): here I am.
  executorId @0 :Text $Common.required;
  host @1 :Text $Common.required;
  rack @2 :Text;             # empty if unknown
  port @3 :UInt16;           # block manager port
  cores @4 :UInt32;
  memoryBytes @5 :UInt64;
  pid @6 :UInt32;
  workDir @7 :Text;
  workerId @8 :Text;         # empty in local mode
  reportsTaskStarts @9 :Bool;
  # true: its Heartbeat lists every task attempt running on a task thread (a process with a
  # heartbeater). An attempt launched while all `cores` threads are taken waits in its queue and
  # counts as running (speculation) only once a heartbeat reports it. false (local mode): every
  # attempt counts as running from its launch.
}

struct ExecutorRegistered {
  # driver -> executor: accepted; the application's configuration comes along.
  appId @0 :Text $Common.required;
  executorId @1 :Text $Common.required;
  conf @2 :List(Common.Property);
}

struct RegisterExecutorFailed {
  # driver -> executor: refused (duplicate id, application finished...); the executor exits.
  executorId @0 :Text;
  reason @1 :Text;
}

struct TaskHeartbeat {
  # Metrics so far of one attempt running on a task thread (not one still queued). Live:
  # executorRunTimeNs (since it started on its thread: the driver learns the real start from it)
  # and executorCpuTimeNs (its thread's CPU clock). The record and byte counters stay 0: a task
  # keeps them in plain fields of its own thread until it ends (api/node.hpp task_env), and the
  # final StatusUpdate carries them.
  taskId @0 :UInt64;
  attempt @1 :UInt32;
  metrics @2 :Common.TaskMetrics;
  remoteFetchesInFlight @3 :UInt32;  # remote shuffle block fetches it waits for right now
}

struct Heartbeat {
  # executor -> heartbeat_receiver every ember.executor.heartbeatInterval: still alive, progress of
  # running tasks, block updates since the last heartbeat.
  executorId @0 :Text $Common.required;
  tasks @1 :List(TaskHeartbeat);
  blockUpdates @2 :List(Shuffle.UpdateBlockInfo);
  memoryUsedBytes @3 :UInt64;
}

struct HeartbeatResponse {
  # heartbeat_receiver -> executor: reregister = true if the driver does not know this executor
  # (e.g. it was declared lost after a timeout); the executor then sends RegisterExecutor again.
  reregister @0 :Bool;
}

enum TaskKind {
  result @0;       # final stage: the task's output returns to the driver
  shuffleMap @1;   # writes map output for shuffle `shuffleId`
}

struct LaunchTask {
  # task_scheduler -> executor: run one task attempt. Idempotent on (taskId, attempt).
  taskId @0 :UInt64;
  attempt @1 :UInt32;
  jobId @2 :UInt32;
  stageId @3 :UInt32;
  stageAttempt @4 :UInt32;
  partition @5 :UInt32;
  locality @6 :Common.Locality;
  kind @7 :TaskKind;
  shuffleId @8 :UInt32;            # meaningful when kind == shuffleMap
  taskBinary @9 :Data;             # the serialized operator chain and partition description
  properties @10 :List(Common.Property);
  speculative @11 :Bool;
}

struct KillTask {
  # task_scheduler -> executor: stop this attempt (job cancelled, speculation lost, stage failed).
  taskId @0 :UInt64;
  attempt @1 :UInt32;
  reason @2 :Text;
  interruptThread @3 :Bool;
}

struct FetchFailure {
  # A reducer could not get one shuffle block: the dag_scheduler reruns the parent map stage.
  shuffleId @0 :UInt32;
  mapId @1 :UInt64;
  mapIndex @2 :UInt32;
  reduceId @3 :UInt32;
  executorId @4 :Text;    # holder of the missing block
  host @5 :Text;
  message @6 :Text;
  corruptBlock @7 :Bool;  # the block was read but is corrupt (checksum, size, unreadable file): only
                          # this map output is lost. false: its holder is unreachable or lost it,
                          # so every output of that executor is.
}

struct StatusUpdate {
  # executor -> task_scheduler: a task attempt changed state. Terminal states carry the result.
  # Duplicates and updates from attempts the scheduler no longer tracks are ignored.
  executorId @0 :Text $Common.required;
  taskId @1 :UInt64;
  attempt @2 :UInt32;
  state @3 :Common.TaskState;
  result :union {
    none @4 :Void;                   # non-terminal states, killed
    direct @5 :Data;                 # serialized result, below ember.network.maxChunkSize
    indirect :group {                # larger result, stored in the executor's block manager
      blockId @6 :Common.BlockId;
      size @7 :UInt64;
    }
    mapOutput @8 :Shuffle.MapStatus; # shuffle map task finished
    error @9 :Common.TaskError;      # failed by itself (counts against ember.task.maxFailures)
    fetchFailed @10 :FetchFailure;
  }
  metrics @11 :Common.TaskMetrics;
}

struct StopExecutor {
  # driver -> executor: the application is ending (or the executor was released): finish and exit.
  reason @0 :Text;
}

struct ExecutorLost {
  # heartbeat_receiver / driver endpoint -> task_scheduler, dag_scheduler, block_manager_master:
  # an executor is gone; resubmit its tasks, unregister its outputs and blocks.
  executorId @0 :Text $Common.required;
  host @1 :Text;
  cause @2 :Common.ExecutorLossCause;
  exitCode @3 :Int32;
  signal @4 :Int32;
  message @5 :Text;
  workerView @6 :Bool;   # true: reported by the worker that reaped the process (authoritative
                         # exit status); false: inferred by the driver (timeout, connection)
}

struct StageBinary {
  # One stage attempt's task binary (api/task.hpp), identical for all its tasks: shipped once per
  # executor per stage attempt (inside LaunchTasks), cached there until ForgetStages.
  stageId @0 :UInt32;
  stageAttempt @1 :UInt32;
  binary @2 :Data;
}

struct LaunchTasks {
  # task_scheduler -> executor: every launch of one offer round for this executor, in order.
  # The tasks' own taskBinary is empty: the executor runs each with the binary of its stage
  # attempt, which comes in `binaries` the first time this executor gets a task of it.
  tasks @0 :List(LaunchTask);
  binaries @1 :List(StageBinary);
}

struct StageAttemptRef {
  stageId @0 :UInt32;
  stageAttempt @1 :UInt32;
}

struct ForgetStages {
  # task_scheduler -> executor: these stage attempts launch nothing more here; drop their cached
  # binaries (tasks already queued keep theirs).
  stages @0 :List(StageAttemptRef);
}

struct StatusUpdates {
  # executor -> task_scheduler: the status updates its task threads produced since the previous
  # batch, in the order they were produced. One message when idle, many updates under load.
  updates @0 :List(StatusUpdate);
}
