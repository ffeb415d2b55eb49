# Types shared by every Ember message: identifiers, task states, locality levels, block ids,
# storage levels, metrics and errors. No message (root) structs live here; see executor.capnp,
# shuffle.capnp, events.capnp and deploy.capnp. Conventions: appId/executorId/workerId/driverId
# are Text ("app-20261125-0001", "3", "worker-20261125-10.0.0.5-7078"); job, stage, shuffle and
# rdd ids are UInt32; task ids UInt64 (never reused within an application); attempts UInt32.
@0xf330eafcf70cc0d7;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("ember::proto");

annotation required @0xf7c70f3647be86ec (field) :Void;
# wire<T>::decode rejects a message in which a field carrying this annotation is absent or empty
# (Text, Data, List) or absent (struct). Put it on identifiers a handler cannot do without.

struct Property {
  # A key/value pair: task-local properties, application configuration (ember.* keys).
  key @0 :Text $required;
  value @1 :Text;
}

enum TaskState {
  launching @0;
  running @1;
  finished @2;
  failed @3;
  killed @4;
  lost @5;      # the executor running it was lost; not counted against ember.task.maxFailures
}

enum Locality {
  # Delay scheduling levels, best first (design.md, message flow 3).
  processLocal @0;
  nodeLocal @1;
  rackLocal @2;
  any @3;
  noPref @4;   # a task without preferred locations (Spark's NO_PREF), launched in its own round
}

enum ExecutorLossCause {
  exitCode @0;          # the process exited by itself with a non-zero code
  signal @1;            # the process was killed by a signal (not by us)
  memoryLimit @2;       # exceeded ember.executor.memory (or the OOM killer took it)
  heartbeatTimeout @3;  # silent for longer than ember.network.timeout
  connectionLost @4;    # CAF down_msg: connection reset / node unreachable
  killedByDriver @5;    # released by dynamic allocation or killed on request
  workerLost @6;        # the worker supervising it is gone, so is its local shuffle data
}

struct TaskError {
  # Why a task attempt failed, as the user should read it. Senders cut `cause` chains at a few
  # levels; decode rejects chains deeper than the nesting limit.
  kind @0 :Text;        # exception type or error class, e.g. "std::runtime_error"
  message @1 :Text;
  stack @2 :Text;       # optional backtrace, empty if unavailable
  cause @3 :TaskError;  # optional underlying error
}

struct BlockId {
  # Names one block held by a block manager or the shuffle service. Never reused.
  union {
    rdd :group {
      rddId @0 :UInt32;
      partition @1 :UInt32;
    }
    shuffle :group {
      # One reduce partition of one map output.
      shuffleId @2 :UInt32;
      mapId @3 :UInt64;       # task id of the map attempt that wrote it (unique per attempt)
      reduceId @4 :UInt32;
    }
    shuffleData :group {
      # The whole sorted, partitioned data file of one map output.
      shuffleId @5 :UInt32;
      mapId @6 :UInt64;
    }
    shuffleIndex :group {
      # The index file (reduce partition offsets) of one map output.
      shuffleId @7 :UInt32;
      mapId @8 :UInt64;
    }
    broadcast :group {
      broadcastId @9 :UInt64;
      piece @10 :UInt32;
    }
    taskResult :group {
      # A task result too large to travel inside a StatusUpdate.
      taskId @11 :UInt64;
    }
  }
}

struct StorageLevel {
  # MEMORY_ONLY = {useMemory, deserialized}; MEMORY_AND_DISK = {useMemory, useDisk, deserialized};
  # DISK_ONLY = {useDisk}; *_SER = the same without `deserialized` (LZ4-compressed bytes).
  useMemory @0 :Bool;
  useDisk @1 :Bool;
  deserialized @2 :Bool;
  replication @3 :UInt8 = 1;
}

struct BlockManagerId {
  # Where a block manager (one per executor, or a worker's shuffle service) can be reached.
  executorId @0 :Text $required;
  host @1 :Text;
  port @2 :UInt16;
  rack @3 :Text;
}

struct TaskMetrics {
  # Counters of one task attempt; times in nanoseconds, sizes in bytes.
  executorRunTimeNs @0 :UInt64;
  executorCpuTimeNs @1 :UInt64;
  deserializeTimeNs @2 :UInt64;
  resultSerializationTimeNs @3 :UInt64;
  resultSize @4 :UInt64;
  peakMemoryBytes @5 :UInt64;
  memoryBytesSpilled @6 :UInt64;
  diskBytesSpilled @7 :UInt64;
  inputBytes @8 :UInt64;
  inputRecords @9 :UInt64;
  outputBytes @10 :UInt64;
  outputRecords @11 :UInt64;
  shuffleReadRemoteBytes @12 :UInt64;
  shuffleReadLocalBytes @13 :UInt64;
  shuffleReadRecords @14 :UInt64;
  shuffleRemoteBlocksFetched @15 :UInt64;
  shuffleLocalBlocksFetched @16 :UInt64;
  shuffleFetchWaitNs @17 :UInt64;
  shuffleWriteBytes @18 :UInt64;
  shuffleWriteRecords @19 :UInt64;
  shuffleWriteTimeNs @20 :UInt64;
}

struct BinaryRef {
  # The application binary (driver and executor are the same file). Workers fetch it from the
  # master with FetchBinary when they lack a file with this content hash.
  path @0 :Text $required;   # path on the submitting host; workers store it under their work dir
  contentHash @1 :Text $required;  # SHA-256 of the whole file: 64 lowercase hex digits
  size @2 :UInt64;
}
