// Frame decoding and validation for wire<T> (see wire.hpp for the frame layout). Everything
// that can go wrong with untrusted bytes ends here as a caf::error naming the expected type.
#include "protocol/wire.hpp"

#include <cstring>
#include <exception>
#include <limits>

#include <caf/message.hpp>
#include <capnp/dynamic.h>
#include <capnp/schema.capnp.h>
#include <kj/exception.h>

namespace ember {

namespace {

// Id of the `required` annotation declared in common.capnp.
constexpr std::uint64_t required_annotation_id = 0xf7c70f3647be86ecull;

std::string hex(std::uint64_t x) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out = "0x";
  for (int shift = 60; shift >= 0; shift -= 4)
    out += digits[(x >> shift) & 0xf];
  return out;
}

std::uint32_t load_u32(const unsigned char* p) {
  return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16
         | std::uint32_t{p[3]} << 24;
}

std::uint64_t load_u64(const unsigned char* p) {
  return std::uint64_t{load_u32(p)} | std::uint64_t{load_u32(p + 4)} << 32;
}

void store_u32(char* p, std::uint32_t x) {
  for (int i = 0; i < 4; ++i)
    p[i] = static_cast<char>((x >> (8 * i)) & 0xff);
}

void store_u64(char* p, std::uint64_t x) {
  store_u32(p, static_cast<std::uint32_t>(x));
  store_u32(p + 4, static_cast<std::uint32_t>(x >> 32));
}

std::string name_of(capnp::StructSchema schema) {
  return std::string{schema.getShortDisplayName().cStr()};
}

caf::error frame_error(wire_errc code, capnp::StructSchema schema, const std::string& what) {
  return caf::make_error(code, "malformed " + name_of(schema) + " frame: " + what);
}

bool is_required(capnp::schema::Field::Reader proto) {
  for (auto annotation : proto.getAnnotations())
    if (annotation.getId() == required_annotation_id)
      return true;
  return false;
}

// -- schema walk: enum values, union discriminants, required fields ------------------------------
// Reads every pointer the schema declares, as the type the schema declares (a Text must be a
// NUL-terminated byte list, a List(UInt64) a list of 8-byte elements...), so a frame that passes
// can be read in full by any handler without an exception. Returns a description of the first
// semantic problem, or an empty string; structural problems throw kj::Exception. Recursion depth
// is bounded by the reader's nesting limit (deeper pointers throw before we get there).

// Where a field is, as "Root.field[2].inner": built only for an error message (a walk over a
// batch of thousands of updates must not build a string per field).
struct path_ref {
  const path_ref* parent = nullptr;
  std::string_view name; // the root's name, or a field's name
  int64_t index = -1;    // >= 0: element `index` of the parent list
  std::string str() const {
    if (!parent)
      return std::string{name};
    if (index >= 0)
      return parent->str() + "[" + std::to_string(index) + "]";
    return parent->str() + "." + std::string{name};
  }
};

std::string walk_struct(capnp::DynamicStruct::Reader s, const path_ref& path);

std::string walk_list(capnp::DynamicList::Reader list, const path_ref& path) {
  auto element = list.getSchema().getElementType();
  auto at = [&](unsigned i) { return path_ref{&path, {}, static_cast<int64_t>(i)}; };
  switch (element.which()) {
    case capnp::schema::Type::ENUM:
      for (unsigned i = 0; i < list.size(); ++i) {
        auto value = list[i].as<capnp::DynamicEnum>();
        if (value.getEnumerant() == nullptr)
          return at(i).str() + ": unknown enum value " + std::to_string(value.getRaw());
      }
      return {};
    case capnp::schema::Type::STRUCT:
      for (unsigned i = 0; i < list.size(); ++i)
        if (auto problem = walk_struct(list[i].as<capnp::DynamicStruct>(), at(i)); !problem.empty())
          return problem;
      return {};
    case capnp::schema::Type::LIST:
      for (unsigned i = 0; i < list.size(); ++i)
        if (auto problem = walk_list(list[i].as<capnp::DynamicList>(), at(i)); !problem.empty())
          return problem;
      return {};
    case capnp::schema::Type::TEXT:
      for (unsigned i = 0; i < list.size(); ++i)
        list[i].as<capnp::Text>();
      return {};
    case capnp::schema::Type::DATA:
      for (unsigned i = 0; i < list.size(); ++i)
        list[i].as<capnp::Data>();
      return {};
    case capnp::schema::Type::ANY_POINTER:
    case capnp::schema::Type::INTERFACE:
      return path.str() + ": capabilities and AnyPointer are not allowed in messages";
    default:  // primitive elements: getting the list already checked their size
      return {};
  }
}

std::string walk_field(capnp::DynamicStruct::Reader s, capnp::StructSchema::Field field, const path_ref& path) {
  auto proto = field.getProto();
  auto name = proto.getName();
  path_ref field_path{&path, std::string_view{name.cStr(), name.size()}};
  if (proto.isGroup())
    return walk_struct(s.get(field).as<capnp::DynamicStruct>(), field_path);
  // The type as declared (cheap), not field.getType() (which resolves schemas for every field).
  auto type = proto.getSlot().getType().which();
  auto missing = [&] { return field_path.str() + ": required field is missing"; };
  switch (type) {
    case capnp::schema::Type::ENUM: {
      auto value = s.get(field).as<capnp::DynamicEnum>();
      if (value.getEnumerant() == nullptr)
        return field_path.str() + ": unknown enum value " + std::to_string(value.getRaw());
      return {};
    }
    case capnp::schema::Type::STRUCT:
      if (!s.has(field))
        return is_required(proto) ? missing() : std::string{};
      return walk_struct(s.get(field).as<capnp::DynamicStruct>(), field_path);
    case capnp::schema::Type::TEXT:  // reading checks the element size and the NUL terminator
      if (!s.has(field))
        return is_required(proto) ? missing() : std::string{};
      if (s.get(field).as<capnp::Text>().size() == 0 && is_required(proto))
        return missing();
      return {};
    case capnp::schema::Type::DATA:
      if (!s.has(field))
        return is_required(proto) ? missing() : std::string{};
      if (s.get(field).as<capnp::Data>().size() == 0 && is_required(proto))
        return missing();
      return {};
    case capnp::schema::Type::LIST: {
      if (!s.has(field))
        return is_required(proto) ? missing() : std::string{};
      auto list = s.get(field).as<capnp::DynamicList>();
      if (list.size() == 0 && is_required(proto))
        return missing();
      return walk_list(list, field_path);
    }
    case capnp::schema::Type::ANY_POINTER:
    case capnp::schema::Type::INTERFACE:
      return field_path.str() + ": capabilities and AnyPointer are not allowed in messages";
    default:
      return {};
  }
}

std::string walk_struct(capnp::DynamicStruct::Reader s, const path_ref& path) {
  auto schema = s.getSchema();
  for (auto field : schema.getNonUnionFields())
    if (auto problem = walk_field(s, field, path); !problem.empty())
      return problem;
  if (schema.getProto().getStruct().getDiscriminantCount() > 0) {
    KJ_IF_MAYBE (active, s.which()) {
      return walk_field(s, *active, path);
    }
    return path.str() + ": unknown union member";
  }
  return {};
}

capnp::ReaderOptions unlimited_options(int nesting_limit) {
  capnp::ReaderOptions options;
  options.traversalLimitInWords = std::numeric_limits<std::uint64_t>::max();
  options.nestingLimit = nesting_limit;
  return options;
}

} // namespace

// -- errors ---------------------------------------------------------------------------------------

std::string to_string(wire_errc x) {
  switch (x) {
    case wire_errc::truncated:
      return "truncated";
    case wire_errc::too_large:
      return "too_large";
    case wire_errc::bad_magic:
      return "bad_magic";
    case wire_errc::wrong_type:
      return "wrong_type";
    case wire_errc::malformed:
      return "malformed";
    case wire_errc::invalid:
      return "invalid";
  }
  return "wire_errc(" + std::to_string(static_cast<int>(x)) + ")";
}

std::string describe(const caf::error& err) {
  if (!err)
    return "no error";
  const auto& ctx = err.context();
  if (err.category() == caf::atom("wire") && ctx.match_elements<std::string>())
    return ctx.get_as<std::string>(0);
  return caf::to_string(err);
}

namespace detail {

// -- storage --------------------------------------------------------------------------------------

wire_storage::wire_storage(kj::Array<capnp::word> words, int nesting_limit)
  : words_(std::move(words)),
    reader_(words_.asPtr(), unlimited_options(nesting_limit)),
    root_(reader_.getRoot<capnp::AnyPointer>()) {
  // nop
}

wire_storage_ptr store(capnp::MessageBuilder& builder) {
  return std::make_shared<const wire_storage>(capnp::messageToFlatArray(builder),
                                              wire_nesting_limit);
}

std::string encode_frame(std::uint64_t type_id, kj::ArrayPtr<const capnp::word> words) {
  auto payload = words.asBytes();
  std::string frame(frame_header_bytes + payload.size(), '\0');
  store_u32(frame.data(), frame_magic);
  store_u32(frame.data() + 4, static_cast<std::uint32_t>(payload.size()));
  store_u64(frame.data() + 8, type_id);
  if (payload.size() > 0)
    std::memcpy(frame.data() + frame_header_bytes, payload.begin(), payload.size());
  return frame;
}

caf::error oversized_frame(capnp::StructSchema schema, std::size_t size) {
  return frame_error(wire_errc::too_large, schema,
                     std::to_string(size) + " bytes exceed the limit of "
                       + std::to_string(frame_header_bytes + max_frame_bytes));
}

// -- validation -----------------------------------------------------------------------------------

caf::error validate(capnp::AnyPointer::Reader root, capnp::StructSchema schema) {
  try {
    auto root_name = name_of(schema);
    auto problem = walk_struct(root.getAs<capnp::DynamicStruct>(schema), path_ref{nullptr, root_name});
    if (!problem.empty())
      return caf::make_error(wire_errc::invalid, "invalid " + name_of(schema) + " message: " + problem);
    return caf::none;
  } catch (const kj::Exception& e) {
    return frame_error(wire_errc::malformed, schema, e.getDescription().cStr());
  } catch (const std::exception& e) {
    return frame_error(wire_errc::malformed, schema, e.what());
  }
}

caf::expected<wire_storage_ptr> decode_frame(const void* data, std::size_t size,
                                             capnp::StructSchema schema,
                                             const wire_limits& limits) {
  if (size < frame_header_bytes || data == nullptr)
    return frame_error(wire_errc::truncated, schema,
                       "truncated: " + std::to_string(size) + " bytes, the header alone needs "
                         + std::to_string(frame_header_bytes));
  auto bytes = static_cast<const unsigned char*>(data);
  auto magic = load_u32(bytes);
  if (magic != frame_magic)
    return frame_error(wire_errc::bad_magic, schema, "not an Ember frame (magic " + hex(magic) + ")");
  std::size_t declared = load_u32(bytes + 4);
  auto type_id = load_u64(bytes + 8);
  if (type_id != schema.getProto().getId()) {
    auto other = wire_name_of(type_id);
    return caf::make_error(wire_errc::wrong_type,
                           "expected " + name_of(schema) + ", got "
                             + (other.empty() ? "type " + hex(type_id) : other + " (" + hex(type_id) + ")"));
  }
  if (declared > limits.max_frame_bytes)
    return frame_error(wire_errc::too_large, schema,
                       "payload of " + std::to_string(declared) + " bytes exceeds the limit of "
                         + std::to_string(limits.max_frame_bytes));
  auto available = size - frame_header_bytes;
  if (available < declared)
    return frame_error(wire_errc::truncated, schema,
                       "truncated: header declares " + std::to_string(declared)
                         + " payload bytes, got " + std::to_string(available));
  if (available > declared)
    return frame_error(wire_errc::malformed, schema,
                       std::to_string(available - declared) + " bytes after the payload");
  if (declared == 0 || declared % sizeof(capnp::word) != 0)
    return frame_error(wire_errc::malformed, schema,
                       "payload of " + std::to_string(declared) + " bytes is not a whole number of words");
  auto words = kj::heapArray<capnp::word>(declared / sizeof(capnp::word));
  std::memcpy(words.begin(), bytes + frame_header_bytes, declared);
  try {
    capnp::ReaderOptions options;
    options.traversalLimitInWords =
      words.size() * limits.traversal_words_per_frame_word + limits.traversal_slack_words;
    options.nestingLimit = limits.nesting_limit;
    capnp::FlatArrayMessageReader checker(words.asPtr(), options);
    if (checker.getEnd() != words.end())
      return frame_error(wire_errc::malformed, schema,
                         std::to_string(words.end() - checker.getEnd())
                           + " words after the Cap'n Proto message");
    auto root = checker.getRoot<capnp::AnyPointer>();
    if (root.getPointerType() != capnp::PointerType::STRUCT)
      return frame_error(wire_errc::malformed, schema, "root is not a struct");
    // Follows every pointer once: bounds and nesting are checked here, so later reads through
    // wire<T>::reader() cannot fail on this frame. Each object of an honest message is reachable
    // once, so more reachable words than the payload holds means pointers alias the same data
    // (an amplification attack): the stored reader has no traversal budget, so reject it here.
    auto reachable = root.targetSize().wordCount;
    if (reachable > words.size())
      return frame_error(wire_errc::malformed, schema,
                         "pointers alias the same data (" + std::to_string(reachable)
                           + " words reachable from a payload of " + std::to_string(words.size())
                           + ")");
    if (auto err = validate(root, schema))
      return err;
  } catch (const kj::Exception& e) {
    return frame_error(wire_errc::malformed, schema, e.getDescription().cStr());
  } catch (const std::exception& e) {
    return frame_error(wire_errc::malformed, schema, e.what());
  }
  try {
    return std::make_shared<const wire_storage>(std::move(words), limits.nesting_limit);
  } catch (const std::exception& e) {
    return frame_error(wire_errc::malformed, schema, e.what());
  }
}

} // namespace detail

} // namespace ember
