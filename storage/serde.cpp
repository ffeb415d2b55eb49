// Out-of-line error paths of the record serializer (storage/serde.hpp).
#include "storage/serde.hpp"

namespace ember::detail {

void throw_underflow(size_t wanted, size_t offset, size_t available) {
  throw serde_error("serde: truncated input: need " + std::to_string(wanted) + " bytes at offset " +
                    std::to_string(offset) + ", only " + std::to_string(available) + " left");
}

void throw_serde(const std::string& what, size_t offset) {
  throw serde_error("serde: " + what + " at offset " + std::to_string(offset));
}

} // namespace ember::detail
