// Helpers shared by the actors: conversions between the plain structs of scheduler/ and api/
// and their Cap'n Proto messages, and the few atoms (timers, internal ticks).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <caf/atom.hpp>

#include "api/task.hpp"
#include "protocol/driver.capnp.h"
#include "protocol/messages.hpp"
#include "protocol/wire.hpp"
#include "scheduler/map_output_registry.hpp"
#include "storage/block_manager.hpp"

namespace ember::actors {

inline std::string_view view(capnp::Data::Reader d) {
  return {reinterpret_cast<const char*>(d.begin()), d.size()};
}

inline std::string str(capnp::Text::Reader t) { return {t.cStr(), t.size()}; }

inline kj::ArrayPtr<const kj::byte> bytes(std::string_view s) {
  return {reinterpret_cast<const kj::byte*>(s.data()), s.size()};
}

void fill(proto::MapStatus::Builder b, const scheduler::map_status& s);
scheduler::map_status to_status(proto::MapStatus::Reader r);
// The kinds of BlockId a block manager stores (rdd, broadcast); nullopt for the others.
std::optional<storage::block_id> to_block_id(proto::BlockId::Reader id);
// What an UpdateBlockInfo reports; nullopt when it names a block kind no block manager stores.
std::optional<storage::block_status> to_block_status(proto::UpdateBlockInfo::Reader r);
// A map output's index file sits beside its data file: X.data -> X.index.
std::string index_path_for(const std::string& data_path);

} // namespace ember::actors
