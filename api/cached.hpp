// cache()/persist(level): the node that keeps its parent's partitions in the executor's block
// manager. A task computing a cached partition first asks its executor's block manager, then
// (cluster) another executor holding it; on a miss it computes the parent, stores the partition
// at the level and reports it to the driver's block_manager_master before returning, so the
// next job's planner already sees the block (PROCESS_LOCAL preference).
//
//   serialized block := frame*   (shuffle/frame.hpp LZ4 frames, each holding whole records)
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "api/node.hpp"
#include "shuffle/frame.hpp"
#include "storage/storage_level.hpp"

namespace ember::detail {

// Records of one partition as the block manager's serialized form: LZ4 frames of about
// `block_size` raw bytes, cut at record boundaries.
template <class T>
std::string encode_cached_block(const std::vector<T>& values, size_t block_size) {
  std::string out;
  byte_writer w;
  for (const auto& x : values) {
    serialize(w, x);
    if (w.size() >= block_size) {
      shuffle::encode_frame(shuffle::codec::lz4, w.data(), w.size(), out);
      w.clear();
    }
  }
  if (w.size() > 0)
    shuffle::encode_frame(shuffle::codec::lz4, w.data(), w.size(), out);
  return out;
}

template <class T, class F>
void decode_cached_block(const std::string& bytes, const std::string& source, F&& on_record) {
  shuffle::decode_frames(bytes.data(), bytes.size(), source, [&](std::string_view raw) {
    byte_reader r{raw};
    while (!r.at_end())
      on_record(deserialize<T>(r));
  });
}

template <class T>
size_t estimate_block_size(const std::vector<T>& values) {
  size_t n = sizeof(std::vector<T>) + values.capacity() * sizeof(T);
  if constexpr (!std::is_arithmetic_v<T>)
    for (const auto& x : values)
      n += heap_size_estimate(x);
  return n;
}

// Driver side, the level can be switched off (unpersist) after datasets derived from the cached
// one were built: they keep this node, which then encodes level NONE and just passes through.
template <class T>
class cached_node : public registered_node<cached_node<T>, T> {
public:
  cached_node(uint32_t id, typed_ptr<T> parent, storage_level level)
    : registered_node<cached_node<T>, T>(id, parent->num_partitions(), parent->name()),
      parent_(std::move(parent)), level_(std::make_shared<level_cell>(level)) {
    this->narrow_parents_.push_back(parent_);
  }

  const typed_ptr<T>& parent() const { return parent_; }
  storage_level level() const { return level_->get(); }
  void set_level(storage_level level) const { level_->set(level); }

  void compute(uint32_t p, task_env& env, sink<T> out) const override {
    auto level = level_->get();
    if (!level.valid() || env.blocks == nullptr) {
      parent_->compute(p, env, out);
      return;
    }
    auto id = storage::block_id::rdd(this->id(), p);
    if (auto found = env.blocks->get(id)) {
      if (found->values) {
        for (const auto& x : *static_cast<const std::vector<T>*>(found->values.get())) {
          T copy = x;
          out(std::move(copy));
        }
      } else {
        decode_cached_block<T>(*found->bytes, "cached block " + id.name(), [&](T&& x) { out(std::move(x)); });
      }
      return;
    }
    if (env.fetch_cached) {
      if (auto bytes = env.fetch_cached(id)) {
        decode_cached_block<T>(*bytes, "cached block " + id.name() + " fetched from another executor",
                               [&](T&& x) { out(std::move(x)); });
        return;
      }
    }
    auto values = std::make_shared<std::vector<T>>();
    parent_->compute(p, env, [&](T&& x) { values->push_back(std::move(x)); });
    storage::block_status status;
    size_t block_size = env.block_size;
    if (level.use_memory && level.deserialized) {
      auto size = estimate_block_size(*values);
      std::shared_ptr<const std::vector<T>> held = values;
      status = env.blocks->put_values(id, level, storage::block_values{held, size, [held, block_size] {
                                        return encode_cached_block(*held, block_size);
                                      }});
    } else {
      status = env.blocks->put_bytes(id, level, encode_cached_block(*values, block_size));
    }
    if (env.report_blocks) {
      std::vector<storage::block_status> changes;
      if (status.stored())
        changes.push_back(status); // a block that found no room replaced nothing: nothing to say
      for (auto& e : env.blocks->take_evicted())
        changes.push_back(e);
      if (!changes.empty())
        env.report_blocks(changes);
    }
    if (status.mem_size > 0 && level.deserialized) {
      for (const auto& x : *values) { // the block manager holds these values now
        T copy = x;
        out(std::move(copy));
      }
    } else {
      for (auto& x : *values)
        out(std::move(x));
    }
  }

  void encode_body(encoder& e) const override {
    e.node(*parent_);
    auto l = level_->get();
    e(l.use_memory);
    e(l.use_disk);
    e(l.deserialized);
    e(l.replication);
  }

  static std::shared_ptr<node_base> decode(uint32_t id, byte_reader& r, decode_context& ctx) {
    auto parent = ctx.decode_typed<T>(r);
    storage_level l;
    l.use_memory = deserialize<bool>(r);
    l.use_disk = deserialize<bool>(r);
    l.deserialized = deserialize<bool>(r);
    l.replication = deserialize<uint8_t>(r);
    return std::make_shared<cached_node>(id, std::move(parent), l);
  }

private:
  // The level, shared by every copy of the dataset handle; atomic because jobs encode it from
  // their own threads.
  struct level_cell {
    explicit level_cell(storage_level l) { set(l); }
    storage_level get() const {
      auto v = bits_.load();
      return storage_level{(v & 1) != 0, (v & 2) != 0, (v & 4) != 0, static_cast<uint8_t>(v >> 8)};
    }
    void set(storage_level l) {
      bits_.store((l.use_memory ? 1u : 0u) | (l.use_disk ? 2u : 0u) | (l.deserialized ? 4u : 0u)
                  | (uint32_t{l.replication} << 8));
    }
    std::atomic<uint32_t> bits_{0};
  };

  typed_ptr<T> parent_;
  std::shared_ptr<level_cell> level_;
};

} // namespace ember::detail
