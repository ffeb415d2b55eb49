// wire<T>: the typed, immutable handle on one Cap'n Proto message (root struct T) that actors
// exchange, and the frame that carries it between processes (CAF's serializer, event log).
// Every actor of every process receives these; decode() is the single validation gate.
//
// Frame (little-endian, 16-byte header keeps the payload word-aligned):
//
//   0        4                8                       16
//   +--------+----------------+-----------------------+--------------------------------+
//   | magic  | payload bytes  | schema type id of T   | Cap'n Proto flat message       |
//   | "EMBW" | u32, % 8 == 0  | u64 capnp::typeId<T>  | (segment table + segments)     |
//   +--------+----------------+-----------------------+--------------------------------+
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/type_name.hpp>
#include <capnp/message.h>
#include <capnp/schema.h>
#include <capnp/serialize.h>
#include <kj/array.h>

namespace ember {

// -- limits ------------------------------------------------------------------------------------

/// Largest payload a frame may declare. Bulk data travels in chunks of
/// ember.network.maxChunkSize (far below this), so only a bug or a hostile peer hits it.
inline constexpr std::size_t max_frame_bytes = std::size_t{64} << 20;

/// Traversal budget per payload word. Decoding reads an honest message about twice (pointer check
/// + schema walk); a frame whose pointers alias the same data to look bigger than it is stops
/// after this many times its own size, so a small frame can never cost much CPU.
inline constexpr std::uint64_t traversal_words_per_frame_word = 4;

/// Slack added to the traversal budget so tiny messages (a few words) decode comfortably.
inline constexpr std::uint64_t traversal_slack_words = 1024;

/// Deepest pointer nesting accepted. Our schemas nest about 6 levels (ListenerEvent -> TaskEndEvent
/// -> TaskError -> ...); TaskError.cause chains are the only recursion and senders keep them short.
inline constexpr int wire_nesting_limit = 32;

inline constexpr std::size_t frame_header_bytes = 16;
inline constexpr std::uint32_t frame_magic = 0x57424d45;  // "EMBW" read as little-endian u32

/// The limits decode() applies. Tests pass smaller ones; production code uses the defaults.
struct wire_limits {
  std::size_t max_frame_bytes = ember::max_frame_bytes;
  std::uint64_t traversal_words_per_frame_word = ember::traversal_words_per_frame_word;
  std::uint64_t traversal_slack_words = ember::traversal_slack_words;
  int nesting_limit = wire_nesting_limit;
};

// -- errors --------------------------------------------------------------------------------------

/// Why a frame was rejected. Every error also carries a one-line message naming the expected type.
enum class wire_errc : std::uint8_t {
  truncated = 1,  // shorter than its header or than the payload the header declares
  too_large,      // declares (or is) more than max_frame_bytes
  bad_magic,      // not an Ember frame at all
  wrong_type,     // a valid frame of another root type
  malformed,      // Cap'n Proto rejected it: bad pointers, limits exceeded, trailing bytes
  invalid,        // well-formed but semantically invalid: unknown enum/union value, missing field
};

std::string to_string(wire_errc x);

/// The human message of an error made by this component ("malformed StatusUpdate frame: ..."),
/// or CAF's rendering for other errors.
std::string describe(const caf::error& err);

} // namespace ember

CAF_ERROR_CODE_ENUM(ember::wire_errc, "wire")

namespace ember {

// -- names ---------------------------------------------------------------------------------------

/// The schema name of T, e.g. "StatusUpdate".
template <class T>
std::string wire_name() {
  return std::string{capnp::Schema::from<T>().getShortDisplayName().cStr()};
}

/// Name of a registered message type by schema id (for "expected X, got Y" errors); empty if the
/// id is not one of protocol/messages.hpp.
std::string wire_name_of(std::uint64_t type_id);

namespace detail {

/// The bytes of one validated message plus a reader over them. Shared (immutably) by every copy of
/// a wire<T>, so a CAF message can go to many actors without copying the payload.
class wire_storage {
public:
  wire_storage(kj::Array<capnp::word> words, int nesting_limit);
  wire_storage(const wire_storage&) = delete;
  wire_storage& operator=(const wire_storage&) = delete;

  kj::ArrayPtr<const capnp::word> words() const { return words_.asPtr(); }
  capnp::AnyPointer::Reader root() const { return root_; }

private:
  kj::Array<capnp::word> words_;
  // Traversal-unlimited: the frame was fully checked once in decode(), and later reads (from any
  // number of actors and threads) must not exhaust a shared budget.
  capnp::FlatArrayMessageReader reader_;
  capnp::AnyPointer::Reader root_;
};

using wire_storage_ptr = std::shared_ptr<const wire_storage>;

wire_storage_ptr store(capnp::MessageBuilder& builder);
caf::expected<wire_storage_ptr> decode_frame(const void* data, std::size_t size,
                                             capnp::StructSchema schema, const wire_limits& limits);
caf::error validate(capnp::AnyPointer::Reader root, capnp::StructSchema schema);
std::string encode_frame(std::uint64_t type_id, kj::ArrayPtr<const capnp::word> words);
caf::error oversized_frame(capnp::StructSchema schema, std::size_t size);

} // namespace detail

// -- wire<T> -------------------------------------------------------------------------------------

template <class T>
class wire {
public:
  using root_type = T;
  using reader_type = typename T::Reader;

  /// A default-constructed wire reads as the default message of T (all fields default).
  wire() = default;

  /// Zero-copy reader; valid as long as any copy of this wire lives.
  reader_type reader() const {
    if (!storage_)
      return reader_type{};
    return storage_->root().template getAs<T>();
  }

  bool empty() const noexcept { return storage_ == nullptr; }

  /// Takes a snapshot of a builder whose root is a T (the builder can be discarded afterwards).
  static wire from_builder(capnp::MessageBuilder& builder) {
    return wire{detail::store(builder)};
  }

  /// Decodes and fully validates one frame; never throws. Errors name T.
  static caf::expected<wire> decode(const void* data, std::size_t size,
                                    const wire_limits& limits = wire_limits{}) {
    auto stored = detail::decode_frame(data, size, capnp::Schema::from<T>(), limits);
    if (!stored)
      return std::move(stored.error());
    return wire{std::move(*stored)};
  }

  static caf::expected<wire> decode(std::string_view frame,
                                    const wire_limits& limits = wire_limits{}) {
    return decode(frame.data(), frame.size(), limits);
  }

  /// The frame (header + payload) for this message.
  std::string encode() const {
    if (!storage_) {
      capnp::MallocMessageBuilder builder;
      builder.initRoot<T>();
      return from_builder(builder).encode();
    }
    return detail::encode_frame(capnp::typeId<T>(), storage_->words());
  }

  /// Size of encode()'s result without building it.
  std::size_t frame_size() const {
    return storage_ ? frame_header_bytes + storage_->words().size() * sizeof(capnp::word)
                    : encode().size();
  }

  /// The semantic checks decode() applies (enum and union values known, required fields set), for
  /// messages built locally: local mode delivers without encoding, so this is how it fails alike.
  caf::error check() const {
    if (!storage_)
      return caf::none;
    return detail::validate(storage_->root(), capnp::Schema::from<T>());
  }

  /// Same payload bytes (not: equal field values).
  friend bool same_payload(const wire& x, const wire& y) {
    return x.storage_ == y.storage_;
  }

private:
  explicit wire(detail::wire_storage_ptr storage) : storage_(std::move(storage)) {
    // nop
  }

  detail::wire_storage_ptr storage_;
};

/// Builds a message: `auto m = make_wire<proto::KillTask>([](auto b) { b.setTaskId(7); });`
template <class T, class F>
wire<T> make_wire(F&& fill) {
  // Cap'n Proto's default first segment is 8 KiB, zeroed: per message that cost more than the
  // rest of a task's scheduling. Control messages fit in 512 bytes; bigger ones grow.
  capnp::MallocMessageBuilder builder{64};
  fill(builder.initRoot<T>());
  return wire<T>::from_builder(builder);
}

/// For logs and CAF's deep_to_string: the message in Cap'n Proto text form.
template <class T>
std::string to_string(const wire<T>& x) {
  auto text = kj::str(x.reader());
  return wire_name<T>() + text.cStr();
}

/// CAF 0.17 serialization: a wire<T> crosses process boundaries as its frame (a length-prefixed
/// byte string, so CAF range-checks the length before allocating). Loading decodes with the full
/// validation; a bad frame becomes an error, which makes CAF's BASP drop that one message
/// (logged) and keep the connection.
template <class Inspector, class T>
typename Inspector::result_type inspect(Inspector& f, wire<T>& x) {
  static const std::string type_name = "wire<" + wire_name<T>() + ">";
  std::string frame;
  if constexpr (Inspector::reads_state) {
    frame = x.encode();
    if constexpr (std::is_same_v<typename Inspector::result_type, caf::error>)
      if (frame.size() > frame_header_bytes + max_frame_bytes)
        return detail::oversized_frame(capnp::Schema::from<T>(), frame.size());
  }
  auto load = caf::meta::load_callback([&]() -> caf::error {
    auto decoded = wire<T>::decode(frame);
    if (!decoded)
      return std::move(decoded.error());
    x = std::move(*decoded);
    return caf::none;
  });
  return f(caf::meta::type_name(type_name.c_str()), frame, load);
}

} // namespace ember
