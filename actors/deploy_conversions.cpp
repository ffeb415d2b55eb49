#include "actors/deploy_conversions.hpp"

#include "actors/conversions.hpp"

namespace ember::actors {

using namespace deploy;

deploy::executor_state from_proto(proto::ExecutorState s) {
  switch (s) {
    case proto::ExecutorState::LAUNCHING: return executor_state::launching;
    case proto::ExecutorState::RUNNING: return executor_state::running;
    case proto::ExecutorState::KILLED: return executor_state::killed;
    case proto::ExecutorState::FAILED: return executor_state::failed;
    case proto::ExecutorState::LOST: return executor_state::lost;
    case proto::ExecutorState::EXITED: return executor_state::exited;
  }
  return executor_state::failed;
}

proto::ExecutorState to_proto(deploy::executor_state s) {
  switch (s) {
    case executor_state::launching: return proto::ExecutorState::LAUNCHING;
    case executor_state::running: return proto::ExecutorState::RUNNING;
    case executor_state::killed: return proto::ExecutorState::KILLED;
    case executor_state::failed: return proto::ExecutorState::FAILED;
    case executor_state::lost: return proto::ExecutorState::LOST;
    case executor_state::exited: return proto::ExecutorState::EXITED;
  }
  return proto::ExecutorState::FAILED;
}

deploy::driver_state from_proto(proto::DriverState s) {
  switch (s) {
    case proto::DriverState::SUBMITTED: return driver_state::submitted;
    case proto::DriverState::RUNNING: return driver_state::running;
    case proto::DriverState::FINISHED: return driver_state::finished;
    case proto::DriverState::RELAUNCHING: return driver_state::relaunching;
    case proto::DriverState::UNKNOWN: return driver_state::unknown;
    case proto::DriverState::KILLED: return driver_state::killed;
    case proto::DriverState::FAILED: return driver_state::failed;
    case proto::DriverState::ERROR: return driver_state::error;
  }
  return driver_state::unknown;
}

deploy::executor_loss_cause from_proto(proto::ExecutorLossCause c) {
  switch (c) {
    case proto::ExecutorLossCause::EXIT_CODE: return executor_loss_cause::exit_code;
    case proto::ExecutorLossCause::SIGNAL: return executor_loss_cause::signal;
    case proto::ExecutorLossCause::MEMORY_LIMIT: return executor_loss_cause::memory_limit;
    case proto::ExecutorLossCause::HEARTBEAT_TIMEOUT: return executor_loss_cause::heartbeat_timeout;
    case proto::ExecutorLossCause::CONNECTION_LOST: return executor_loss_cause::connection_lost;
    case proto::ExecutorLossCause::KILLED_BY_DRIVER: return executor_loss_cause::killed_by_driver;
    case proto::ExecutorLossCause::WORKER_LOST: return executor_loss_cause::worker_lost;
  }
  return executor_loss_cause::exit_code;
}

proto::ExecutorLossCause to_proto(deploy::executor_loss_cause c) {
  switch (c) {
    case executor_loss_cause::exit_code: return proto::ExecutorLossCause::EXIT_CODE;
    case executor_loss_cause::signal: return proto::ExecutorLossCause::SIGNAL;
    case executor_loss_cause::memory_limit: return proto::ExecutorLossCause::MEMORY_LIMIT;
    case executor_loss_cause::heartbeat_timeout: return proto::ExecutorLossCause::HEARTBEAT_TIMEOUT;
    case executor_loss_cause::connection_lost: return proto::ExecutorLossCause::CONNECTION_LOST;
    case executor_loss_cause::killed_by_driver: return proto::ExecutorLossCause::KILLED_BY_DRIVER;
    case executor_loss_cause::worker_lost: return proto::ExecutorLossCause::WORKER_LOST;
  }
  return proto::ExecutorLossCause::EXIT_CODE;
}

proto::DriverState to_proto(deploy::driver_state s) {
  switch (s) {
    case driver_state::submitted: return proto::DriverState::SUBMITTED;
    case driver_state::running: return proto::DriverState::RUNNING;
    case driver_state::finished: return proto::DriverState::FINISHED;
    case driver_state::relaunching: return proto::DriverState::RELAUNCHING;
    case driver_state::unknown: return proto::DriverState::UNKNOWN;
    case driver_state::killed: return proto::DriverState::KILLED;
    case driver_state::failed: return proto::DriverState::FAILED;
    case driver_state::error: return proto::DriverState::ERROR;
  }
  return proto::DriverState::UNKNOWN;
}

deploy::binary_chunk from_proto(proto::BinaryChunk::Reader r) {
  deploy::binary_chunk c;
  c.offset = r.getOffset();
  c.total_size = r.getTotalSize();
  c.data = std::string{view(r.getData())};
  c.checksum = r.getChecksum();
  c.last = r.getLast();
  return c;
}

} // namespace ember::actors
