// The message types the wire fuzzer and its seed corpus share: index i of EMBER_WIRE_MESSAGES is
// the first byte of an input (modulo their count), so a corpus file keeps its type when the list
// grows at the end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "protocol/messages.hpp"

namespace ember::fuzz {

#define EMBER_FUZZ_COUNT(T) +1
inline constexpr std::size_t wire_type_count = 0 EMBER_WIRE_MESSAGES(EMBER_FUZZ_COUNT);
#undef EMBER_FUZZ_COUNT

/// Calls f.template operator()<proto::T>() for the message type with index `selector % count`.
template <class F>
void dispatch_wire_type(std::uint8_t selector, F&& f) {
  std::size_t want = selector % wire_type_count;
  std::size_t i = 0;
#define EMBER_FUZZ_CASE(T)                                                                         \
  if (i++ == want) {                                                                               \
    f.template operator()<::ember::proto::T>();                                                    \
    return;                                                                                        \
  }
  EMBER_WIRE_MESSAGES(EMBER_FUZZ_CASE)
#undef EMBER_FUZZ_CASE
}

} // namespace ember::fuzz
