#include "actors/block_manager_actor.hpp"

#include <caf/spawn_options.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/block_server.hpp"
#include "actors/conversions.hpp"
#include "config/log.hpp"
#include "protocol/shuffle.capnp.h"
#include "storage/block_manager.hpp"
#include "storage/broadcast.hpp"

namespace ember::actors {

void report_blocks(caf::actor_system& sys, const caf::actor& block_manager, const block_manager_actor_config& cfg,
                   const std::vector<storage::block_status>& changes) {
  if (!block_manager)
    return;
  caf::scoped_actor self{sys};
  for (const auto& s : changes) {
    auto msg = make_wire<proto::UpdateBlockInfo>([&](proto::UpdateBlockInfo::Builder b) {
      b.setExecutorId(cfg.executor_id);
      auto id = b.initBlockId();
      if (s.id.is_rdd()) {
        auto r = id.initRdd();
        r.setRddId(static_cast<uint32_t>(s.id.id));
        r.setPartition(s.id.index);
      } else {
        auto r = id.initBroadcast();
        r.setBroadcastId(s.id.id);
        r.setPiece(s.id.index);
      }
      auto l = b.initLevel();
      l.setUseMemory(s.level.use_memory);
      l.setUseDisk(s.level.use_disk);
      l.setDeserialized(s.level.deserialized);
      l.setReplication(s.level.replication);
      b.setMemSize(s.mem_size);
      b.setDiskSize(s.disk_size);
      b.setHost(cfg.host);
      b.setPort(cfg.block_port);
    });
    self->request(block_manager, cfg.ask_timeout, msg)
      .receive([](const wire<proto::UpdateBlockInfo>&) {},
               [&](const caf::error& err) {
                 log::get("executor")->warn("executor {}: block {} not reported to the driver: {}", cfg.executor_id,
                                            s.id.name(), describe(err));
               });
  }
}

namespace {

// Replication runs on a fixed pool of detached actors (a fetch blocks its thread), never a thread
// per ReplicateBlock: the requests come from the network, so neither threads nor queued requests
// grow with them. Beyond cfg.max_pending_replications queued, a request is answered at once,
// unserved (a replica is best effort: the block stays at its one holder and is recomputed if lost).

// ReplicateBlock (the _2 levels): a copy of a block another executor holds, fetched from its
// block server, stored at the block's level and reported like a task's block. One of the pool's
// detached actors; `parent` is weak so that the pool does not keep the block manager actor alive.
caf::behavior replicator(caf::event_based_actor* self, block_manager_actor_config cfg,
                         std::shared_ptr<storage::block_manager> blocks, caf::actor_addr parent_addr) {
  return {
    [=](const wire<proto::ReplicateBlock>& msg) {
      auto r = msg.reader();
      auto parent = caf::actor_cast<caf::actor>(parent_addr);
      if (!r.getBlockId().isRdd()) // the master replicates rdd blocks only
        return msg;
      auto rdd = r.getBlockId().getRdd();
      auto id = storage::block_id::rdd(rdd.getRddId(), rdd.getPartition());
      auto l = r.getLevel();
      storage_level level{l.getUseMemory(), l.getUseDisk(), l.getDeserialized(), l.getReplication()};
      auto holder = r.getHolder();
      auto bytes = fetch_rdd_block(self->system(), str(holder.getHost()), holder.getPort(), rdd.getRddId(),
                                   rdd.getPartition(), cfg.max_chunk_size, cfg.fetch_timeout, cfg.fetch_retry_wait);
      if (!bytes) {
        log::get("executor")->warn("executor {}: no replica of block {}: cannot fetch it from executor {} ({}:{})",
                                   cfg.executor_id, id.name(), str(holder.getExecutorId()), str(holder.getHost()),
                                   holder.getPort());
        return msg;
      }
      std::vector<storage::block_status> changes;
      auto status = blocks->put_bytes(id, level, std::move(*bytes));
      if (status.stored())
        changes.push_back(status);
      for (auto& e : blocks->take_evicted())
        changes.push_back(e);
      if (!changes.empty())
        report_blocks(self->system(), parent, cfg, changes);
      log::get("executor")->debug("executor {}: replica of block {} from executor {}", cfg.executor_id, id.name(),
                                  str(holder.getExecutorId()));
      return msg;
    },
  };
}

class block_manager_actor : public caf::event_based_actor {
public:
  block_manager_actor(caf::actor_config& ac, block_manager_actor_config cfg, std::shared_ptr<storage::block_manager> blocks,
                      std::shared_ptr<storage::broadcast_store> pieces, caf::actor master, caf::actor broadcast_master)
    : caf::event_based_actor(ac), cfg_(std::move(cfg)), blocks_(std::move(blocks)), pieces_(std::move(pieces)),
      master_(std::move(master)), broadcast_master_(std::move(broadcast_master)) {}

  const char* name() const override { return "block_manager"; }

  caf::behavior make_behavior() override {
    return {
      [this](const wire<proto::UpdateBlockInfo>& msg) { return update_block_info(msg); },
      [this](const wire<proto::ReplicateBlock>& msg) { return replicate(msg); },
      [this](const wire<proto::RemoveRdd>& msg) { return remove_rdd(msg); },
      [this](const wire<proto::BroadcastPiecesStored>& msg) { send(broadcast_master_, msg); },
      [this](const wire<proto::RemoveBroadcast>& msg) { return remove_broadcast(msg); },
    };
  }

private:
  // A task thread's (or a replicator's) block report, passed on to the block_manager_master as
  // this actor, which the master then sends RemoveRdd and ReplicateBlock to.
  caf::result<wire<proto::UpdateBlockInfo>> update_block_info(const wire<proto::UpdateBlockInfo>& msg) {
    auto rp = make_response_promise<wire<proto::UpdateBlockInfo>>();
    request(master_, cfg_.ask_timeout, msg)
      .then([rp](const wire<proto::UpdateBlockInfo>& ack) mutable { rp.deliver(ack); },
            [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
    return rp;
  }

  caf::result<wire<proto::ReplicateBlock>> replicate(const wire<proto::ReplicateBlock>& msg) {
    if (pending_replications_ >= cfg_.max_pending_replications) {
      log::get("executor")->warn("executor {}: {} replications queued already: a ReplicateBlock is dropped",
                                 cfg_.executor_id, pending_replications_);
      return msg;
    }
    if (replicators_.empty())
      for (std::size_t i = 0; i < std::max<std::size_t>(cfg_.replication_threads, 1); ++i)
        replicators_.push_back(system().spawn<caf::detached>(replicator, cfg_, blocks_, address()));
    auto& worker = replicators_[next_replicator_++ % replicators_.size()];
    ++pending_replications_;
    auto rp = make_response_promise<wire<proto::ReplicateBlock>>();
    request(worker, caf::infinite, msg)
      .then(
        [this, rp](const wire<proto::ReplicateBlock>& done) mutable {
          --pending_replications_;
          rp.deliver(done);
        },
        [this, rp](caf::error& err) mutable {
          --pending_replications_;
          rp.deliver(std::move(err));
        });
    return rp;
  }

  void on_exit() override {
    for (auto& w : replicators_)
      anon_send_exit(w, caf::exit_reason::user_shutdown);
    replicators_.clear();
  }

  wire<proto::RemoveRdd> remove_rdd(const wire<proto::RemoveRdd>& msg) {
    auto n = blocks_->remove_rdd(msg.reader().getRddId()).size();
    log::get("executor")->debug("executor {}: removed {} blocks of rdd {}", cfg_.executor_id, n, msg.reader().getRddId());
    return msg;
  }

  wire<proto::RemoveBroadcast> remove_broadcast(const wire<proto::RemoveBroadcast>& msg) {
    if (pieces_)
      pieces_->drop(msg.reader().getBroadcastId());
    log::get("executor")->info("broadcast {}: copies dropped (unpersist or destroy)", msg.reader().getBroadcastId());
    return msg;
  }

  block_manager_actor_config cfg_;
  std::shared_ptr<storage::block_manager> blocks_;
  std::shared_ptr<storage::broadcast_store> pieces_;
  caf::actor master_;
  caf::actor broadcast_master_;
  std::vector<caf::actor> replicators_;  // the pool, spawned at the first ReplicateBlock
  std::size_t next_replicator_ = 0;
  std::size_t pending_replications_ = 0;
};

} // namespace

caf::actor spawn_block_manager_actor(caf::actor_system& sys, block_manager_actor_config cfg,
                                     std::shared_ptr<storage::block_manager> blocks,
                                     std::shared_ptr<storage::broadcast_store> pieces, caf::actor master,
                                     caf::actor broadcast_master) {
  return sys.spawn<block_manager_actor>(std::move(cfg), std::move(blocks), std::move(pieces), std::move(master),
                                        std::move(broadcast_master));
}

} // namespace ember::actors
