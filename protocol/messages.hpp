// The one list of every message (root) struct in protocol/*.capnp. register_types() and the
// protocol tests expand it, so a message added here is registered with CAF in every binary and
// round-tripped by the tests; a struct missing here cannot cross a process boundary.
#pragma once

#include "protocol/common.capnp.h"
#include "protocol/deploy.capnp.h"
#include "protocol/driver.capnp.h"
#include "protocol/events.capnp.h"
#include "protocol/executor.capnp.h"
#include "protocol/scheduler.capnp.h"
#include "protocol/shuffle.capnp.h"

// clang-format off
#define EMBER_WIRE_MESSAGES(X)                                                                   \
  /* executor.capnp: driver <-> executor */                                                      \
  X(RegisterExecutor) X(ExecutorRegistered) X(RegisterExecutorFailed) X(Heartbeat)               \
  X(HeartbeatResponse) X(KillTask) X(StatusUpdate) X(StopExecutor) X(ExecutorLost) \
  X(LaunchTasks) X(ForgetStages) X(StatusUpdates)                                               \
  /* shuffle.capnp: map outputs, blocks, broadcast */                                            \
  X(MapStatus) X(RegisterShuffle) X(GetMapOutputs) X(MapOutputs) X(UnregisterMapOutput)          \
  X(FetchBlocks) X(BlockChunk) X(FetchBlockFailed) X(UpdateBlockInfo)       \
  X(RemoveRdd) X(RemoveBroadcast) X(GetBlockLocations) X(BlockLocations)          \
  X(GetBroadcastManifest) X(BroadcastManifest) X(BroadcastPiecesStored)                          \
  X(GetBroadcastPieceHolders) X(BroadcastPieceHolders) X(ReplicateBlock)                             \
  /* events.capnp: listener bus */                                                               \
  X(ApplicationStartEvent) X(ApplicationEndEvent) X(JobStartEvent) X(JobEndEvent)                \
  X(StageSubmittedEvent) X(StageCompletedEvent) X(TaskStartEvent) X(TaskEndEvent)                \
  X(ExecutorAddedEvent) X(ExecutorRemovedEvent) X(ListenerEvent)                                 \
  /* deploy.capnp: master, workers, applications, drivers */                                     \
  X(RegisterWorker) X(RegisteredWorker) X(RegisterWorkerFailed) X(WorkerHeartbeat)               \
  X(ReconnectWorker) X(MasterChanged) X(WorkerSchedulerState) X(RegisterApplication)             \
  X(RegisteredApplication) X(RegisterApplicationFailed) X(LaunchExecutor) X(KillExecutor)        \
  X(ExecutorStateChanged) X(ExecutorAdded) X(ExecutorUpdated) X(RequestExecutors)                \
  X(KillExecutors) X(UnregisterApplication) X(ApplicationRemoved) X(ApplicationFinished)         \
  X(FetchBinary) X(BinaryChunk) X(RequestSubmitDriver) X(SubmitDriverResponse)                   \
  X(RequestKillDriver) X(KillDriverResponse) X(RequestDriverStatus) X(DriverStatusResponse)      \
  X(LaunchDriver) X(KillDriver) X(DriverStateChanged) X(RequestMasterState) X(ExecutorInfo)     \
  X(WorkerInfo) X(ApplicationInfo) X(DriverInfo) X(MasterState) X(RequestKillApplication)         \
  X(KillApplicationResponse)                                                                     \
  /* driver.capnp: between the driver's own actors */                                            \
  X(SubmitJob) X(JobResult) X(SubmitTaskSet) X(TaskSetFailed) X(CancelStage)      \
  /* scheduler.capnp: batches between the driver's schedulers */                                 \
  X(TaskEndedBatch)
// clang-format on
