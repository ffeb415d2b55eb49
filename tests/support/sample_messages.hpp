// Deterministic sample messages for tests, fuzzers and benchmarks: every field of any message set
// to a non-default value derived from a seed, driven by the schema (so a field added to a .capnp
// file is covered without touching any test). Not used on any production path.
#pragma once

#include <cstdint>

#include <capnp/dynamic.h>
#include <capnp/message.h>

#include "protocol/wire.hpp"

namespace ember {

/// Fills every field of `target`: ints/enums non-default, Text/Data/List non-empty (lists of 2),
/// structs recursively (recursive types such as TaskError.cause stop after `max_depth` levels),
/// and for each union the member number `seed % members`.
void fill_sample(capnp::DynamicStruct::Builder target, std::uint64_t seed, int max_depth = 4);

template <class T>
wire<T> sample_wire(std::uint64_t seed, int max_depth = 4) {
  capnp::MallocMessageBuilder builder;
  fill_sample(builder.initRoot<capnp::DynamicStruct>(capnp::Schema::from<T>()), seed, max_depth);
  return wire<T>::from_builder(builder);
}

/// The message in Cap'n Proto text form (every non-default field), for exact comparisons.
template <class T>
std::string text_of(const wire<T>& x) {
  return kj::str(x.reader()).cStr();
}

} // namespace ember
