// The block fetch path's bounds against a hostile peer (issue 15), with real actors on loopback:
// the block server answers a FetchBlocks naming more than ember.blockManager.maxBlocksPerRequest blocks with one
// failure and serves nothing; the fetch client refuses a holder that sends more bytes than the
// map status says (the block counts as corrupt) instead of collecting them.
#include <doctest/doctest.h>

#include <xxhash.h>

#include <chrono>
#include <memory>
#include <string>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/block_server.hpp"
#include "actors/conversions.hpp"
#include "api/task.hpp"
#include "protocol/register_types.hpp"
#include "protocol/shuffle.capnp.h"
#include "protocol/wire.hpp"

using namespace ember;
using namespace std::chrono_literals;

namespace {

struct net_system {
  static caf::actor_system_config& configured(caf::actor_system_config& cfg) {
    register_types(cfg);
    cfg.load<caf::io::middleman>();
    cfg.set("logger.verbosity", caf::atom("quiet"));
    return cfg;
  }
  caf::actor_system_config cfg;
  caf::actor_system sys{configured(cfg)};
};

// A holder that answers every FetchBlocks with one valid chunk of `size` bytes.
caf::behavior oversending_holder(caf::event_based_actor* self, size_t size) {
  return {
    [=](const wire<proto::FetchBlocks>& msg) {
      auto req = msg.reader();
      std::string data(size, 'x');
      self->send(caf::actor_cast<caf::actor>(self->current_sender()),
                 make_wire<proto::BlockChunk>([&](proto::BlockChunk::Builder b) {
                   b.setRequestId(req.getRequestId());
                   b.setBlockId(req.getBlockIds()[0]);
                   b.setOffset(0);
                   b.setTotalSize(data.size());
                   b.setData(actors::bytes(data));
                   b.setChecksum(XXH32(data.data(), data.size(), 0));
                   b.setLast(true);
                 }));
    },
  };
}

} // namespace

TEST_CASE("block server: a FetchBlocks naming more blocks than the limit gets one failure") {
  net_system ns;
  constexpr unsigned limit = 64;  // ember.blockManager.maxBlocksPerRequest's default
  auto server = actors::spawn_block_server(ns.sys, std::make_shared<actors::map_output_index>(), 1 << 20, limit);
  caf::scoped_actor self{ns.sys};
  auto ask = [&](unsigned n) {
    self->send(server, make_wire<proto::FetchBlocks>([&](proto::FetchBlocks::Builder b) {
      b.setRequestId(n);
      auto ids = b.initBlockIds(n);
      for (unsigned i = 0; i < n; ++i)
        ids[i].initShuffle().setMapId(i);
      b.setMaxChunkSize(4096);
    }));
  };
  ask(limit + 1);
  std::string message;
  self->receive([&](const wire<proto::FetchBlockFailed>& f) { message = actors::str(f.reader().getMessage()); },
                caf::after(10s) >> [] { FAIL("no answer"); });
  CHECK(message == "a FetchBlocks names 65 blocks; this block server serves at most 64");
  // At the limit every block is served (here: not found, one failure each).
  ask(limit);
  int failures = 0;
  for (unsigned i = 0; i < limit; ++i)
    self->receive([&](const wire<proto::FetchBlockFailed>& f) {
      failures += f.reader().getRequestId() == limit ? 1 : 0;
    }, caf::after(10s) >> [] { FAIL("no answer"); });
  CHECK(failures == 64);
  self->send_exit(server, caf::exit_reason::user_shutdown);
}

TEST_CASE("fetch client: a holder sending more bytes than the map status says is refused as corrupt") {
  net_system ns;
  auto holder = ns.sys.spawn(oversending_holder, size_t{20});
  auto port = ns.sys.middleman().publish(holder, 0, "127.0.0.1");
  REQUIRE(port);
  scheduler::map_status s;
  s.shuffle_id = 3;
  s.map_id = 1;
  s.executor_id = "e9";
  s.host = "127.0.0.1";
  s.port = *port;
  s.map_task_id = 11;
  s.sizes = {10};
  std::string what;
  bool corrupt = false;
  try {
    actors::fetch_remote_block(ns.sys, s, 0, 1 << 20, 10s, 5s);
  } catch (const detail::fetch_failed_error& e) {
    what = e.what();
    corrupt = e.corrupt_block;
  }
  CHECK(what == "cannot fetch map output 1 of shuffle 3 from executor e9 (127.0.0.1:" + std::to_string(*port)
                  + "): the holder sends a block of 20 bytes (chunk at offset 0), expected 10");
  CHECK(corrupt);
  // The same holder is fine for a block of the size it sends.
  s.sizes = {20};
  CHECK(actors::fetch_remote_block(ns.sys, s, 0, 1 << 20, 10s, 5s) == std::string(20, 'x'));
  caf::anon_send_exit(holder, caf::exit_reason::user_shutdown);
}
