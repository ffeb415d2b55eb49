// The driver's block_manager_master actor: where every cached block is (UpdateBlockInfo from
// the executors' block managers, GetBlockLocations for them), replication of the _2 levels
// (ReplicateBlock) and unpersist (RemoveRdd to every executor). The location table is the plain
// storage::block_manager_master, owned here. The DAG planner needs the RDD blocks' locations
// while it plans (cached partitions become PROCESS_LOCAL preferences): the dag_scheduler asks
// once (watch_cache_atom) and then gets every change of them in the order they were made here.
//
//   executor ──RegisterExecutor (via the task scheduler, as the executor)──► block_manager_master
//   executor ──UpdateBlockInfo (request)──► master ──UpdateBlockInfo, RemoveRdd──► dag_scheduler
//                                           master ──ReplicateBlock / RemoveRdd──► executors
//   dag_scheduler ──ExecutorLost──► master (the executor's blocks and its actor are forgotten)
#pragma once

#include <chrono>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/atom.hpp>

namespace ember::actors {

struct block_manager_master_config {
  std::chrono::milliseconds ask_timeout{120000}; // ReplicateBlock, RemoveRdd to executors (ember.rpc.askTimeout)
  caf::actor listener_bus; // BlockUpdated/UnpersistRdd events for the UI's Storage tab; none if null
};

// (watch_cache_atom) from the dag_scheduler: send it every later change of an RDD block's
// holders (the UpdateBlockInfo as applied, the RemoveRdd as applied).
using watch_cache_atom = caf::atom_constant<caf::atom("watchcache")>;

/// The master understands:
///   wire<RegisterExecutor>   (sender: the executor actor) it may take replicas from now on
///   wire<UpdateBlockInfo>    -> the same message, once the block is in the table and, if its
///                            level asks for another copy, once that copy was made (or failed)
///   wire<GetBlockLocations>  -> wire<BlockLocations>
///   wire<RemoveRdd>          -> the same message, once every executor dropped the RDD's blocks
///                            (or did not answer within the ask timeout)
///   wire<ExecutorLost>       forget the executor's blocks and its actor
///   watch_cache_atom         see above
caf::actor spawn_block_manager_master(caf::actor_system& sys, block_manager_master_config cfg);

} // namespace ember::actors
