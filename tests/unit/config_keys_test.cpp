// The typed key handles (config/keys.hpp) and the registry cannot drift apart: every handle names
// a registered key of the same type, and every registered key has exactly one handle.
#include <doctest/doctest.h>

#include <set>
#include <string>
#include <type_traits>

#include "config/config.hpp"

using namespace ember::config;
using namespace std::chrono_literals;

TEST_CASE("every handle names a registered key of its type, every key has one handle") {
  std::set<std::string_view> handled;
  for (const auto& k : keys::all) {
    INFO(k.name);
    const auto* spec = find_key(k.name);
    REQUIRE(spec != nullptr);
    CHECK(spec->type == k.type);
    CHECK(handled.insert(k.name).second);  // no two handles for one key
  }
  for (const auto& spec : registry()) {
    INFO(spec.name);
    CHECK(handled.count(spec.name) == 1);
  }
  CHECK(keys::all.size() == registry().size());
}

TEST_CASE("handles are listed in registry order") {
  REQUIRE(keys::all.size() == registry().size());
  for (std::size_t i = 0; i < keys::all.size(); ++i)
    CHECK(keys::all[i].name == registry()[i].name);
}

TEST_CASE("get(handle) returns the key's C++ type") {
  static_assert(std::is_same_v<decltype(defaults().get(keys::network_timeout)), std::chrono::milliseconds>);
  static_assert(std::is_same_v<decltype(defaults().get(keys::executor_memory)), std::int64_t>);
  static_assert(std::is_same_v<decltype(defaults().get(keys::executor_cores)), std::int64_t>);
  static_assert(std::is_same_v<decltype(defaults().get(keys::memory_fraction)), double>);
  static_assert(std::is_same_v<decltype(defaults().get(keys::shuffle_compress)), bool>);
  static_assert(std::is_same_v<decltype(defaults().get(keys::master)), const std::string&>);
  static_assert(std::is_same_v<decltype(defaults().get(keys::scheduler_mode)), const std::string&>);
  load_options o;
  o.use_environment = false;
  o.conf = {"ember.network.timeout=30", "ember.executor.memory=2g", "ember.scheduler.mode=fair"};
  auto c = load(o);
  CHECK(c.get(keys::network_timeout) == 30s);  // plain number = seconds for this key
  CHECK(c.get(keys::executor_memory) == 2LL << 30);
  CHECK(c.get(keys::scheduler_mode) == "FAIR");  // canonical spelling
  CHECK(c.get(keys::rpc_ask_timeout) == 30s);    // inherited
  CHECK(c.text(keys::executor_memory) == "2g");
  CHECK(c.at(keys::network_timeout).origin.describe() == "--conf");
}
