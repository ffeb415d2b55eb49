// The deploy/ enums (executor and driver states, executor loss causes) and their Cap'n Proto
// twins: one place for the master, the worker and the cluster manager backend, which all send or
// read them.
#pragma once

#include "deploy/binary_cache.hpp"
#include "deploy/master_logic.hpp"
#include "protocol/common.capnp.h"
#include "protocol/deploy.capnp.h"

namespace ember::actors {

deploy::executor_state from_proto(proto::ExecutorState s);
proto::ExecutorState to_proto(deploy::executor_state s);
deploy::driver_state from_proto(proto::DriverState s);
proto::DriverState to_proto(deploy::driver_state s);
deploy::executor_loss_cause from_proto(proto::ExecutorLossCause c);
proto::ExecutorLossCause to_proto(deploy::executor_loss_cause c);
/// A BinaryChunk's fields, for deploy::binary_assembly (the worker's fetches, the master's store).
deploy::binary_chunk from_proto(proto::BinaryChunk::Reader r);

} // namespace ember::actors
