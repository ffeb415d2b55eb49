// See sample_messages.hpp: test-only, so no production binary carries it.
#include "tests/support/sample_messages.hpp"

#include <string>
#include <vector>

#include <capnp/schema.capnp.h>

namespace ember {

namespace {

class filler {
public:
  filler(std::uint64_t seed, int max_depth) : seed_(seed), max_depth_(max_depth) {
    // nop
  }

  void fill_struct(capnp::DynamicStruct::Builder b, int depth) {
    auto schema = b.getSchema();
    for (auto field : schema.getNonUnionFields())
      fill_field(b, field, depth);
    auto members = schema.getUnionFields();
    if (members.size() > 0)
      fill_field(b, members[seed_ % members.size()], depth);
  }

private:
  std::uint64_t next() {
    return ++counter_ + seed_ * 1000;
  }

  capnp::DynamicValue::Reader scalar(capnp::Type type) {
    auto k = next();
    switch (type.which()) {
      case capnp::schema::Type::VOID:
        return capnp::VOID;
      case capnp::schema::Type::BOOL:
        return true;
      case capnp::schema::Type::INT8:
        return static_cast<int8_t>(-1 - static_cast<int8_t>(k % 100));
      case capnp::schema::Type::INT16:
        return static_cast<int16_t>(-1 - static_cast<int16_t>(k % 30000));
      case capnp::schema::Type::INT32:
        return -1 - static_cast<int32_t>(k % 2000000000);
      case capnp::schema::Type::INT64:
        return -1 - static_cast<int64_t>(k * 1000003);
      case capnp::schema::Type::UINT8:
        return static_cast<uint8_t>(2 + k % 250);  // 2..251: never 0 and never a default of 1
      case capnp::schema::Type::UINT16:
        return static_cast<uint16_t>(1000 + k % 60000);
      case capnp::schema::Type::UINT32:
        return static_cast<uint32_t>(100000 + k * 7919);
      case capnp::schema::Type::UINT64:
        return (k + 1) * 0x9e3779b97f4a7c15ull;
      case capnp::schema::Type::FLOAT32:
        return 1.5f + static_cast<float>(k % 1000);
      case capnp::schema::Type::FLOAT64:
        return 2.25 + static_cast<double>(k);
      case capnp::schema::Type::ENUM: {
        auto enumerants = type.asEnum().getEnumerants();
        auto index = enumerants.size() > 1 ? 1 + k % (enumerants.size() - 1) : 0;
        return capnp::DynamicEnum(enumerants[index]);
      }
      default:
        KJ_FAIL_REQUIRE("not a scalar type");
    }
  }

  void fill_field(capnp::DynamicStruct::Builder b, capnp::StructSchema::Field field, int depth) {
    auto proto = field.getProto();
    if (proto.isGroup()) {
      fill_struct(b.init(field).as<capnp::DynamicStruct>(), depth);
      return;
    }
    auto type = field.getType();
    switch (type.which()) {
      case capnp::schema::Type::TEXT:
        text_ = std::string{proto.getName().cStr()} + "-" + std::to_string(next());
        b.set(field, capnp::Text::Reader(text_.c_str()));
        return;
      case capnp::schema::Type::DATA:
        b.set(field, data(next()));
        return;
      case capnp::schema::Type::STRUCT:
        if (depth < max_depth_)
          fill_struct(b.init(field).as<capnp::DynamicStruct>(), depth + 1);
        return;
      case capnp::schema::Type::LIST:
        if (depth < max_depth_)
          fill_list(b.init(field, 2).as<capnp::DynamicList>(), depth + 1);
        return;
      case capnp::schema::Type::ANY_POINTER:
      case capnp::schema::Type::INTERFACE:
        return;
      default:
        b.set(field, scalar(type));
    }
  }

  void fill_list(capnp::DynamicList::Builder list, int depth) {
    auto element = list.getSchema().getElementType();
    for (unsigned i = 0; i < list.size(); ++i) {
      switch (element.which()) {
        case capnp::schema::Type::TEXT:
          text_ = "item-" + std::to_string(next());
          list.set(i, capnp::Text::Reader(text_.c_str()));
          break;
        case capnp::schema::Type::DATA:
          list.set(i, data(next()));
          break;
        case capnp::schema::Type::STRUCT:
          fill_struct(list[i].as<capnp::DynamicStruct>(), depth);
          break;
        case capnp::schema::Type::LIST:
          fill_list(list.init(i, 2).as<capnp::DynamicList>(), depth + 1);
          break;
        case capnp::schema::Type::ANY_POINTER:
        case capnp::schema::Type::INTERFACE:
          break;
        default:
          list.set(i, scalar(element));
      }
    }
  }

  capnp::Data::Reader data(std::uint64_t k) {
    bytes_.assign(3 + k % 13, 0);
    for (size_t i = 0; i < bytes_.size(); ++i)
      bytes_[i] = static_cast<capnp::byte>((k * 31 + i * 17) & 0xff);
    return capnp::Data::Reader(bytes_.data(), bytes_.size());
  }

  std::uint64_t seed_;
  int max_depth_;
  std::uint64_t counter_ = 0;
  std::string text_;               // backing store for the value being set (copied by set())
  std::vector<capnp::byte> bytes_;
};

} // namespace

void fill_sample(capnp::DynamicStruct::Builder target, std::uint64_t seed, int max_depth) {
  filler{seed, max_depth}.fill_struct(target, 0);
}

} // namespace ember
