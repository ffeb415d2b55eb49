#include "actors/conversions.hpp"

namespace ember::actors {

std::string index_path_for(const std::string& data_path) {
  auto dot = data_path.rfind(".data");
  return (dot == std::string::npos ? data_path : data_path.substr(0, dot)) + ".index";
}

void fill(proto::MapStatus::Builder b, const scheduler::map_status& s) {
  b.setShuffleId(s.shuffle_id);
  b.setMapIndex(s.map_id);
  b.setMapId(s.map_task_id);
  b.setPort(s.port);
  b.setMapAttempt(s.map_attempt);
  b.setExecutorId(s.executor_id);
  b.setHost(s.host);
  b.setDataPath(s.data_path);
  auto sizes = b.initSizes(static_cast<unsigned>(s.sizes.size()));
  for (unsigned i = 0; i < s.sizes.size(); ++i)
    sizes.set(i, s.sizes[i]);
}

scheduler::map_status to_status(proto::MapStatus::Reader r) {
  scheduler::map_status s;
  s.shuffle_id = r.getShuffleId();
  s.map_id = r.getMapIndex();
  s.map_task_id = r.getMapId();
  s.port = r.getPort();
  s.map_attempt = r.getMapAttempt();
  s.executor_id = str(r.getExecutorId());
  s.host = str(r.getHost());
  s.data_path = str(r.getDataPath());
  s.index_path = index_path_for(s.data_path);
  for (auto x : r.getSizes())
    s.sizes.push_back(x);
  return s;
}

std::optional<storage::block_id> to_block_id(proto::BlockId::Reader id) {
  if (id.isRdd())
    return storage::block_id::rdd(id.getRdd().getRddId(), id.getRdd().getPartition());
  if (id.isBroadcast())
    return storage::block_id::broadcast(id.getBroadcast().getBroadcastId(), id.getBroadcast().getPiece());
  return std::nullopt;
}

std::optional<storage::block_status> to_block_status(proto::UpdateBlockInfo::Reader r) {
  auto id = to_block_id(r.getBlockId());
  if (!id)
    return std::nullopt;
  auto l = r.getLevel();
  return storage::block_status{*id, storage_level{l.getUseMemory(), l.getUseDisk(), l.getDeserialized(), l.getReplication()},
                               r.getMemSize(), r.getDiskSize()};
}

} // namespace ember::actors
