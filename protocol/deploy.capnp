# Standalone cluster messages between master, workers, applications (drivers) and the `ember
# submit` client: registration, heartbeats, master recovery, executor and driver lifecycle,
# binary distribution. Like Spark's DeployMessages.
@0xfda1fcee911079ad;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("ember::proto");

using Common = import "common.capnp";

# -- workers --------------------------------------------------------------------------------

struct RegisterWorker {
  # worker -> master at start-up and after ReconnectWorker / MasterChanged.
  workerId @0 :Text $Common.required;
  host @1 :Text $Common.required;
  port @2 :UInt16;
  cores @3 :UInt32;
  memoryBytes @4 :UInt64;
  dataDirs @5 :List(Text);
  webUiPort @6 :UInt16;
  executors @7 :List(ExecutorDescription);  # what runs here (a worker that lost its master)
  driverIds @8 :List(Text);                 # cluster-mode drivers running here
  dataFiles @9 :List(DataFile);             # the files under dataDirs (host-only input files)
}

struct RegisteredWorker {
  # master -> worker: accepted. duplicate = this worker id was already registered (re-register).
  masterUrl @0 :Text $Common.required;
  masterWebUiUrl @1 :Text;
  duplicate @2 :Bool;
}

struct RegisterWorkerFailed {
  # master -> worker: refused (e.g. same host:port already registered under another id).
  reason @0 :Text;
}

struct WorkerHeartbeat {
  # worker -> master periodically: alive, and what it uses now.
  workerId @0 :Text $Common.required;
  coresUsed @1 :UInt32;
  memoryUsed @2 :UInt64;
}

struct ReconnectWorker {
  # master -> worker: I do not know you (e.g. after you timed out); register again.
  masterUrl @0 :Text $Common.required;
}

struct MasterChanged {
  # new master (after recovery) -> workers and applications: talk to me from now on.
  masterUrl @0 :Text $Common.required;
  masterWebUiUrl @1 :Text;
}

enum ExecutorState {
  launching @0;
  running @1;
  killed @2;
  failed @3;
  lost @4;
  exited @5;
}

struct ExecutorDescription {
  appId @0 :Text $Common.required;
  executorId @1 :Text $Common.required;
  cores @2 :UInt32;
  memoryBytes @3 :UInt64;
  state @4 :ExecutorState;
}

struct WorkerSchedulerState {
  # worker -> new master, answering MasterChanged: what runs here, so the recovering master can
  # rebuild its view of executors and cluster-mode drivers.
  workerId @0 :Text $Common.required;
  executors @1 :List(ExecutorDescription);
  driverIds @2 :List(Text);
}

# -- applications ---------------------------------------------------------------------------

struct RegisterApplication {
  # driver (application) -> master: run executors for me.
  name @0 :Text $Common.required;
  user @1 :Text;
  maxCores @2 :UInt32;          # 0 = no limit
  executorCores @3 :UInt32;
  executorMemory @4 :UInt64;
  binary @5 :Common.BinaryRef;
  args @6 :List(Text);          # extra arguments for the executor role
  conf @7 :List(Common.Property);
  driverHost @8 :Text;
  driverPort @9 :UInt16;
  initialExecutors @10 :UInt32; # dynamic allocation: how many to start with (0 = as many as fit)
  appId @11 :Text;              # set when the driver registers again after losing its master
  appUiUrl @12 :Text;           # the driver's web UI (http://host:4040), empty when ember.ui.enabled=false
}

struct RegisteredApplication {
  # master -> driver: accepted under this id.
  appId @0 :Text $Common.required;
  masterUrl @1 :Text $Common.required;
  hostFiles @2 :List(HostDataFiles);  # what each live worker's data dirs hold (text_file locality)
}

struct RegisterApplicationFailed {
  # master -> driver: refused (binary unknown and not fetchable, bad request).
  reason @0 :Text;
}

struct LaunchExecutor {
  # master -> worker: start an executor process (the application binary in executor role).
  # Idempotent on (appId, executorId).
  masterUrl @0 :Text;
  appId @1 :Text $Common.required;
  executorId @2 :Text $Common.required;
  cores @3 :UInt32;
  memoryBytes @4 :UInt64;
  binary @5 :Common.BinaryRef;
  args @6 :List(Text);
  conf @7 :List(Common.Property);
  driverHost @8 :Text;
  driverPort @9 :UInt16;
}

struct KillExecutor {
  # master -> worker: stop this executor process (released, application ended, driver asked).
  appId @0 :Text $Common.required;
  executorId @1 :Text $Common.required;
  reason @2 :Text;
}

struct ExecutorStateChanged {
  # worker -> master: an executor process changed state (started, exited, killed, reaped).
  appId @0 :Text $Common.required;
  executorId @1 :Text $Common.required;
  state @2 :ExecutorState;
  exitCode @3 :Int32;
  signal @4 :Int32;
  message @5 :Text;
  workerId @6 :Text;
  pid @7 :UInt32;          # the executor process (0 if it never started)
  cause @8 :Common.ExecutorLossCause = exitCode;
  # Why it ended (finished states only): memoryLimit (exit code 52 or a cgroup OOM kill),
  # killedByDriver (the worker stopped it on request), signal, exitCode. A worker older than
  # this field sends none and reads as exitCode.
}

struct ExecutorAdded {
  # master -> driver: an executor was granted to you on this worker.
  executorId @0 :Text $Common.required;
  workerId @1 :Text;
  host @2 :Text;
  cores @3 :UInt32;
  memoryBytes @4 :UInt64;
}

struct ExecutorUpdated {
  # master -> driver: one of your executors changed state (relayed ExecutorStateChanged).
  executorId @0 :Text $Common.required;
  state @1 :ExecutorState;
  exitCode @2 :Int32;
  signal @3 :Int32;
  message @4 :Text;
  workerLost @5 :Bool;   # its worker is gone too (local shuffle files lost)
  cause @6 :Common.ExecutorLossCause = exitCode;
  # Why it ended: the worker's cause relayed, or the master's own (workerLost, killedByDriver
  # for a release the application asked for). A master older than this field sends none and
  # reads as exitCode.
}

struct RequestExecutors {
  # allocation_manager (driver) -> master: I want this many executors in total.
  appId @0 :Text $Common.required;
  requestedTotal @1 :UInt32;
}

struct KillExecutors {
  # allocation_manager (driver) -> master: release these (idle) executors.
  appId @0 :Text $Common.required;
  executorIds @1 :List(Text);
}

struct UnregisterApplication {
  # driver -> master: the application finished; kill its executors, free its resources.
  appId @0 :Text $Common.required;
}

struct ApplicationRemoved {
  # master -> driver: your application was removed (killed from the UI, too many executor failures).
  appId @0 :Text;
  reason @1 :Text;
}

struct ApplicationFinished {
  # master -> workers: this application is gone; clean up its work directories.
  appId @0 :Text $Common.required;
}

struct FetchBinary {
  # Send me this binary, from this offset, in BinaryChunks: worker -> driver (an executor's
  # binary), worker -> master (a cluster-mode driver's), master -> ember submit (the binary it
  # hands over while its RequestSubmitDriver waits).
  contentHash @0 :Text $Common.required;
  offset @1 :UInt64;
  maxChunkSize @2 :UInt32;
}

struct BinaryChunk {
  # master -> worker: one piece of an application binary; checksum is xxh32 of data. The
  # receiver checks the whole file against contentHash before executing it.
  contentHash @0 :Text $Common.required;
  offset @1 :UInt64;
  totalSize @2 :UInt64;
  data @3 :Data;
  checksum @4 :UInt32;
  last @5 :Bool;
}

# -- drivers (cluster deploy mode) ----------------------------------------------------------

enum DriverState {
  submitted @0;
  running @1;
  finished @2;
  relaunching @3;
  unknown @4;
  killed @5;
  failed @6;
  error @7;
}

struct DriverDescription {
  binary @0 :Common.BinaryRef;
  args @1 :List(Text);
  conf @2 :List(Common.Property);
  cores @3 :UInt32;
  memoryBytes @4 :UInt64;
  supervise @5 :Bool;     # restart the driver if it exits non-zero
  user @6 :Text;          # who submitted it (its owner for ember.acls.enable)
}

struct RequestSubmitDriver {
  # `ember submit --deploy-mode cluster` -> master: run this driver somewhere.
  description @0 :DriverDescription;
}

struct SubmitDriverResponse {
  # master -> submit client.
  success @0 :Bool;
  driverId @1 :Text;
  message @2 :Text;
  masterUrl @3 :Text;
}

struct RequestKillDriver {
  # `ember submit --kill` -> master.
  driverId @0 :Text $Common.required;
  user @1 :Text;          # who asks (ember.modify.acls)
}

struct KillDriverResponse {
  # master -> submit client.
  driverId @0 :Text;
  success @1 :Bool;
  message @2 :Text;
  denied @3 :Bool;        # ember.modify.acls refused the user
}

struct RequestDriverStatus {
  # `ember submit --status` -> master.
  driverId @0 :Text $Common.required;
  user @1 :Text;          # who asks (ember.ui.view.acls)
}

struct DriverStatusResponse {
  # master -> submit client; found = false if the master never heard of this driver.
  found @0 :Bool;
  driverId @1 :Text;
  state @2 :DriverState;
  workerId @3 :Text;
  workerHost @4 :Text;
  message @5 :Text;
}

struct LaunchDriver {
  # master -> worker: start this driver process. Idempotent on driverId.
  driverId @0 :Text $Common.required;
  description @1 :DriverDescription;
}

struct KillDriver {
  # master -> worker: stop this driver process.
  driverId @0 :Text $Common.required;
}

struct DriverStateChanged {
  # worker -> master: a driver process changed state (exit code and signal from waitpid).
  driverId @0 :Text $Common.required;
  state @1 :DriverState;
  exitCode @2 :Int32;
  signal @3 :Int32;
  message @4 :Text;
  pid @5 :UInt32;          # the driver process (running), so `ember status` shows it
}

struct RequestKillApplication {
  # master web UI (a kill button) -> master: remove this application, as Spark's "kill" link.
  appId @0 :Text $Common.required;
  user @1 :Text;          # who asks (ember.modify.acls)
}

struct KillApplicationResponse {
  # master -> requester. Neither success nor denied: no running application of this id.
  appId @0 :Text;
  success @1 :Bool;
  denied @2 :Bool;        # ember.modify.acls refused the user
  message @3 :Text;
}

# -- cluster state (`ember status`, `scripts/ember-cluster status`, tests) --------------------

struct RequestMasterState {
  # anyone -> master: describe the cluster now. Answered with MasterState.
  includeFinished @0 :Bool;   # also list finished applications and drivers
  user @1 :Text;              # who asks: with ember.acls.enable, only what they may view is listed
}

struct ExecutorInfo {
  executorId @0 :Text $Common.required;
  appId @1 :Text;
  workerId @2 :Text;
  host @3 :Text;
  cores @4 :UInt32;
  memoryBytes @5 :UInt64;
  state @6 :ExecutorState;
  pid @7 :UInt32;
}

struct WorkerInfo {
  workerId @0 :Text $Common.required;
  host @1 :Text;
  port @2 :UInt16;
  cores @3 :UInt32;
  coresUsed @4 :UInt32;
  memoryBytes @5 :UInt64;
  memoryUsed @6 :UInt64;
  alive @7 :Bool;
  lastHeartbeatMs @8 :UInt64;   # ms since the epoch
}

enum ApplicationState {
  waiting @0;
  running @1;
  finished @2;
  failed @3;
  killed @4;
}

struct ApplicationInfo {
  appId @0 :Text $Common.required;
  name @1 :Text;
  state @2 :ApplicationState;
  coresGranted @3 :UInt32;
  maxCores @4 :UInt32;
  executorCores @5 :UInt32;
  executorMemory @6 :UInt64;
  requestedExecutors @7 :UInt32;  # the driver's current total request (dynamic allocation)
  executors @8 :List(ExecutorInfo);
  submitTimeMs @9 :UInt64;
  user @10 :Text;                 # who runs it (its owner for ember.acls.enable)
  appUiUrl @11 :Text;             # the driver's web UI; empty when it has none
  endTimeMs @12 :UInt64;          # finished applications: when this master saw it end (0: unknown)
}

struct DriverInfo {
  driverId @0 :Text $Common.required;
  state @1 :DriverState;
  workerId @2 :Text;
  host @3 :Text;
  supervise @4 :Bool;
  restarts @5 :UInt32;
  pid @6 :UInt32;
  cores @7 :UInt32;
  memoryBytes @8 :UInt64;
  binaryPath @9 :Text;            # what it runs (Spark's "main class")
  user @10 :Text;                 # who submitted it
  submitTimeMs @11 :UInt64;       # when this master accepted it (0: before a master restart)
}

struct MasterState {
  # master -> requester.
  masterUrl @0 :Text $Common.required;
  workers @1 :List(WorkerInfo);
  apps @2 :List(ApplicationInfo);
  drivers @3 :List(DriverInfo);
}

# -- host-only input files (docs/scheduling.md, Input locality) ------------------------------

struct DataFile {
  # One regular file under a worker's data dirs: absolute path as the worker sees it, size in bytes.
  path @0 :Text $Common.required;
  size @1 :UInt64;
}

struct HostDataFiles {
  # master -> driver (in RegisteredApplication): the data files a worker's host holds.
  host @0 :Text $Common.required;
  files @1 :List(DataFile);
}
