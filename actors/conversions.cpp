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

} // namespace ember::actors
