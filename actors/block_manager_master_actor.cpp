#include "actors/block_manager_master_actor.hpp"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <caf/event_based_actor.hpp>

#include "actors/conversions.hpp"
#include "actors/listener_bus.hpp"
#include "config/log.hpp"
#include "protocol/executor.capnp.h"
#include "protocol/shuffle.capnp.h"
#include "protocol/wire.hpp"
#include "storage/block_manager_master.hpp"

namespace ember::actors {

namespace {

class block_manager_master_actor : public caf::event_based_actor {
public:
  block_manager_master_actor(caf::actor_config& cfg, block_manager_master_config settings)
    : caf::event_based_actor(cfg), settings_(settings), log_(log::get("block_manager_master")) {}

  const char* name() const override { return "block_manager_master"; }

  // A class-based actor keeps its members until its last reference goes, and the watcher (the
  // dag_scheduler) and the block managers hold this actor too: without this, each pair kept
  // the other alive after both had ended (LeakSanitizer found it in actor_tests).
  void on_exit() override {
    watcher_ = nullptr;
    settings_.listener_bus = nullptr;
    block_managers_.clear();
  }

  caf::behavior make_behavior() override {
    return {
      [this](watch_cache_atom) { watcher_ = caf::actor_cast<caf::actor>(current_sender()); },
      // An executor registered (passed on by the task scheduler as that executor): it may take
      // replicas before it reported any block.
      [this](const wire<proto::RegisterExecutor>& msg) {
        if (auto sender = caf::actor_cast<caf::actor>(current_sender()))
          block_managers_.insert_or_assign(str(msg.reader().getExecutorId()), sender);
      },
      [this](const wire<proto::UpdateBlockInfo>& msg) { return update_block_info(msg); },
      [this](const wire<proto::GetBlockLocations>& msg) { return block_locations(msg.reader()); },
      [this](const wire<proto::RemoveRdd>& msg) { return remove_rdd(msg); },
      [this](const wire<proto::ExecutorLost>& msg) {
        auto id = str(msg.reader().getExecutorId());
        auto n = blocks_.executor_lost(id);
        block_managers_.erase(id);
        if (n > 0)
          log_->info("executor {} lost with {} cached blocks", id, n);
      },
    };
  }

private:
  // A block stored, moved or dropped. A block whose level asks for more copies than it has
  // holders is replicated first (ReplicateBlock to another live executor, which fetches it from
  // the reporter and reports its copy here): the acknowledgement waits for that, so when the
  // task's StatusUpdate follows it, every copy is in the table (Spark replicates inside the
  // put, before the task ends, too). A failed replication is logged; the block stays single.
  caf::result<wire<proto::UpdateBlockInfo>> update_block_info(const wire<proto::UpdateBlockInfo>& msg) {
    auto r = msg.reader();
    auto s = to_block_status(r);
    if (!s)
      return msg;
    auto reporter = str(r.getExecutorId());
    blocks_.update(reporter, str(r.getHost()), r.getPort(), *s);
    if (auto sender = caf::actor_cast<caf::actor>(current_sender()))
      block_managers_.insert_or_assign(reporter, sender);
    // Before the acknowledgement: the task's end reaches the planner after its block.
    if (watcher_ && s->id.is_rdd())
      send(watcher_, msg);
    if (settings_.listener_bus && s->id.is_rdd())
      post_event(this, settings_.listener_bus, [&](proto::ListenerEvent::Builder e) {
        auto b = e.initBlockUpdated();
        b.setExecutorId(r.getExecutorId());
        b.setHost(r.getHost());
        b.setRddId(r.getBlockId().getRdd().getRddId());
        b.setPartition(r.getBlockId().getRdd().getPartition());
        b.setLevel(r.getLevel());
        b.setMemSize(r.getMemSize());
        b.setDiskSize(r.getDiskSize());
        b.setTime(epoch_ms());
      });
    if (!s->stored() || !s->id.is_rdd() || r.getPort() == 0)
      return msg; // the acknowledgement: the task's StatusUpdate follows it
    std::vector<std::string> live;
    for (auto& [e, bm] : block_managers_)
      live.push_back(e);
    auto target = blocks_.replica_target(s->id, live);
    if (!target)
      return msg;
    auto req = make_wire<proto::ReplicateBlock>([&](proto::ReplicateBlock::Builder b) {
      b.setBlockId(r.getBlockId());
      b.setLevel(r.getLevel());
      auto h = b.initHolder();
      h.setExecutorId(reporter);
      h.setHost(r.getHost());
      h.setPort(r.getPort());
    });
    auto rp = make_response_promise();
    request(block_managers_.at(*target), settings_.ask_timeout, req)
      .then([rp, msg](const wire<proto::ReplicateBlock>&) mutable { rp.deliver(msg); },
            [this, rp, msg, name = s->id.name(), to = *target](caf::error& err) mutable {
              log_->warn("block {}: no replica on executor {}: {}", name, to, describe(err));
              rp.deliver(msg);
            });
    return rp;
  }

  wire<proto::BlockLocations> block_locations(proto::GetBlockLocations::Reader r) const {
    auto ids = r.getBlockIds();
    return make_wire<proto::BlockLocations>([&](proto::BlockLocations::Builder b) {
      auto locs = b.initLocations(ids.size());
      for (unsigned i = 0; i < ids.size(); ++i) {
        locs[i].setBlockId(ids[i]);
        auto id = to_block_id(ids[i]);
        auto holders = id ? blocks_.locations(*id) : std::vector<storage::block_holder>{};
        auto hs = locs[i].initHolders(static_cast<unsigned>(holders.size()));
        for (unsigned j = 0; j < holders.size(); ++j) {
          hs[j].setExecutorId(holders[j].executor_id);
          hs[j].setHost(holders[j].host);
          hs[j].setPort(holders[j].port);
        }
      }
    });
  }

  // unpersist: every executor that reported blocks drops the RDD's; answered once all did (or
  // did not answer within the ask timeout: a lost executor's blocks are gone anyway).
  caf::result<wire<proto::RemoveRdd>> remove_rdd(const wire<proto::RemoveRdd>& msg) {
    blocks_.remove_rdd(msg.reader().getRddId());
    post_event(this, settings_.listener_bus, [&](proto::ListenerEvent::Builder e) {
      auto b = e.initUnpersistRdd();
      b.setRddId(msg.reader().getRddId());
      b.setTime(epoch_ms());
    });
    if (watcher_)
      send(watcher_, msg);
    if (block_managers_.empty())
      return msg;
    auto rp = make_response_promise();
    auto left = std::make_shared<size_t>(block_managers_.size());
    for (auto& [id, bm] : block_managers_)
      request(bm, settings_.ask_timeout, msg)
        .then([rp, left, msg](const wire<proto::RemoveRdd>&) mutable {
                if (--*left == 0)
                  rp.deliver(msg);
              },
              [rp, left, msg](caf::error&) mutable {
                if (--*left == 0)
                  rp.deliver(msg);
              });
    return rp;
  }

  block_manager_master_config settings_;
  std::shared_ptr<spdlog::logger> log_;
  storage::block_manager_master blocks_;
  // The live executor actors (registered, or that reported blocks): RemoveRdd goes to them,
  // ReplicateBlock to one of them.
  std::map<std::string, caf::actor> block_managers_;
  caf::actor watcher_; // the dag_scheduler (watch_cache_atom)
};

} // namespace

caf::actor spawn_block_manager_master(caf::actor_system& sys, block_manager_master_config cfg) {
  return sys.spawn<block_manager_master_actor>(cfg);
}

} // namespace ember::actors
