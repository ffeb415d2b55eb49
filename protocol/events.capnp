# Listener bus events: the driver's schedulers post them, the UI, the event log and user
# listeners consume them. The event log is a sequence of ListenerEvent frames. Times are
# milliseconds since the Unix epoch. Names end in "Event" so they never clash with commands.
@0x926a0ddc3e3f9616;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("ember::proto");

using Common = import "common.capnp";

struct ApplicationStartEvent {
  # driver -> listener bus, once, when the context is up.
  appId @0 :Text $Common.required;
  appName @1 :Text;
  user @2 :Text;
  time @3 :UInt64;
}

struct ApplicationEndEvent {
  # driver -> listener bus, once, when the context stops.
  appId @0 :Text $Common.required;
  time @1 :UInt64;
}

struct JobStartEvent {
  # dag_scheduler -> listener bus: a job was submitted and cut into these stages.
  jobId @0 :UInt32;
  stageIds @1 :List(UInt32);
  time @2 :UInt64;
  description @3 :Text;   # call site, e.g. "count at wordcount.cpp:42"
  stageInfos @4 :List(StageInfo);  # each of stageIds, as planned (Spark's StageInfo)
}

struct StageInfo {
  stageId @0 :UInt32;
  name @1 :Text;
  numTasks @2 :UInt32;    # its partitions (the final stage: the partitions the action asked for)
}

struct JobEndEvent {
  # dag_scheduler -> listener bus: a job finished or failed.
  jobId @0 :UInt32;
  time @1 :UInt64;
  result :union {
    ok @2 :Void;
    error @3 :Text;       # one line: which stage/task/executor failed and why
  }
}

struct StageSubmittedEvent {
  # dag_scheduler -> listener bus: a stage attempt's tasks went to the task_scheduler.
  stageId @0 :UInt32;
  attempt @1 :UInt32;
  numTasks @2 :UInt32;
  name @3 :Text;
  parentIds @4 :List(UInt32);
  time @5 :UInt64;
  operators @6 :List(OperatorInfo);  # the stage's lineage, for the UI's DAG drawing
}

struct OperatorInfo {
  # One dataset of a stage's lineage (Spark's RDDInfo). Parents outside this stage (across a
  # shuffle) are listed too: the UI draws them as the stage's inputs.
  id @0 :UInt32;
  name @1 :Text;
  numPartitions @2 :UInt32;
  parentIds @3 :List(UInt32);
}

struct StageCompletedEvent {
  # dag_scheduler -> listener bus: a stage attempt finished; failureReason empty on success.
  stageId @0 :UInt32;
  attempt @1 :UInt32;
  numTasks @2 :UInt32;
  name @3 :Text;
  submissionTime @4 :UInt64;
  completionTime @5 :UInt64;
  failureReason @6 :Text;
}

struct TaskStartEvent {
  # task_scheduler -> listener bus: an attempt was launched.
  taskId @0 :UInt64;
  attempt @1 :UInt32;
  stageId @2 :UInt32;
  stageAttempt @3 :UInt32;
  partition @4 :UInt32;
  executorId @5 :Text $Common.required;
  host @6 :Text;
  locality @7 :Common.Locality;
  launchTime @8 :UInt64;
  speculative @9 :Bool;
}

struct TaskEndEvent {
  # task_scheduler -> listener bus: an attempt reached a terminal state.
  taskId @0 :UInt64;
  attempt @1 :UInt32;
  stageId @2 :UInt32;
  stageAttempt @3 :UInt32;
  partition @4 :UInt32;
  executorId @5 :Text $Common.required;
  host @6 :Text;
  locality @7 :Common.Locality;
  launchTime @8 :UInt64;
  finishTime @9 :UInt64;
  state @10 :Common.TaskState;
  reason @11 :Text;        # empty on success; the error line otherwise
  error @12 :Common.TaskError;
  metrics @13 :Common.TaskMetrics;
}

struct ExecutorAddedEvent {
  # task_scheduler -> listener bus: an executor registered.
  executorId @0 :Text $Common.required;
  host @1 :Text;
  cores @2 :UInt32;
  time @3 :UInt64;
  maxMemory @4 :UInt64;   # bytes the executor may use (ember.executor.memory); 0 if unknown
  workerId @5 :Text;      # the worker that started it; empty in local mode
}

struct ExecutorRemovedEvent {
  # task_scheduler -> listener bus: an executor was lost or released.
  executorId @0 :Text $Common.required;
  cause @1 :Common.ExecutorLossCause;
  message @2 :Text;
  time @3 :UInt64;
}

struct BlockUpdatedEvent {
  # block_manager_master -> listener bus: a cached partition was stored, changed level, or was
  # dropped (both sizes 0) on an executor (Spark's SparkListenerBlockUpdated, for RDD blocks).
  executorId @0 :Text $Common.required;
  host @1 :Text;
  rddId @2 :UInt32;
  partition @3 :UInt32;
  level @4 :Common.StorageLevel;
  memSize @5 :UInt64;
  diskSize @6 :UInt64;
  time @7 :UInt64;
}

struct UnpersistRddEvent {
  # block_manager_master -> listener bus: every cached partition of a dataset was dropped.
  rddId @0 :UInt32;
  time @1 :UInt64;
}

struct ConfigEntry {
  name @0 :Text;
  value @1 :Text;     # secrets are replaced by "*****" before the event is built
  origin @2 :Text;    # "default", "file <path>", "--conf", "flag", ...
}

struct EnvironmentUpdateEvent {
  # driver -> listener bus, once after ApplicationStart: the effective configuration and where
  # each value came from (Spark's SparkListenerEnvironmentUpdate).
  properties @0 :List(ConfigEntry);
  system @1 :List(ConfigEntry);   # host, pid, versions: what `ember --version` and the OS say
}

struct TaskMetricsUpdate {
  # One running task attempt in an executor's heartbeat.
  taskId @0 :UInt64;
  attempt @1 :UInt32;
  stageId @2 :UInt32;       # with stageAttempt: meaningful when stageKnown
  stageAttempt @3 :UInt32;
  stageKnown @4 :Bool;      # false: the attempt ended at the driver before its heartbeat came
  runTimeMs @5 :UInt64;     # since it started on its task thread (queue time excluded)
  cpuTimeMs @6 :UInt64;     # its task thread's CPU time so far
  # No record counts: a task keeps them in plain fields of its own thread (api/node.hpp
  # task_env) until it ends, so its taskEnd metrics carry them.
  remoteFetchesInFlight @7 :UInt32;  # remote shuffle block fetches it waited for at the heartbeat
}

struct ExecutorMetricsUpdateEvent {
  # task_scheduler -> listener bus: an executor's heartbeat listed its running task attempts
  # (Spark's SparkListenerExecutorMetricsUpdate); one event per heartbeat with tasks.
  executorId @0 :Text $Common.required;
  time @1 :UInt64;
  tasks @2 :List(TaskMetricsUpdate);
}

struct ListenerEvent {
  # One record of the event log (and what the UI replays): any of the events above.
  union {
    applicationStart @0 :ApplicationStartEvent;
    applicationEnd @1 :ApplicationEndEvent;
    jobStart @2 :JobStartEvent;
    jobEnd @3 :JobEndEvent;
    stageSubmitted @4 :StageSubmittedEvent;
    stageCompleted @5 :StageCompletedEvent;
    taskStart @6 :TaskStartEvent;
    taskEnd @7 :TaskEndEvent;
    executorAdded @8 :ExecutorAddedEvent;
    executorRemoved @9 :ExecutorRemovedEvent;
    executorMetricsUpdate @10 :ExecutorMetricsUpdateEvent;
    environmentUpdate @11 :EnvironmentUpdateEvent;
    blockUpdated @12 :BlockUpdatedEvent;
    unpersistRdd @13 :UnpersistRddEvent;
  }
}
