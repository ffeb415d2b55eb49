// The block_manager_master actor under the test coordinator, with stand-ins for the executors'
// block managers and for the dag scheduler watching the RDD blocks: the location table,
// replication of _2 levels (the report's acknowledgement waits for the copy), unpersist
// (answered once every executor dropped the RDD) and executor loss.
#define CAF_SUITE block_manager_master
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/actor/actor_fixture.hpp"

#include "actors/block_manager_master_actor.hpp"
#include "actors/conversions.hpp"

using namespace std::chrono_literals;
using namespace ember;
using namespace ember::actors;
using ember::actor_test::recorder;

namespace {

// An executor's block manager: records what the master asks ("replicate rdd_1_0 from e1",
// "remove rdd 4") and answers by echoing, at once or, while `hold`, when it gets caf::ok_atom.
struct block_manager_stand_in {
  caf::actor handle;
  std::shared_ptr<std::vector<std::string>> asked = std::make_shared<std::vector<std::string>>();
  std::shared_ptr<bool> hold = std::make_shared<bool>(false);
  std::shared_ptr<std::vector<std::pair<caf::response_promise, wire<proto::ReplicateBlock>>>> held =
    std::make_shared<std::vector<std::pair<caf::response_promise, wire<proto::ReplicateBlock>>>>();
  std::shared_ptr<std::vector<caf::message>> got = std::make_shared<std::vector<caf::message>>();
};

struct master_fixture : actor_test::fixture {
  recorder dag = stand_in(); // watches the RDD blocks
  recorder user = stand_in(); // unpersist
  caf::actor master;
  std::map<std::string, block_manager_stand_in> executors;

  master_fixture() {
    block_manager_master_config cfg;
    cfg.ask_timeout = 10s;
    master = started(spawn_block_manager_master(sys, cfg));
    caf::send_as(dag.handle, master, watch_cache_atom::value);
    sched.run();
  }

  block_manager_stand_in& executor(const std::string& id, bool registered = true) {
    block_manager_stand_in bm;
    // Spawn arguments, not captures: see spawn_recorder (actor_fixture.hpp).
    bm.handle = started(sys.spawn([](caf::event_based_actor* self, decltype(bm.asked) asked, decltype(bm.hold) hold,
                                     decltype(bm.held) held, decltype(bm.got) got) -> caf::behavior {
      return {
        [=](const wire<proto::ReplicateBlock>& m) -> caf::result<wire<proto::ReplicateBlock>> {
          auto id = to_block_id(m.reader().getBlockId());
          asked->push_back("replicate " + id->name() + " from " + str(m.reader().getHolder().getExecutorId()));
          if (!*hold)
            return m;
          auto rp = self->make_response_promise();
          held->emplace_back(rp, m);
          return rp;
        },
        [=](const wire<proto::RemoveRdd>& m) {
          asked->push_back("remove rdd " + std::to_string(m.reader().getRddId()));
          return m;
        },
        [=](const wire<proto::UpdateBlockInfo>& m) { got->push_back(caf::make_message(m)); },
        [=](caf::ok_atom) { // release the held answers
          for (auto& [rp, m] : *held)
            rp.deliver(m);
          held->clear();
        },
      };
    }, bm.asked, bm.hold, bm.held, bm.got));
    auto& out = executors[id] = bm;
    if (registered) {
      caf::send_as(out.handle, master, make_wire<proto::RegisterExecutor>([&](proto::RegisterExecutor::Builder b) {
        b.setExecutorId(id);
        b.setHost("host-" + id);
        b.setCores(1);
      }));
      sched.run();
    }
    return out;
  }

  void report(const std::string& exec, uint32_t rdd, uint32_t partition, uint8_t replication, uint64_t mem,
              uint16_t port = 7000) {
    caf::send_as(executors.at(exec).handle, master, make_wire<proto::UpdateBlockInfo>([&](proto::UpdateBlockInfo::Builder b) {
      b.setExecutorId(exec);
      auto id = b.initBlockId().initRdd();
      id.setRddId(rdd);
      id.setPartition(partition);
      auto l = b.initLevel();
      l.setUseMemory(true);
      l.setDeserialized(true);
      l.setReplication(replication);
      b.setMemSize(mem);
      b.setHost("host-" + exec);
      b.setPort(port);
    }));
    sched.run();
  }
  size_t acks(const std::string& exec) const { return executors.at(exec).got->size(); }

  // "e1@host-e1:7000 e2@..." for rdd_<rdd>_<partition>
  std::string locations(uint32_t rdd, uint32_t partition) {
    caf::send_as(user.handle, master, make_wire<proto::GetBlockLocations>([&](proto::GetBlockLocations::Builder b) {
      auto id = b.initBlockIds(1)[0].initRdd();
      id.setRddId(rdd);
      id.setPartition(partition);
    }));
    sched.run();
    auto answers = user.all<proto::BlockLocations>();
    if (answers.empty())
      return "no answer";
    std::string out;
    for (auto h : answers.back().reader().getLocations()[0].getHolders())
      out.append(out.empty() ? "" : " ").append(str(h.getExecutorId())).append("@").append(str(h.getHost()))
        .append(":").append(std::to_string(h.getPort()));
    return out;
  }

  // What the watching dag scheduler got: "update rdd_1_0 at e1 (64)", "remove rdd 4".
  std::vector<std::string> watched() const {
    std::vector<std::string> out;
    for (auto& m : *dag.log) {
      if (m.match_elements<wire<proto::UpdateBlockInfo>>()) {
        auto r = m.get_as<wire<proto::UpdateBlockInfo>>(0).reader();
        out.push_back("update " + to_block_id(r.getBlockId())->name() + " at " + str(r.getExecutorId()) + " ("
                      + std::to_string(r.getMemSize()) + ")");
      } else if (m.match_elements<wire<proto::RemoveRdd>>()) {
        out.push_back("remove rdd " + std::to_string(m.get_as<wire<proto::RemoveRdd>>(0).reader().getRddId()));
      }
    }
    return out;
  }
};

using strings = std::vector<std::string>;

} // namespace

CAF_TEST_FIXTURE_SCOPE(block_manager_master_tests, master_fixture)

CAF_TEST(a reported block is located and acknowledged and passed on to the watching dag scheduler) {
  executor("e1");
  executor("e2");
  CAF_CHECK_EQUAL(locations(1, 0), "");
  report("e1", 1, 0, 1, 64);
  report("e2", 1, 0, 1, 32, 7002);
  CAF_CHECK_EQUAL(acks("e1"), 1u);
  CAF_CHECK_EQUAL(acks("e2"), 1u);
  CAF_CHECK_EQUAL(locations(1, 0), "e1@host-e1:7000 e2@host-e2:7002");
  report("e1", 1, 0, 1, 0); // evicted: both sizes 0
  CAF_CHECK_EQUAL(locations(1, 0), "e2@host-e2:7002");
  CAF_CHECK_EQUAL(watched(), (strings{"update rdd_1_0 at e1 (64)", "update rdd_1_0 at e2 (32)", "update rdd_1_0 at e1 (0)"}));
  CAF_CHECK_EQUAL(*executors.at("e1").asked, strings{}); // level 1: no replica
}

CAF_TEST(a block of a _2 level is copied to the live executor with the fewest blocks before it is acknowledged) {
  executor("e1");
  executor("e2");
  executor("e3");
  report("e3", 9, 0, 1, 8); // e3 holds a block: e2 is the emptier one
  *executors.at("e2").hold = true;
  report("e1", 2, 5, 2, 64);
  CAF_CHECK_EQUAL(*executors.at("e2").asked, strings{"replicate rdd_2_5 from e1"});
  CAF_CHECK_EQUAL(*executors.at("e3").asked, strings{});
  CAF_CHECK_EQUAL(acks("e1"), 0u); // held until the copy is made
  CAF_REQUIRE_EQUAL(executors.at("e2").held->size(), 1u);
  caf::anon_send(executors.at("e2").handle, caf::ok_atom::value);
  sched.run();
  CAF_CHECK_EQUAL(acks("e1"), 1u);
  report("e2", 2, 5, 2, 64); // the copy: two holders, enough
  CAF_CHECK_EQUAL(acks("e2"), 1u);
  CAF_CHECK_EQUAL(locations(2, 5), "e1@host-e1:7000 e2@host-e2:7000");
  CAF_CHECK_EQUAL(*executors.at("e3").asked, strings{});
  // A copy that never comes: the acknowledgement goes after the ask timeout; the block stays single.
  report("e1", 2, 6, 2, 64); // e2 and e3 hold one block each: the smaller id
  CAF_CHECK_EQUAL(executors.at("e2").asked->back(), "replicate rdd_2_6 from e1");
  CAF_CHECK_EQUAL(acks("e1"), 1u);
  tick(10s);
  CAF_CHECK_EQUAL(acks("e1"), 2u);
  CAF_CHECK_EQUAL(locations(2, 6), "e1@host-e1:7000");
  // Local mode (no block server, port 0): nobody could fetch a copy.
  report("e1", 2, 7, 2, 64, 0);
  CAF_CHECK_EQUAL(acks("e1"), 3u);
  CAF_CHECK_EQUAL(executors.at("e2").asked->size(), 2u);
}

CAF_TEST(unpersist is answered once every executor dropped the rdd) {
  caf::send_as(user.handle, master, make_wire<proto::RemoveRdd>([](proto::RemoveRdd::Builder b) { b.setRddId(4); }));
  sched.run();
  CAF_CHECK_EQUAL(user.all<proto::RemoveRdd>().size(), 1u); // nobody to ask
  executor("e1");
  executor("e2");
  report("e1", 4, 0, 1, 64);
  report("e2", 4, 1, 1, 64);
  report("e2", 5, 0, 1, 64);
  caf::send_as(user.handle, master, make_wire<proto::RemoveRdd>([](proto::RemoveRdd::Builder b) { b.setRddId(4); }));
  sched.run();
  CAF_CHECK_EQUAL(*executors.at("e1").asked, strings{"remove rdd 4"});
  CAF_CHECK_EQUAL(*executors.at("e2").asked, strings{"remove rdd 4"});
  CAF_CHECK_EQUAL(user.all<proto::RemoveRdd>().size(), 2u);
  CAF_CHECK_EQUAL(locations(4, 0), "");
  CAF_CHECK_EQUAL(locations(4, 1), "");
  CAF_CHECK_EQUAL(locations(5, 0), "e2@host-e2:7000");
  auto seen = watched(); // CAF_CHECK_EQUAL keeps a reference to its argument: not into a temporary
  CAF_CHECK_EQUAL(seen.back(), "remove rdd 4");
}

CAF_TEST(the blocks of a lost executor are forgotten and it is asked nothing more) {
  executor("e1");
  executor("e2");
  report("e1", 3, 0, 1, 64);
  report("e2", 3, 1, 1, 64);
  caf::send_as(dag.handle, master, make_wire<proto::ExecutorLost>([](proto::ExecutorLost::Builder b) {
    b.setExecutorId("e1");
    b.setCause(proto::ExecutorLossCause::HEARTBEAT_TIMEOUT);
  }));
  sched.run();
  CAF_CHECK_EQUAL(locations(3, 0), "");
  CAF_CHECK_EQUAL(locations(3, 1), "e2@host-e2:7000");
  caf::send_as(user.handle, master, make_wire<proto::RemoveRdd>([](proto::RemoveRdd::Builder b) { b.setRddId(3); }));
  sched.run();
  CAF_CHECK_EQUAL(*executors.at("e1").asked, strings{});
  CAF_CHECK_EQUAL(*executors.at("e2").asked, strings{"remove rdd 3"});
  CAF_CHECK_EQUAL(user.all<proto::RemoveRdd>().size(), 1u);
}

CAF_TEST_FIXTURE_SCOPE_END()
