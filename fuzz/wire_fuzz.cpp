// libFuzzer target: wire<T>::decode, the gate every message from the network passes (CAF's
// deserializer hands each wire<T> frame to it, protocol/wire.hpp). The first input byte picks the
// message type (an index into EMBER_WIRE_MESSAGES), the rest is the frame. A frame that decodes
// must behave like an honest message: its text form can be printed (walks every field) and it
// re-encodes to a frame that decodes to the same text.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <kj/string.h>

#include "fuzz/wire_types.hpp"
#include "protocol/wire.hpp"

namespace {

template <class T>
void check(const std::uint8_t* data, std::size_t size) {
  auto decoded = ember::wire<T>::decode(data, size);
  if (!decoded) {
    // Every rejection carries its one-line reason; rendering it must not fail either.
    if (ember::describe(decoded.error()).empty())
      std::abort();
    return;
  }
  std::string text = kj::str(decoded->reader()).cStr();
  auto again = ember::wire<T>::decode(decoded->encode());
  if (!again || std::string{kj::str(again->reader()).cStr()} != text)
    std::abort();  // an accepted frame that does not survive its own round trip
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0)
    return 0;
  ember::fuzz::dispatch_wire_type(data[0], [&]<class T>() { check<T>(data + 1, size - 1); });
  return 0;
}
