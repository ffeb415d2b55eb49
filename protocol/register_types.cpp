// See register_types.hpp. Also defines wire_name_of(), which needs the same list.
#include "protocol/register_types.hpp"

#include <string>

#include "protocol/messages.hpp"
#include "protocol/wire.hpp"

namespace ember {

void register_types(caf::actor_system_config& cfg) {
#define EMBER_REGISTER_WIRE(name) cfg.add_message_type<wire<proto::name>>("wire<" #name ">");
  EMBER_WIRE_MESSAGES(EMBER_REGISTER_WIRE)
#undef EMBER_REGISTER_WIRE
  cfg.add_error_category(caf::atom("wire"),
                         [](std::uint8_t code, caf::atom_value, const caf::message& ctx) {
                           std::string result = "wire_error(" + to_string(static_cast<wire_errc>(code));
                           if (ctx.match_elements<std::string>())
                             result += ": " + ctx.get_as<std::string>(0);
                           return result + ")";
                         });
}

std::string wire_name_of(std::uint64_t type_id) {
#define EMBER_WIRE_NAME(name)                                                                    \
  if (type_id == capnp::typeId<proto::name>())                                                   \
    return #name;
  EMBER_WIRE_MESSAGES(EMBER_WIRE_NAME)
#undef EMBER_WIRE_NAME
  return {};
}

} // namespace ember
