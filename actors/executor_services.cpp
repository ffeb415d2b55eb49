#include "actors/executor_services.hpp"

#include <caf/scoped_actor.hpp>

#include "actors/block_server.hpp"
#include "actors/conversions.hpp"
#include "protocol/shuffle.capnp.h"

namespace ember::actors {

caf_task_services::caf_task_services(caf::actor_system& sys, const executor_config& cfg, caf::actor tracker,
                                     caf::actor block_manager, std::shared_ptr<map_output_index> outputs)
  : sys_(sys), cfg_(cfg), tracker_(std::move(tracker)), block_manager_(std::move(block_manager)),
    outputs_(std::move(outputs)) {
  bm_cfg_.executor_id = cfg.executor_id;
  bm_cfg_.host = cfg.host;
  bm_cfg_.block_port = cfg.block_port;
  bm_cfg_.ask_timeout = cfg.ask_timeout;
}

std::vector<scheduler::map_status> caf_task_services::map_outputs(uint32_t shuffle) {
  caf::scoped_actor self{sys_};
  std::vector<scheduler::map_status> out;
  std::string failure;
  uint32_t missing = 0;
  auto req = make_wire<proto::GetMapOutputs>([&](auto b) { b.setShuffleId(shuffle); });
  self->request(tracker_, cfg_.ask_timeout, req)
    .receive(
      [&](const wire<proto::MapOutputs>& reply) {
        auto r = reply.reader();
        if (r.getMissingMapIndexes().size() > 0) {
          missing = r.getMissingMapIndexes()[0];
          failure = "map output " + std::to_string(r.getMissingMapIndexes()[0]) + " of shuffle "
                    + std::to_string(shuffle) + " is missing";
          return;
        }
        for (auto s : r.getStatuses())
          out.push_back(to_status(s));
      },
      [&](const caf::error& err) { failure = "cannot get map outputs of shuffle " + std::to_string(shuffle) + ": " + describe(err); });
  if (!failure.empty())
    throw detail::fetch_failed_error(shuffle, missing, "", failure); // names the missing output, not map 0
  return out;
}

void caf_task_services::report_blocks(const std::vector<storage::block_status>& changes) {
  actors::report_blocks(sys_, block_manager_, bm_cfg_, changes);
}

void caf_task_services::map_output_written(const scheduler::map_status& s) {
  if (outputs_)
    outputs_->add(s.shuffle_id, s.map_task_id, s.data_path);
}

std::string caf_task_services::fetch_remote(const scheduler::map_status& s, uint32_t p) {
  // Asked at each retryWait tick of a slow fetch: has the driver unregistered this output (it
  // unregisters all of an executor's when it declares it lost)? No answer = not known lost.
  auto holder_lost = [this, &s] {
    caf::scoped_actor self{sys_};
    bool lost = false;
    auto req = make_wire<proto::GetMapOutputs>([&](auto b) { b.setShuffleId(s.shuffle_id); });
    self->request(tracker_, cfg_.ask_timeout, req)
      .receive(
        [&](const wire<proto::MapOutputs>& reply) {
          auto r = reply.reader();
          for (auto m : r.getMissingMapIndexes())
            lost = lost || m == s.map_id;
          for (auto st : r.getStatuses()) {
            auto m = to_status(st);
            if (m.map_id == s.map_id)
              lost = lost || m.executor_id != s.executor_id || m.map_task_id != s.map_task_id;
          }
        },
        [&](const caf::error&) {});
    return lost;
  };
  return fetch_remote_block(sys_, s, p, cfg_.max_chunk_size, cfg_.fetch_timeout, cfg_.fetch_retry_wait,
                            cfg_.faults.get(), holder_lost, cfg_.fetches.get());
}

// A partition cached on another executor: ask the block_manager_master who holds it, then
// fetch it from the first holder whose block server serves it.
std::optional<std::string> caf_task_services::fetch_cached(const storage::block_id& id) {
  auto req = make_wire<proto::GetBlockLocations>([&](proto::GetBlockLocations::Builder b) {
    auto r = b.initBlockIds(1)[0].initRdd();
    r.setRddId(static_cast<uint32_t>(id.id));
    r.setPartition(id.index);
  });
  std::vector<std::pair<std::string, uint16_t>> holders;
  {
    caf::scoped_actor self{sys_};
    self->request(tracker_, cfg_.ask_timeout, req)
      .receive(
        [&](const wire<proto::BlockLocations>& reply) {
          for (auto loc : reply.reader().getLocations())
            for (auto h : loc.getHolders())
              if (str(h.getExecutorId()) != cfg_.executor_id && h.getPort() != 0)
                holders.emplace_back(str(h.getHost()), h.getPort());
        },
        [](const caf::error&) {});
  }
  for (auto& [host, port] : holders)
    if (auto bytes = fetch_rdd_block(sys_, host, port, static_cast<uint32_t>(id.id), id.index, cfg_.max_chunk_size,
                                     cfg_.fetch_timeout, cfg_.fetch_retry_wait))
      return bytes;
  return std::nullopt;
}

} // namespace ember::actors
