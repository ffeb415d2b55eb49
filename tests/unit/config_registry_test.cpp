// The key registry and its value parsers: sizes, durations, ranges, enums, did-you-mean.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "config/config.hpp"
#include "config/registry.hpp"

using namespace ember::config;

namespace {

// "'" + s + "'" without operator+(const char*, string&&), which trips GCC 12's -Wrestrict.
std::string quoted(std::string_view s) {
  std::string out{"'"};
  out.append(s).append("'");
  return out;
}

}  // namespace

TEST_CASE("sizes: suffixes are binary multiples, plain numbers use the key's unit") {
  CHECK(*parse_size("100b").value == 100);
  CHECK(*parse_size("64k").value == 64 * 1024);
  CHECK(*parse_size("512m").value == 512LL * 1024 * 1024);
  CHECK(*parse_size("4g").value == 4LL * 1024 * 1024 * 1024);
  CHECK(*parse_size("1t").value == 1LL << 40);
  CHECK(*parse_size("1p").value == 1LL << 50);
  CHECK(*parse_size("4GB").value == 4LL << 30);
  CHECK(*parse_size(" 48m ").value == 48LL << 20);
  CHECK(*parse_size("0").value == 0);
  CHECK(*parse_size("1000").value == 1000);
  CHECK(*parse_size("1000", mib).value == 1000LL << 20);
  CHECK(*parse_size("32", kib).value == 32 * 1024);
}

TEST_CASE("sizes: invalid and overflowing values are rejected with a clear text") {
  for (const char* bad : {"4x", "", "m", "-1g", "1.5g", "4 gigs", "0x10", "g4"}) {
    CAPTURE(bad);
    auto p = parse_size(bad);
    CHECK_FALSE(p);
    CHECK(p.error == quoted(bad) + " is not a size (expected e.g. 512m, 4g)");
  }
  // Bounded so that no use overflows (issue 15): at most 1 PiB.
  auto big = parse_size("1025t");
  CHECK_FALSE(big);
  CHECK(big.error == "'1025t' is too large for a size (at most 1p)");
  CHECK(*parse_size("1p").value == 1LL << 50);
  CHECK(*parse_size("1024t").value == 1LL << 50);
  CHECK_FALSE(parse_size("8191p"));
  CHECK_FALSE(parse_size("99999999999999999999"));
  CHECK_FALSE(parse_size("9223372036854775807", kib));
}

TEST_CASE("durations: Spark's suffixes, m means minutes") {
  CHECK(*parse_duration("500ms").value == 500);
  CHECK(*parse_duration("30s").value == 30'000);
  CHECK(*parse_duration("2m").value == 120'000);
  CHECK(*parse_duration("2min").value == 120'000);
  CHECK(*parse_duration("1h").value == 3'600'000);
  CHECK(*parse_duration("1d").value == 86'400'000);
  CHECK(*parse_duration("250").value == 250);
  CHECK(*parse_duration("120", seconds).value == 120'000);
  CHECK(*parse_duration("10S").value == 10'000);
  for (const char* bad : {"5x", "", "ms", "1.5s", "-3s", "3 weeks", "10us"}) {
    CAPTURE(bad);
    auto p = parse_duration(bad);
    CHECK_FALSE(p);
    CHECK(p.error == quoted(bad) + " is not a duration (expected e.g. 500ms, 30s, 2min, 1h)");
  }
  auto big = parse_duration("9999999999999999d");
  CHECK_FALSE(big);
  CHECK(big.error == "'9999999999999999d' is too large for a duration (at most 365d)");
  // 106752d (~ INT64_MAX ns) once made every request time out at once; 365d is the bound.
  CHECK(*parse_duration("365d").value == 365LL * 86'400'000);
  CHECK(parse_duration("366d").error == "'366d' is too large for a duration (at most 365d)");
  CHECK(parse_duration("106752d").error == "'106752d' is too large for a duration (at most 365d)");
}

TEST_CASE("a too large duration or size is one config_error naming the key and the limit") {
  ember::config::load_options o;
  o.conf = {"ember.rpc.askTimeout=106752d"};
  CHECK_THROWS_WITH_AS(ember::config::load(o),
                       "ember.rpc.askTimeout: '106752d' is too large for a duration (at most 365d)",
                       ember::config::config_error);
  o.conf = {"ember.rpc.askTimeout=365d"};
  CHECK(ember::config::load(o).get(ember::config::keys::rpc_ask_timeout) == std::chrono::hours{365 * 24});
  o.conf = {"ember.executor.memory=2p"};
  CHECK_THROWS_WITH_AS(ember::config::load(o), "ember.executor.memory: '2p' is too large for a size (at most 1p)",
                       ember::config::config_error);
}

TEST_CASE("formatting picks the largest exact unit") {
  CHECK(format_size(48LL << 20) == "48m");
  CHECK(format_size(1LL << 30) == "1g");
  CHECK(format_size(1536) == "1536b");
  CHECK(format_size(32 * 1024) == "32k");
  CHECK(format_size(0) == "0");
  CHECK(format_duration(120'000) == "120s");
  CHECK(format_duration(3'600'000) == "1h");
  CHECK(format_duration(1500) == "1500ms");
  CHECK(format_duration(0) == "0");
}

TEST_CASE("the registry is sorted, unique, and every key is under ember.") {
  const auto& r = registry();
  CHECK(r.size() >= 70);
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < r.size(); ++i) {
    CAPTURE(r[i].name);
    CHECK(r[i].name.starts_with("ember."));
    CHECK_FALSE(r[i].doc.empty());
    CHECK(names.insert(r[i].name).second);
    if (i > 0)
      CHECK(r[i - 1].name < r[i].name);
  }
}

TEST_CASE("every default parses against its own type and range, and is written canonically") {
  for (const auto& spec : registry()) {
    CAPTURE(spec.name);
    if (!spec.inherits.empty()) {
      auto parent = find_key(spec.inherits);
      REQUIRE(parent != nullptr);
      CHECK(parent->type == spec.type);
      CHECK(parent->plain_unit == spec.plain_unit);
      continue;
    }
    auto p = parse_value(spec, spec.default_text);
    REQUIRE_MESSAGE(p, p.error);
    CHECK(format_value(spec, *p.value) == spec.default_text);
  }
}

TEST_CASE("the keys the brief and design name exist with Spark's defaults") {
  auto def = [](std::string_view k) {
    auto s = find_key(k);
    REQUIRE_MESSAGE(s != nullptr, k);
    return std::string(s->default_text);
  };
  CHECK(def("ember.master") == "local[*]");
  CHECK(def("ember.driver.memory") == "1g");
  CHECK(def("ember.driver.maxResultSize") == "1g");
  CHECK(def("ember.executor.instances") == "2");
  CHECK(def("ember.executor.cores") == "1");
  CHECK(def("ember.executor.memory") == "1g");
  CHECK(def("ember.executor.heartbeatInterval") == "10s");
  CHECK(def("ember.network.timeout") == "120s");
  CHECK(def("ember.locality.wait") == "3s");
  CHECK(def("ember.task.maxFailures") == "4");
  CHECK(def("ember.stage.maxConsecutiveAttempts") == "4");
  CHECK(def("ember.speculation") == "false");
  CHECK(def("ember.reducer.maxSizeInFlight") == "48m");
  CHECK(def("ember.local.dir") == "$TMPDIR/ember-$USER");
  CHECK(def("ember.files.maxPartitionBytes") == "128m");
  CHECK(def("ember.memory.fraction") == "0.6");
  CHECK(def("ember.memory.storageFraction") == "0.5");
  CHECK(def("ember.ui.showConsoleProgress") == "true");
  CHECK(def("ember.log.level") == "info");
  CHECK(def("ember.master.port") == "7077");
  CHECK(def("ember.io.compression.codec") == "lz4");
  CHECK(find_key("ember.locality.wait.node")->inherits == "ember.locality.wait");
  CHECK(find_key("ember.locality.wait.process")->inherits == "ember.locality.wait");
  CHECK(find_key("ember.locality.wait.rack")->inherits == "ember.locality.wait");
  CHECK(find_key("ember.rpc.askTimeout")->inherits == "ember.network.timeout");
  CHECK(find_key("ember.executor.memory")->unit() == "MiB");
  CHECK(find_key("ember.shuffle.file.buffer")->unit() == "KiB");
  CHECK(find_key("ember.network.timeout")->unit() == "s");
  CHECK(find_key("ember.locality.wait")->unit() == "ms");
  CHECK(find_key("ember.executor.memroy") == nullptr);
}

TEST_CASE("parse_value: ranges, enums, booleans, doubles, master URLs") {
  const auto& mem = *find_key("ember.executor.memory");
  CHECK(std::get<std::int64_t>(*parse_value(mem, "4g").value) == 4LL << 30);
  CHECK(std::get<std::int64_t>(*parse_value(mem, "4096").value) == 4LL << 30);  // plain = MiB
  CHECK(parse_value(mem, "4x").error == "'4x' is not a size (expected e.g. 512m, 4g)");
  CHECK(parse_value(mem, "1m").error == "'1m' is out of range (expected >= 16m)");

  const auto& port = *find_key("ember.master.port");
  CHECK(parse_value(port, "70000").error == "'70000' is out of range (expected 1 .. 65535)");
  CHECK(parse_value(port, "77a").error == "'77a' is not an integer");
  CHECK(parse_value(port, "99999999999999999999").error
        == "'99999999999999999999' is out of range (expected 1 .. 65535)");

  const auto& codec = *find_key("ember.io.compression.codec");
  CHECK(parse_value(codec, "snappy").error == "'snappy' is not one of lz4, none");
  CHECK(std::get<std::string>(*parse_value(codec, "LZ4").value) == "lz4");
  const auto& mode = *find_key("ember.scheduler.mode");
  CHECK(std::get<std::string>(*parse_value(mode, "fair").value) == "FAIR");

  const auto& spec = *find_key("ember.speculation");
  CHECK(std::get<bool>(*parse_value(spec, "TRUE").value));
  CHECK(parse_value(spec, "yes").error == "'yes' is not a boolean (expected true or false)");

  const auto& fraction = *find_key("ember.memory.fraction");
  CHECK(std::get<double>(*parse_value(fraction, "0.75").value) == 0.75);
  CHECK(std::get<double>(*parse_value(fraction, "1").value) == 1.0);
  CHECK(parse_value(fraction, "0").error == "'0' is out of range (expected 0 < x <= 1)");
  CHECK(parse_value(fraction, "1.5").error == "'1.5' is out of range (expected 0 < x <= 1)");
  CHECK(parse_value(fraction, "abc").error == "'abc' is not a number (expected e.g. 0.6)");
  CHECK_FALSE(parse_value(fraction, "nan"));

  const auto& master = *find_key("ember.master");
  for (const char* ok : {"local", "local[4]", "local[*]", "local[4,3]", "local[*,2]", "ember://host-1:7077"})
    CHECK_MESSAGE(parse_value(master, ok), ok);
  for (const char* bad : {"yarn", "local[0]", "local[]", "local[x]", "ember://host", "ember://:7077",
                          "ember://h:0", "ember://h:70000", "spark://h:7077"}) {
    CAPTURE(bad);
    CHECK(parse_value(master, bad).error
          == quoted(bad)
                 + " is not valid (expected local, local[N], local[*], local[N,F] or ember://host:port)");
  }
  CHECK(parse_value(*find_key("ember.local.dir"), "").error == "'' is not valid (expected a non-empty value)");
}

TEST_CASE("did-you-mean: edit distance with transpositions, case-insensitive, spark. prefix") {
  CHECK(edit_distance("memory", "memroy") == 1);
  CHECK(edit_distance("kitten", "sitting") == 3);
  CHECK(edit_distance("", "abc") == 3);
  CHECK(suggest_key("ember.executor.memroy") == "ember.executor.memory");
  CHECK(suggest_key("ember.executor.heartbeatinterval") == "ember.executor.heartbeatInterval");
  CHECK(suggest_key("ember.task.maxFailure") == "ember.task.maxFailures");
  CHECK(suggest_key("spark.executor.memory") == "ember.executor.memory");
  CHECK(suggest_key("ember.locality.wait.nod") == "ember.locality.wait.node");
  CHECK_FALSE(suggest_key("ember.totally.different.key").has_value());
  CHECK(suggest_key("ember.executor.mem") == "ember.executor.memory");  // distance 3
  CHECK_FALSE(suggest_key("ember.executor.m").has_value());            // distance 5
}

TEST_CASE("valid() describes the accepted values") {
  CHECK(find_key("ember.log.level")->valid() == "trace, debug, info, warn, error, off");
  CHECK(find_key("ember.executor.cores")->valid() == ">= 1");
  CHECK(find_key("ember.network.maxChunkSize")->valid() == "4k .. 64m");
  CHECK(find_key("ember.speculation.quantile")->valid() == "0 <= x <= 1");
  CHECK(find_key("ember.authenticate")->valid() == "true, false");
}
