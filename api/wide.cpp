#include "api/wide.hpp"

#include <filesystem>
#include <system_error>

#include "shuffle/frame.hpp"

namespace ember::detail {

namespace {

// The fields both kinds of options share: where to spill, how much memory, how to frame.
template <class Options>
Options spill_options(const task_env& env) {
  Options o;
  o.spill_dir = env.local_dir;
  if (env.memory_limit > 0)
    o.memory_limit = env.memory_limit;
  o.codec = env.compress ? shuffle::codec::lz4 : shuffle::codec::none;
  o.block_size = env.block_size;
  return o;
}

} // namespace

shuffle::output_options output_options_for(const task_env& env, uint32_t num_partitions) {
  auto o = spill_options<shuffle::output_options>(env);
  o.num_partitions = num_partitions;
  return o;
}

shuffle::external_options external_options_for(const task_env& env) {
  return spill_options<shuffle::external_options>(env);
}

std::pair<std::string, std::string> map_output_paths(const task_env& env, uint32_t shuffle_id) {
  auto stem = std::filesystem::path{env.local_dir}
              / ("shuffle_" + std::to_string(shuffle_id) + "_" + std::to_string(env.partition) + "_"
                 + std::to_string(env.task_id));
  return {stem.string() + ".data", stem.string() + ".index"};
}

scheduler::map_status make_status(const task_env& env, uint32_t shuffle_id, const shuffle::map_output& out,
                                  std::string data_path, std::string index_path) {
  scheduler::map_status s;
  s.shuffle_id = shuffle_id;
  s.map_id = env.partition;
  s.map_attempt = env.attempt;
  s.executor_id = env.executor_id;
  s.host = env.host;
  s.port = env.block_port;
  s.map_task_id = env.task_id;
  s.sizes = out.partition_lengths;
  s.data_path = std::move(data_path);
  s.index_path = std::move(index_path);
  return s;
}

// A block that was read but is bad (checksum, size, undecodable frames, unreadable file): its
// holder is alive, so only this map output is lost (dag_planner::fetch_failed).
static fetch_failed_error corrupt_block(uint32_t shuffle_id, const scheduler::map_status& s, const std::string& what) {
  fetch_failed_error e{shuffle_id, s.map_id, s.executor_id, what};
  e.corrupt_block = true;
  return e;
}

void read_shuffle_blocks(task_env& env, uint32_t shuffle_id, uint32_t p,
                         const std::function<void(byte_reader&)>& fn) {
  for (const auto& s : env.map_outputs(shuffle_id)) {
    if (p >= s.sizes.size() || s.sizes[p] == 0)
      continue;
    if (env.fetch_remote && s.host != env.host) {
      // Another host's map output: its block server ships the partition's frames as stored.
      auto data = env.fetch_remote(s, p);
      if (data.size() != s.sizes[p])
        throw corrupt_block(shuffle_id, s,
                                 "map output " + std::to_string(s.map_id) + " of shuffle " + std::to_string(shuffle_id)
                                   + " from executor " + s.executor_id + ": got " + std::to_string(data.size())
                                   + " bytes of partition " + std::to_string(p) + ", its map status says "
                                   + std::to_string(s.sizes[p]));
      env.shuffle_remote_bytes_read += data.size();
      ++env.shuffle_remote_blocks_fetched;
      shuffle::frame_decoder decoder{"shuffle " + std::to_string(shuffle_id) + " map " + std::to_string(s.map_id)
                                     + " from executor " + s.executor_id};
      size_t pos = 0;
      while (pos < data.size()) {
        size_t consumed = 0;
        std::string_view raw;
        try {
          raw = decoder.decode(data.data() + pos, data.size() - pos, pos, consumed);
        } catch (const std::exception& e) {
          throw corrupt_block(shuffle_id, s, e.what());
        }
        pos += consumed;
        byte_reader r{raw};
        fn(r);
      }
      continue;
    }
    // Only the shuffle's own failures (unreadable or corrupt files) become fetch failures; an
    // exception from user code merging the records propagates as the task's own error.
    std::optional<shuffle::shuffle_file_reader> reader;
    try {
      reader.emplace(s.data_path, s.index_path);
      if (reader->num_partitions() <= p || reader->partition_size(p) != s.sizes[p])
        throw shuffle::corruption_error(s.data_path, 0,
                                        "partition " + std::to_string(p) + " does not have the "
                                          + std::to_string(s.sizes[p]) + " bytes its map status says");
    } catch (const std::exception& e) {
      auto error = corrupt_block(shuffle_id, s,
                                 "cannot read map output " + std::to_string(s.map_id) + " of shuffle "
                                   + std::to_string(shuffle_id) + " on executor " + s.executor_id + ": " + e.what());
      std::error_code ec;
      if (!std::filesystem::exists(s.data_path, ec))
        error.corrupt_block = false; // gone: its executor lost (or removed) all of its files
      throw error;
    }
    env.shuffle_bytes_read += s.sizes[p];
    auto cursor = [&]() {
      try {
        return reader->open_partition(p);
      } catch (const std::exception& e) {
        throw corrupt_block(shuffle_id, s, e.what());
      }
    }();
    for (;;) {
      std::string_view raw;
      try {
        if (!cursor.next(raw))
          break;
      } catch (const std::exception& e) {
        throw corrupt_block(shuffle_id, s,
                                 "corrupt map output " + std::to_string(s.map_id) + " of shuffle "
                                   + std::to_string(shuffle_id) + " on executor " + s.executor_id + ": " + e.what());
      }
      byte_reader r{raw};
      fn(r);
    }
  }
}

} // namespace ember::detail
