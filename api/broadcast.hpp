// ember::broadcast<T>: a read-only value shipped once per executor instead of once per task
// (Spark's broadcast variables). ctx.broadcast(v) returns the handle; bound into a shipped function
// with ember::bind(fn, b) it travels as its id and type only, and b.value() on an executor fetches
// the value once per executor process (pieces from the driver or from peers, storage/broadcast.hpp)
// and keeps it for every later task there.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <typeinfo>
#include <utility>

#include "storage/broadcast.hpp"
#include "storage/serde.hpp"

namespace ember {

class context;

// How this executor got one broadcast (b.local_stats() inside a task).
struct broadcast_stats {
  std::string executor_id;
  uint64_t fetches = 0;            // whole-value fetches by this executor process
  uint64_t pieces_from_driver = 0;
  uint64_t pieces_from_peers = 0;
  uint64_t bad_peer_pieces = 0;    // a peer's piece failed its checksum (or the peer failed): refetched from the driver
};

template <class Inspector>
auto inspect(Inspector& f, broadcast_stats& s) {
  return f(s.executor_id, s.fetches, s.pieces_from_driver, s.pieces_from_peers, s.bad_peer_pieces);
}

namespace detail {

using broadcast_decoder = std::shared_ptr<const void> (*)(std::string_view serialized);

// What a task thread reaches broadcasts through: the executor's store (and, in a cluster, its way
// to fetch pieces). The executor sets it around every task it runs (broadcast_scope).
class broadcast_source {
public:
  virtual ~broadcast_source() = default;
  // The value of broadcast `id`, decoded by `decode` at most once per process. Throws
  // storage::broadcast_error (destroyed, too large, a piece that cannot be fetched).
  virtual std::shared_ptr<const void> value(uint64_t id, const std::string& type, broadcast_decoder decode) = 0;
  virtual broadcast_stats stats(uint64_t id) const = 0;
};

inline broadcast_source*& current_broadcast_source() {
  thread_local broadcast_source* source = nullptr;
  return source;
}

class broadcast_scope {
public:
  explicit broadcast_scope(broadcast_source* s) : previous_(std::exchange(current_broadcast_source(), s)) {}
  ~broadcast_scope() { current_broadcast_source() = previous_; }
  broadcast_scope(const broadcast_scope&) = delete;
  broadcast_scope& operator=(const broadcast_scope&) = delete;

private:
  broadcast_source* previous_;
};

// The driver's half (actors/broadcast_driver.cpp): registers new broadcasts and removes them.
class broadcast_control {
public:
  virtual ~broadcast_control() = default;
  // Cuts `serialized` into pieces and serves them; `value` is the original (local mode tasks use it).
  virtual uint64_t create(std::string_view serialized, std::shared_ptr<const void> value, const char* type) = 0;
  // Drops executors' copies and waits until they did; the next use on an executor fetches again.
  virtual void unpersist(uint64_t id) = 0;
  // Drops every copy, the driver's too; any later use fails with an error naming the broadcast.
  virtual void destroy(uint64_t id) = 0;
  virtual bool destroyed(uint64_t id) const = 0;
};

template <class T>
std::shared_ptr<const void> decode_broadcast(std::string_view serialized) {
  byte_reader r{serialized};
  auto v = std::make_shared<T>();
  deserialize(r, *v);
  if (!r.at_end())
    throw serde_error("broadcast value: trailing bytes");
  return v;
}

} // namespace detail

template <class T>
class broadcast {
public:
  broadcast() = default;

  uint64_t id() const { return id_; }

  // The value: on the driver the original; on an executor a copy fetched once per executor process
  // (shared by its task threads). Throws storage::broadcast_error naming the broadcast when it was
  // destroyed or cannot be fetched (the task fails with that line).
  const T& value() const {
    if (local_) {
      if (control_ && control_->destroyed(id_))
        throw storage::broadcast_error("broadcast " + std::to_string(id_) + " was destroyed; it cannot be used any more");
      return *local_;
    }
    if (!fetched_) {
      auto* source = detail::current_broadcast_source();
      if (!source)
        throw storage::broadcast_error("broadcast " + std::to_string(id_)
                                       + ": value() outside a task needs the handle ctx.broadcast returned");
      fetched_ = std::static_pointer_cast<const T>(source->value(id_, typeid(T).name(), &detail::decode_broadcast<T>));
    }
    return *fetched_;
  }

  // Driver only (the handle ctx.broadcast returned).
  void unpersist() const { control("unpersist").unpersist(id_); }
  void destroy() const { control("destroy").destroy(id_); }

  // Inside a task: how the executor running it got this broadcast (after value() was used there).
  broadcast_stats local_stats() const {
    auto* source = detail::current_broadcast_source();
    return source ? source->stats(id_) : broadcast_stats{};
  }

  // Ships as id and type name, never the value.
  template <class Inspector>
  friend auto inspect(Inspector& f, broadcast& b) {
    std::string type = typeid(T).name();
    f(b.id_, type);
    if constexpr (requires { requires Inspector::is_loading; })
      if (type != typeid(T).name())
        throw serde_error("broadcast " + std::to_string(b.id_) + ": shipped as another type");
  }

private:
  friend class context;
  broadcast(uint64_t id, std::shared_ptr<const T> local, std::shared_ptr<detail::broadcast_control> control)
    : id_(id), local_(std::move(local)), control_(std::move(control)) {}

  detail::broadcast_control& control(const char* what) const {
    if (!control_)
      throw storage::broadcast_error("broadcast " + std::to_string(id_) + ": " + what
                                     + " is called on the driver, with the handle ctx.broadcast returned");
    return *control_;
  }

  uint64_t id_ = 0;
  std::shared_ptr<const T> local_;                      // the driver's handle: the original value
  std::shared_ptr<detail::broadcast_control> control_;  // the driver's handle
  mutable std::shared_ptr<const T> fetched_;            // an executor's handle, after the first value()
};

} // namespace ember
