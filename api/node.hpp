// Typed dataset nodes and how they travel. A dataset<T> is a handle on a node<T>; a stage's
// task binary is its nodes encoded by name (the node's C++ type) plus parameters, and the
// executor (the same binary) decodes it through the registry below.
//
//   encoded node := id:varint  seen:u8  [ name:string  body ]   (body only the first time an id
//                                                               appears: diamonds stay diamonds)
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <unordered_map>
#include <vector>

#include "api/function.hpp"
#include "scheduler/lineage.hpp"
#include "scheduler/map_output_registry.hpp"
#include "storage/block_manager.hpp"
#include "storage/serde.hpp"

namespace ember::detail {

// What a running task knows about where it runs. Filled by the executor.
struct task_env {
  uint64_t task_id = 0;
  uint32_t stage_id = 0;
  uint32_t stage_attempt = 0;
  uint32_t partition = 0;
  uint32_t attempt = 0;
  std::string executor_id;
  std::string host;
  std::string local_dir;        // shuffle files and spills go below this
  size_t memory_limit = 0;      // execution memory this task may use before spilling
  bool compress = true;         // ember.shuffle.compress
  size_t block_size = 64 << 10; // ember.io.compression.lz4.blockSize
  // Map outputs of a shuffle, every map partition (blocks until the tracker answers).
  std::function<std::vector<scheduler::map_status>(uint32_t shuffle_id)> map_outputs;
  // Executors of a cluster: the framed bytes of reduce partition p of a map output held on
  // another host, fetched from its block server (throws fetch_failed_error). Empty in local mode,
  // where every map output is a host-local file.
  std::function<std::string(const scheduler::map_status& s, uint32_t p)> fetch_remote;
  uint16_t block_port = 0; // this executor's block server, recorded in its map statuses
  // Cached partitions (api/cached.hpp): this executor's block manager (null: nothing is cached,
  // e.g. unit tests), how to tell the driver's block_manager_master where blocks now are (returns
  // once it knows), and how to fetch a block cached on another executor (its serialized bytes,
  // nullopt if no holder could serve it; empty in local mode).
  storage::block_manager* blocks = nullptr;
  std::function<void(const std::vector<storage::block_status>&)> report_blocks;
  std::function<std::optional<std::string>(const storage::block_id&)> fetch_cached;

  // Metrics reported with the task's status.
  uint64_t records_read = 0;
  uint64_t bytes_read = 0;
  uint64_t records_written = 0;
  uint64_t bytes_written = 0;
  uint64_t shuffle_records_read = 0;
  uint64_t shuffle_bytes_read = 0;
  uint64_t shuffle_remote_bytes_read = 0;   // of which fetched from other hosts
  uint64_t shuffle_remote_blocks_fetched = 0;
  uint64_t shuffle_records_written = 0;
  uint64_t shuffle_bytes_written = 0;
  uint64_t spill_bytes = 0;
};

template <class T>
using sink = function_ref<void(T&&)>;

class node_base;
struct encoder;
void encode_node(encoder& e, const node_base& n);

// Encoding state passed to encode_body: the writer, and which nodes were already written.
struct encoder {
  byte_writer& w;
  // Whole graph (a job for the DAG scheduler): shuffle reads also carry their map side.
  // Otherwise (a stage's task binary) encoding stops at shuffle boundaries.
  bool include_map_side = false;
  std::vector<uint32_t> seen = {};
  void node(const node_base& n) { encode_node(*this, n); }
  template <class T>
  void operator()(const T& x) { serialize(w, x); }
};

class node_base : public scheduler::lineage_node {
public:
  using lineage_node::lineage_node;
  // Writes the parameters and the narrow parents (each through encode_node).
  virtual void encode_body(encoder& e) const = 0;
  // The registered name: the node's C++ type.
  virtual const char* type_name() const = 0;
};
using node_ptr = std::shared_ptr<const node_base>;

template <class T>
class node : public node_base {
public:
  using value_type = T;
  using node_base::node_base;
  virtual void compute(uint32_t partition, task_env& env, sink<T> out) const = 0;
};

template <class T>
using typed_ptr = std::shared_ptr<const node<T>>;

class decode_context;
using node_decoder = std::shared_ptr<node_base> (*)(uint32_t id, byte_reader&, decode_context&);

// Every node type registers its decoder at start-up, in every process of the binary.
void register_node_decoder(const char* name, node_decoder fn);

class decode_context {
public:
  node_ptr decode(byte_reader& r);

  template <class T>
  typed_ptr<T> decode_typed(byte_reader& r) {
    auto n = std::dynamic_pointer_cast<const node<T>>(decode(r));
    if (!n)
      throw serde_error("task binary: a node has an unexpected record type");
    return n;
  }

private:
  std::unordered_map<uint32_t, node_ptr> nodes_;
};


// Runs on the executor over one partition of a node<T> and returns bytes; the driver merges
// the partitions' bytes (collect, count, reduce, take, top, foreach_partition, save).
class result_fn {
public:
  virtual ~result_fn() = default;
  virtual std::string run(const node_base& rdd, uint32_t partition, task_env& env) const = 0;
  virtual void encode_body(byte_writer& w) const = 0;
  virtual const char* type_name() const = 0;
};
using result_fn_decoder = std::unique_ptr<result_fn> (*)(byte_reader&);
void register_result_decoder(const char* name, result_fn_decoder fn);
void encode_result_fn(byte_writer& w, const result_fn& f);
std::unique_ptr<result_fn> decode_result_fn(byte_reader& r);

template <class Self>
struct result_registrar {
  static inline const bool registered
    = (register_result_decoder(typeid(Self).name(), &Self::decode), true);
};

template <class Self>
class registered_result_fn : public result_fn {
public:
  registered_result_fn() { (void) result_registrar<Self>::registered; }
  const char* type_name() const override { return typeid(Self).name(); }
};

template <class T>
const node<T>& typed(const node_base& n) {
  auto* p = dynamic_cast<const node<T>*>(&n);
  if (!p)
    throw serde_error("task binary: result function applied to a node of another record type");
  return *p;
}

template <class Node>
struct node_registrar {
  static inline const bool registered
    = (register_node_decoder(typeid(Node).name(), &Node::decode), true);
};

// CRTP helper: gives a node its type name and registration. Every concrete node derives from
// registered_node<Self, T> and provides `static std::shared_ptr<node_base> decode(id, r, ctx)`.
template <class Self, class T>
class registered_node : public node<T> {
public:
  registered_node(uint32_t id, uint32_t num_partitions, std::string name)
    : node<T>(id, num_partitions, std::move(name)) {
    (void) node_registrar<Self>::registered;
  }
  const char* type_name() const override { return typeid(Self).name(); }
};

} // namespace ember::detail
