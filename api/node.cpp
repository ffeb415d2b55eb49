#include "api/node.hpp"

#include <algorithm>
#include <mutex>

namespace ember::detail {

namespace {

struct decoder_table {
  std::mutex mtx;
  std::unordered_map<std::string, node_decoder> by_name;
  std::unordered_map<std::string, result_fn_decoder> results;
};

decoder_table& table() {
  static decoder_table t; // function-local: safe during static initialization
  return t;
}

} // namespace

void register_node_decoder(const char* name, node_decoder fn) {
  auto& t = table();
  std::lock_guard guard{t.mtx};
  t.by_name.emplace(name, fn);
}

void encode_node(encoder& e, const node_base& n) {
  serialize(e.w, n.id());
  bool already = std::find(e.seen.begin(), e.seen.end(), n.id()) != e.seen.end();
  serialize(e.w, already);
  if (already)
    return;
  e.seen.push_back(n.id());
  serialize(e.w, std::string{n.type_name()});
  serialize(e.w, n.name()); // the operator's name ("reduce_by_key"): decoders only know their type's
  n.encode_body(e);
}

node_ptr decode_context::decode(byte_reader& r) {
  auto id = deserialize<uint32_t>(r);
  if (deserialize<bool>(r)) {
    auto i = nodes_.find(id);
    if (i == nodes_.end())
      throw serde_error("task binary: reference to node " + std::to_string(id) + " before its definition");
    return i->second;
  }
  auto name = deserialize<std::string>(r);
  auto display_name = deserialize<std::string>(r);
  node_decoder fn = nullptr;
  {
    auto& t = table();
    std::lock_guard guard{t.mtx};
    if (auto i = t.by_name.find(name); i != t.by_name.end())
      fn = i->second;
  }
  if (!fn)
    throw serde_error("task binary: unknown operator " + name
                      + " (is the executor running the same application binary as the driver?)");
  std::shared_ptr<node_base> n = fn(id, r, *this);
  n->set_name(std::move(display_name));
  nodes_.emplace(id, n);
  return n;
}

void register_result_decoder(const char* name, result_fn_decoder fn) {
  auto& t = table();
  std::lock_guard guard{t.mtx};
  t.results.emplace(name, fn);
}

void encode_result_fn(byte_writer& w, const result_fn& f) {
  serialize(w, std::string{f.type_name()});
  f.encode_body(w);
}

std::unique_ptr<result_fn> decode_result_fn(byte_reader& r) {
  auto name = deserialize<std::string>(r);
  result_fn_decoder fn = nullptr;
  {
    auto& t = table();
    std::lock_guard guard{t.mtx};
    if (auto i = t.results.find(name); i != t.results.end())
      fn = i->second;
  }
  if (!fn)
    throw serde_error("task binary: unknown action " + name
                      + " (is the executor running the same application binary as the driver?)");
  return fn(r);
}

} // namespace ember::detail
