// Broadcast variables on a real two-host loopback cluster (127.0.0.1 and 127.0.0.2, one one-core
// executor each), through tests/apps/broadcast_probe: every executor fetches the value once and
// computes the exact sum; the executor that fetches second gets pieces from the first (a peer);
// after unpersist each executor fetches again; after destroy the next job fails naming the
// broadcast.
#include <doctest/doctest.h>

#include <map>
#include <sstream>

#include "tests/support/cluster.hpp"
#include "tests/support/temp_dir.hpp"

using namespace ember_test;

namespace {

struct probe_row {
  std::string executor;
  int64_t sum = 0;
  uint64_t fetches = 0, from_driver = 0, from_peers = 0;
};

std::map<std::string, std::vector<probe_row>> parse(const std::string& text, std::string& destroyed, int64_t& expected) {
  std::map<std::string, std::vector<probe_row>> out;
  std::istringstream in{text};
  for (std::string line; std::getline(in, line);) {
    std::istringstream l{line};
    std::string phase;
    l >> phase;
    if (phase == "destroyed") {
      destroyed = line.substr(phase.size());
    } else if (phase == "expected") {
      l >> expected;
    } else {
      probe_row r;
      l >> r.executor >> r.sum >> r.fetches >> r.from_driver >> r.from_peers;
      out[phase].push_back(r);
    }
  }
  return out;
}

} // namespace

TEST_CASE("cluster: each executor fetches a broadcast once, peers serve pieces, unpersist refetches, destroy fails clearly") {
  temp_dir tmp;
  local_cluster cluster{tmp.path, {{"127.0.0.1", 1, "1g"}, {"127.0.0.2", 1, "1g"}}};
  auto out = tmp.path / "probe.txt";
  // 400000 int64s = 3.2 MB serialized: 49 pieces of 64 KiB.
  const uint64_t pieces = (400000 * 8 + 3 + 65535) / 65536;
  child app{{bin_dir + "/broadcast_probe", "--master", cluster.url(), "--conf", "ember.driver.host=127.0.0.1", "--conf",
             "ember.executor.instances=2", "--conf", "ember.executor.memory=256m", "--conf",
             "ember.local.dir=" + (tmp.path / "local").string(), "--conf", "ember.broadcast.blockSize=64k", out.string(),
             "400000"},
            tmp.path / "app.log"};
  REQUIRE_MESSAGE(app.wait() == 0, slurp(tmp.path / "app.log"));
  std::string destroyed;
  int64_t expected = -1;
  auto phases = parse(slurp(out), destroyed, expected);
  INFO(slurp(out));
  REQUIRE(expected > 0);

  // The 1-task job: its executor fetched every piece from the driver (nobody else held any).
  REQUIRE(phases["first"].size() == 1);
  auto first = phases["first"][0];
  CHECK(first.sum == expected);
  CHECK(first.fetches == 1);
  CHECK(first.from_driver == pieces);
  CHECK(first.from_peers == 0);

  // Both executors ran tasks; each fetched exactly once; the second got pieces from the first.
  REQUIRE(phases["spread"].size() == 2);
  for (auto& r : phases["spread"]) {
    CHECK(r.sum == expected);
    CHECK(r.fetches == 1);
    CHECK(r.from_driver + r.from_peers == pieces);
    if (r.executor != first.executor)
      CHECK(r.from_peers >= 1);
  }

  // unpersist dropped both copies: each executor fetched a second time (counters add up).
  REQUIRE(phases["refetch"].size() == 2);
  for (auto& r : phases["refetch"]) {
    CHECK(r.sum == expected);
    CHECK(r.fetches == 2);
    CHECK(r.from_driver + r.from_peers == 2 * pieces);
  }

  CHECK_MESSAGE(destroyed.find("broadcast 0 was destroyed; it cannot be used any more") != std::string::npos, destroyed);
}
