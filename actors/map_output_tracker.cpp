#include "actors/map_output_tracker.hpp"

#include <caf/event_based_actor.hpp>

#include "actors/conversions.hpp"
#include "protocol/executor.capnp.h"
#include "protocol/shuffle.capnp.h"
#include "protocol/wire.hpp"
#include "scheduler/map_output_registry.hpp"

namespace ember::actors {

namespace {

class map_output_tracker : public caf::event_based_actor {
public:
  using caf::event_based_actor::event_based_actor;

  const char* name() const override { return "map_output_tracker"; }

  caf::behavior make_behavior() override {
    return {
      [this](const wire<proto::RegisterShuffle>& msg) {
        registry_.register_shuffle(msg.reader().getShuffleId(), msg.reader().getNumMaps());
      },
      [this](const wire<proto::MapStatus>& msg) { registry_.register_output(to_status(msg.reader())); },
      [this](const wire<proto::UnregisterMapOutput>& msg) {
        auto r = msg.reader();
        auto holder = str(r.getExecutorId());
        registry_.unregister_output(r.getShuffleId(), r.getMapIndex(), holder.empty() ? nullptr : &holder);
      },
      [this](const wire<proto::ExecutorLost>& msg) {
        registry_.remove_outputs_on_executor(str(msg.reader().getExecutorId()));
      },
      [this](const wire<proto::GetMapOutputs>& msg) { return map_outputs(msg.reader().getShuffleId()); },
    };
  }

private:
  wire<proto::MapOutputs> map_outputs(uint32_t shuffle) const {
    auto missing = registry_.missing_maps(shuffle);
    return make_wire<proto::MapOutputs>([&](proto::MapOutputs::Builder b) {
      b.setShuffleId(shuffle);
      b.setEpoch(registry_.epoch());
      auto ms = b.initMissingMapIndexes(static_cast<unsigned>(missing.size()));
      for (unsigned i = 0; i < missing.size(); ++i)
        ms.set(i, missing[i]);
      if (auto outs = registry_.outputs(shuffle)) {
        auto ss = b.initStatuses(static_cast<unsigned>(outs->size()));
        for (unsigned i = 0; i < outs->size(); ++i)
          fill(ss[i], (*outs)[i]);
      }
    });
  }

  scheduler::map_output_registry registry_;
};

} // namespace

caf::actor spawn_map_output_tracker(caf::actor_system& sys) {
  return sys.spawn<map_output_tracker>();
}

} // namespace ember::actors
