// The message fault injector (config/fault_injector): off by default, deterministic per seed and
// executor, rates as configured, settings read from ember.test.faults.*.
#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include "config/config.hpp"
#include "config/fault_injector.hpp"

using namespace ember::config;

namespace {

config with(std::vector<std::string> conf) {
  load_options o;
  o.conf = std::move(conf);
  o.use_environment = false;
  return load(o);
}

std::vector<unsigned> copies_of(fault_injector& f, fault_kind k, int n) {
  std::vector<unsigned> out;
  for (int i = 0; i < n; ++i)
    out.push_back(f.decide(k).copies);
  return out;
}

fault_settings lossy(uint64_t seed) {
  fault_settings s;
  s.enabled = true;
  s.seed = seed;
  s.rules[0] = {0.01, 0.05, std::chrono::milliseconds{0}};
  s.rules[1] = {0.5, 0.0, std::chrono::milliseconds{250}};
  return s;
}

} // namespace

TEST_CASE("fault injector: the defaults inject nothing") {
  auto s = fault_settings::from(with({}));
  CHECK_FALSE(s.enabled);
  fault_injector f{s, "0"};
  CHECK_FALSE(f.enabled());
  for (int i = 0; i < 10000; ++i) {
    auto d = f.decide(fault_kind::status_updates);
    REQUIRE(d.plain());
  }
  // Rules set but not enabled: still nothing.
  auto off = fault_settings::from(with({"ember.test.faults.StatusUpdates.drop=1"}));
  fault_injector g{off, "0"};
  CHECK_FALSE(g.enabled());
  CHECK(g.decide(fault_kind::status_updates).copies == 1);
}

TEST_CASE("fault injector: settings come from ember.test.faults.*") {
  auto s = fault_settings::from(with({"ember.test.faults.enabled=true", "ember.test.faults.seed=42",
                                      "ember.test.faults.executors=1, 3",
                                      "ember.test.faults.StatusUpdates.drop=0.01",
                                      "ember.test.faults.StatusUpdates.duplicate=0.05",
                                      "ember.test.faults.Heartbeat.delay=3s"}));
  CHECK(s.enabled);
  CHECK(s.seed == 42);
  CHECK(s.rules[0].drop == doctest::Approx(0.01));
  CHECK(s.rules[0].duplicate == doctest::Approx(0.05));
  CHECK(s.rules[0].delay.count() == 0);
  CHECK(s.rules[1].drop == 0.0);
  CHECK(s.rules[1].delay.count() == 3000);
  CHECK(fault_injector{s, "1"}.enabled());
  CHECK(fault_injector{s, "3"}.enabled());
  CHECK_FALSE(fault_injector{s, "2"}.enabled());
  CHECK_FALSE(fault_injector{s, "13"}.enabled());
  fault_injector h{s, "3"};
  auto d = h.decide(fault_kind::heartbeat);
  CHECK(d.copies == 1);
  CHECK(d.delay.count() == 3000);
}

TEST_CASE("fault injector: the same seed and executor replay the same decisions") {
  fault_injector a{lossy(7), "1"}, b{lossy(7), "1"}, other_seed{lossy(8), "1"}, other_exec{lossy(7), "2"};
  auto sa = copies_of(a, fault_kind::status_updates, 5000);
  CHECK(sa == copies_of(b, fault_kind::status_updates, 5000));
  CHECK(sa != copies_of(other_seed, fault_kind::status_updates, 5000));
  CHECK(sa != copies_of(other_exec, fault_kind::status_updates, 5000));
  // Kinds draw from their own streams: heartbeats in between change no status update decision.
  fault_injector c{lossy(7), "1"};
  std::vector<unsigned> interleaved;
  for (int i = 0; i < 5000; ++i) {
    c.decide(fault_kind::heartbeat);
    interleaved.push_back(c.decide(fault_kind::status_updates).copies);
  }
  CHECK(sa == interleaved);
}

TEST_CASE("fault injector: rates within bounds over many draws") {
  fault_injector f{lossy(12345), "0"};
  const int n = 200000;
  int dropped = 0, duplicated = 0, hb_dropped = 0;
  for (int i = 0; i < n; ++i) {
    auto d = f.decide(fault_kind::status_updates);
    REQUIRE(d.delay.count() == 0);
    dropped += d.copies == 0;
    duplicated += d.copies == 2;
    auto h = f.decide(fault_kind::heartbeat);
    REQUIRE(h.delay.count() == 250);
    REQUIRE(h.copies != 2);
    hb_dropped += h.copies == 0;
  }
  // Expected 2000 (sd 44.5), 9900 (sd 97), 100000 (sd 224): five standard deviations.
  CHECK(dropped > 1777);
  CHECK(dropped < 2223);
  CHECK(duplicated > 9415);
  CHECK(duplicated < 10385);
  CHECK(hb_dropped > 98880);
  CHECK(hb_dropped < 101120);
  // Probability 1 always fires.
  fault_settings all = lossy(1);
  all.rules[0].drop = 1.0;
  fault_injector g{all, "0"};
  for (int i = 0; i < 1000; ++i)
    REQUIRE(g.decide(fault_kind::status_updates).copies == 0);
}

TEST_CASE("fault injector: shuffle fetch requests (FetchBlocks) have their own rule and stream") {
  auto s = fault_settings::from(with({"ember.test.faults.enabled=true", "ember.test.faults.seed=5",
                                      "ember.test.faults.FetchBlocks.drop=0.25",
                                      "ember.test.faults.FetchBlocks.duplicate=0.5",
                                      "ember.test.faults.FetchBlocks.delay=40ms"}));
  auto k = static_cast<unsigned>(fault_kind::fetch_blocks);
  CHECK(to_string(fault_kind::fetch_blocks) == "FetchBlocks");
  CHECK(s.rules[k].drop == doctest::Approx(0.25));
  CHECK(s.rules[k].duplicate == doctest::Approx(0.5));
  CHECK(s.rules[k].delay.count() == 40);
  CHECK(s.rules[0].drop == 0.0);
  fault_injector f{s, "2"};
  const int n = 100000;
  int dropped = 0, duplicated = 0;
  for (int i = 0; i < n; ++i) {
    auto d = f.decide(fault_kind::fetch_blocks);
    REQUIRE(d.delay.count() == 40);
    dropped += d.copies == 0;
    duplicated += d.copies == 2;
    REQUIRE(f.decide(fault_kind::status_updates).plain()); // no rule for it: untouched
  }
  // Expected 25000 (sd 137) dropped, 37500 (sd 153) doubled: five standard deviations.
  CHECK(dropped > 24315);
  CHECK(dropped < 25685);
  CHECK(duplicated > 36735);
  CHECK(duplicated < 38265);
  // Fetches in between change no status update decision, and the same seed replays fetches.
  fault_injector a{lossy(7), "1"}, b{lossy(7), "1"};
  auto plain = copies_of(a, fault_kind::status_updates, 2000);
  std::vector<unsigned> with_fetches;
  for (int i = 0; i < 2000; ++i) {
    b.decide(fault_kind::fetch_blocks);
    with_fetches.push_back(b.decide(fault_kind::status_updates).copies);
  }
  CHECK(plain == with_fetches);
  auto fetchy = lossy(7);
  fetchy.rules[k] = {0.3, 0.3, std::chrono::milliseconds{0}};
  fault_injector c{fetchy, "1"}, d{fetchy, "1"};
  auto fc = copies_of(c, fault_kind::fetch_blocks, 2000);
  CHECK(fc == copies_of(d, fault_kind::fetch_blocks, 2000));
  CHECK(std::count(fc.begin(), fc.end(), 0u) > 0);
  CHECK(std::count(fc.begin(), fc.end(), 2u) > 0);
}
