// The driver's map_output_tracker actor: tells reducers where the map outputs of a shuffle are
// (GetMapOutputs -> MapOutputs). It owns a scheduler::map_output_registry that only the
// dag_scheduler changes, by messages, in the order its planner made the same changes to the
// registry it plans with; so the tracker never lists an output the planner has written off.
//
//   dag_scheduler ──RegisterShuffle / MapStatus / UnregisterMapOutput / ExecutorLost──► tracker
//   executor (task thread, via the driver endpoint) ──GetMapOutputs──► tracker ──MapOutputs──►
#pragma once

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

namespace ember::actors {

/// The tracker understands:
///   wire<RegisterShuffle>      a shuffle with numMaps map partitions (idempotent)
///   wire<MapStatus>            a map output registered (replaces the partition's previous one)
///   wire<UnregisterMapOutput>  forget one output (only if executorId, when set, still holds it)
///   wire<ExecutorLost>         forget every output the executor holds (lost, or unreachable for
///                              a reducer: without a shuffle service its files are gone too)
///   wire<GetMapOutputs>        -> wire<MapOutputs>: the epoch, the missing map partitions, and
///                              every status once the shuffle is complete
caf::actor spawn_map_output_tracker(caf::actor_system& sys);

} // namespace ember::actors
