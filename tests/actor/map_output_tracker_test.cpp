// The map_output_tracker actor under the test coordinator: what the dag scheduler tells it
// (RegisterShuffle, MapStatus, UnregisterMapOutput, ExecutorLost) is what reducers asking
// GetMapOutputs learn, with the epoch growing at every removal.
#define CAF_SUITE map_output_tracker
#include <sstream>
#include <string>

#include "tests/actor/actor_fixture.hpp"

#include "actors/conversions.hpp"
#include "actors/map_output_tracker.hpp"

using namespace ember;
using namespace ember::actors;
using ember::actor_test::recorder;

namespace {

struct tracker_fixture : actor_test::fixture {
  recorder dag = stand_in();     // the only one who changes the tracker
  recorder reducer = stand_in(); // asks it
  caf::actor tracker = started(spawn_map_output_tracker(sys));

  void tell(const caf::message& m) {
    caf::send_as(dag.handle, tracker, m);
    sched.run();
  }
  void register_shuffle(uint32_t shuffle, uint32_t maps) {
    tell(caf::make_message(make_wire<proto::RegisterShuffle>([&](proto::RegisterShuffle::Builder b) {
      b.setShuffleId(shuffle);
      b.setNumMaps(maps);
    })));
  }
  void output(uint32_t shuffle, uint32_t map, const std::string& exec) {
    tell(caf::make_message(make_wire<proto::MapStatus>([&](proto::MapStatus::Builder b) {
      b.setShuffleId(shuffle);
      b.setMapIndex(map);
      b.setMapId(100 + map);
      b.setExecutorId(exec);
      b.setHost("host-" + exec);
      b.setPort(7000);
      auto sizes = b.initSizes(2);
      sizes.set(0, 10);
      sizes.set(1, 20);
      b.setDataPath("/tmp/" + exec + "/shuffle_" + std::to_string(shuffle) + "_" + std::to_string(map) + ".data");
    })));
  }
  void unregister(uint32_t shuffle, uint32_t map, const std::string& holder) {
    tell(caf::make_message(make_wire<proto::UnregisterMapOutput>([&](proto::UnregisterMapOutput::Builder b) {
      b.setShuffleId(shuffle);
      b.setMapIndex(map);
      b.setExecutorId(holder);
      b.setReason("fetch failed");
    })));
  }
  void lost(const std::string& exec) {
    tell(caf::make_message(make_wire<proto::ExecutorLost>([&](proto::ExecutorLost::Builder b) {
      b.setExecutorId(exec);
      b.setCause(proto::ExecutorLossCause::HEARTBEAT_TIMEOUT);
    })));
  }

  // "epoch <n>: <map>@<executor>(<sizes>,<index path>) ... missing <maps>"
  std::string ask(uint32_t shuffle) {
    caf::send_as(reducer.handle, tracker, make_wire<proto::GetMapOutputs>([&](proto::GetMapOutputs::Builder b) {
      b.setShuffleId(shuffle);
    }));
    sched.run();
    auto answers = reducer.all<proto::MapOutputs>();
    if (answers.empty())
      return "no answer";
    auto r = answers.back().reader();
    std::ostringstream out;
    out << "epoch " << r.getEpoch() << ":";
    for (auto s : r.getStatuses()) {
      auto st = to_status(s);
      out << ' ' << st.map_id << '@' << st.executor_id << '(' << st.sizes.at(1) << ',' << st.index_path << ')';
    }
    out << " missing";
    for (auto m : r.getMissingMapIndexes())
      out << ' ' << m;
    return out.str();
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(map_output_tracker_tests, tracker_fixture)

CAF_TEST(locations are given once every map output of the shuffle is registered) {
  CAF_CHECK_EQUAL(ask(3), "epoch 0: missing"); // an unknown shuffle
  register_shuffle(3, 3);
  CAF_CHECK_EQUAL(ask(3), "epoch 0: missing 0 1 2");
  output(3, 0, "e1");
  output(3, 2, "e2");
  CAF_CHECK_EQUAL(ask(3), "epoch 0: missing 1");
  output(3, 1, "e1");
  CAF_CHECK_EQUAL(ask(3), "epoch 0: 0@e1(20,/tmp/e1/shuffle_3_0.index) 1@e1(20,/tmp/e1/shuffle_3_1.index) "
                          "2@e2(20,/tmp/e2/shuffle_3_2.index) missing");
  register_shuffle(3, 3); // idempotent: the outputs stay
  CAF_CHECK_EQUAL(ask(3), "epoch 0: 0@e1(20,/tmp/e1/shuffle_3_0.index) 1@e1(20,/tmp/e1/shuffle_3_1.index) "
                          "2@e2(20,/tmp/e2/shuffle_3_2.index) missing");
  CAF_CHECK_EQUAL(dag.size(), 0u); // the tracker never answers its feeder
}

CAF_TEST(an output is unregistered only at the holder named and a lost executor loses all of its outputs) {
  register_shuffle(1, 3);
  register_shuffle(2, 2);
  output(1, 0, "e1");
  output(1, 1, "e2");
  output(1, 2, "e1");
  output(2, 0, "e1");
  output(2, 1, "e3");
  unregister(1, 1, "e9"); // a newer attempt's output on e2 replaced the one that failed
  CAF_CHECK_EQUAL(ask(1), "epoch 0: 0@e1(20,/tmp/e1/shuffle_1_0.index) 1@e2(20,/tmp/e2/shuffle_1_1.index) "
                          "2@e1(20,/tmp/e1/shuffle_1_2.index) missing");
  unregister(1, 1, "e2");
  CAF_CHECK_EQUAL(ask(1), "epoch 1: missing 1");
  lost("e1");
  CAF_CHECK_EQUAL(ask(1), "epoch 2: missing 0 1 2");
  CAF_CHECK_EQUAL(ask(2), "epoch 2: missing 0");
  output(2, 0, "e3");
  CAF_CHECK_EQUAL(ask(2), "epoch 2: 0@e3(20,/tmp/e3/shuffle_2_0.index) 1@e3(20,/tmp/e3/shuffle_2_1.index) missing");
  unregister(2, 0, ""); // no holder named: whoever holds it
  CAF_CHECK_EQUAL(ask(2), "epoch 3: missing 0");
}

CAF_TEST_FIXTURE_SCOPE_END()
