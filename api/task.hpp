// A task's two halves: the driver encodes a stage once (its binary), the executor decodes and
// runs one partition of it. Plain C++: the actors only carry the bytes.
//
//   stage binary := kind:u8 (0 result, 1 shuffle map)
//                   result:      rdd node  result function
//                   shuffle map: writer node (its rdd chain inside)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "api/node.hpp"

namespace ember::detail {

// The map side of a shuffle: computes its parent's partition and writes the map output files.
class shuffle_writer_base : public node_base {
public:
  using node_base::node_base;
  virtual uint32_t shuffle_id() const = 0;
  // Writes partition `p`'s map output and returns where it is and how big each bucket is.
  virtual scheduler::map_status write(uint32_t p, task_env& env) const = 0;
};

// Encodes a whole job's graph (with shuffle map sides) for the DAG scheduler.
std::string encode_graph(const node_base& rdd);
node_ptr decode_graph(std::string_view bytes);

std::string encode_result_stage(const node_base& rdd, std::string_view result_fn);
std::string encode_map_stage(const shuffle_writer_base& writer);

struct task_outcome {
  enum class kind { result, map_output, error, fetch_failed };
  kind what = kind::error;
  std::string result;              // kind::result
  scheduler::map_status status;    // kind::map_output
  std::string error_kind;          // kind::error: exception type
  // kind::error: the task threw std::bad_alloc (or a type derived from it). An executor process
  // may be in no state to go on and exits (actors/executor.cpp).
  bool out_of_memory = false;
  std::string error_message;       // kind::error and kind::fetch_failed
  uint32_t failed_shuffle = 0;     // kind::fetch_failed
  uint32_t failed_map = 0;
  std::string failed_executor;
  bool failed_block_corrupt = false; // see fetch_failed_error::corrupt_block
};

// Decodes and runs one task; never throws (a throwing user function becomes kind::error).
task_outcome run_task(std::string_view binary, task_env& env);

// Thrown by shuffle readers when a map output is missing or corrupt: becomes a FetchFailed.
class fetch_failed_error : public std::runtime_error {
public:
  fetch_failed_error(uint32_t shuffle, uint32_t map, std::string executor, const std::string& what)
    : std::runtime_error(what), shuffle_id(shuffle), map_id(map), executor_id(std::move(executor)) {}
  uint32_t shuffle_id;
  uint32_t map_id;
  std::string executor_id;
  // The block was read but is corrupt: only this map output is lost, not its executor's others.
  bool corrupt_block = false;
};

} // namespace ember::detail
