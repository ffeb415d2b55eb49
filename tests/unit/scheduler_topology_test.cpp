#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "scheduler/topology.hpp"

using namespace ember::scheduler;
using namespace std::chrono_literals;

namespace {

// A scratch directory removed at the end of the test.
struct scratch {
  std::filesystem::path dir;
  scratch() {
    dir = std::filesystem::temp_directory_path() / ("ember-topology-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
  }
  ~scratch() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::string write(const std::string& name, const std::string& text, bool executable = false) {
    auto p = dir / name;
    std::ofstream{p} << text;
    if (executable)
      ::chmod(p.c_str(), 0755);
    return p.string();
  }
};

} // namespace

TEST_CASE("a topology file maps hosts to racks; comments and blank lines are skipped") {
  std::string error;
  auto m = parse_topology("# hosts\n10.77.0.1 rackA\n\n10.77.0.2   rackA # same rack\n10.77.0.3\trackB\n", "topo", error);
  REQUIRE(m);
  CHECK(error.empty());
  CHECK(*m == std::map<std::string, std::string>{{"10.77.0.1", "rackA"}, {"10.77.0.2", "rackA"}, {"10.77.0.3", "rackB"}});
}

TEST_CASE("a bad topology line is one error naming file and line") {
  std::string error;
  CHECK_FALSE(parse_topology("h1 rackA\nh2\n", "topo.txt", error));
  CHECK(error == "topo.txt:2: expected `host rack`, found 1 field(s)");
  CHECK_FALSE(parse_topology("h1 rackA extra\n", "topo.txt", error));
  CHECK(error == "topo.txt:1: expected `host rack`, found 3 field(s)");
  CHECK_FALSE(parse_topology("h1 rackA\nh1 rackB\n", "topo.txt", error));
  CHECK(error == "topo.txt:2: host 'h1' is in rack 'rackA' already, not 'rackB'");
  // The same line twice is no conflict.
  CHECK(parse_topology("h1 rackA\nh1 rackA\n", "topo.txt", error));
}

TEST_CASE("topology from a file: a host it does not name has no rack") {
  scratch s;
  auto file = s.write("topo", "h1 rackA\nh2 rackA\nh3 rackB\n");
  topology t{file, "", 1000ms};
  CHECK(t.enabled());
  CHECK_FALSE(t.uses_script());
  CHECK(t.rack_of("h1") == "rackA");
  CHECK(t.rack_of("h3") == "rackB");
  CHECK(t.rack_of("h9").empty());
  CHECK(t.cached_rack_of("h2") == std::optional<std::string>{"rackA"});
}

TEST_CASE("a missing or malformed topology file throws one line naming it") {
  scratch s;
  auto missing = (s.dir / "nope").string();
  CHECK_THROWS_WITH(topology(missing, "", 1000ms),
                    ("ember.topology.file: cannot read " + missing + ": No such file or directory").c_str());
  auto bad = s.write("bad", "h1\n");
  CHECK_THROWS_WITH(topology(bad, "", 1000ms),
                    ("ember.topology.file: " + bad + ":1: expected `host rack`, found 1 field(s)").c_str());
}

TEST_CASE("no topology: every host is rackless") {
  topology t;
  CHECK_FALSE(t.enabled());
  CHECK(t.rack_of("anything").empty());
}

TEST_CASE("a topology script gets hosts as arguments and prints one rack each (Hadoop's contract)") {
  scratch s;
  auto log = (s.dir / "calls").string();
  auto script = s.write("racks.sh",
                        "#!/bin/sh\necho \"$@\" >> " + log + "\nfor h in \"$@\"; do case $h in 10.77.0.3) echo rackB;; *) echo rackA;; esac; done\n",
                        true);
  CHECK(run_topology_script(script, {"10.77.0.1", "10.77.0.3", "h"}, 5000ms)
        == std::vector<std::string>{"rackA", "rackB", "rackA"});
  topology t{"", script, 5000ms};
  CHECK(t.uses_script());
  CHECK_FALSE(t.cached_rack_of("10.77.0.3"));
  CHECK(t.rack_of("10.77.0.3") == "rackB");
  CHECK(t.rack_of("10.77.0.3") == "rackB"); // cached: the script ran once for it
  CHECK(t.cached_rack_of("10.77.0.3") == std::optional<std::string>{"rackB"});
  std::ifstream in{log};
  std::string all{std::istreambuf_iterator<char>{in}, {}};
  CHECK(all == "10.77.0.1 10.77.0.3 h\n10.77.0.3\n");
}

TEST_CASE("a failing topology script is one error naming it, and its failures are not cached") {
  scratch s;
  auto failing = s.write("fail.sh", "#!/bin/sh\necho 'no such host' >&2\nexit 3\n", true);
  CHECK_THROWS_WITH(run_topology_script(failing, {"h1"}, 5000ms),
                    ("ember.topology.script " + failing + ": exit code 3 (no such host)").c_str());
  auto short_answer = s.write("short.sh", "#!/bin/sh\necho rackA\n", true);
  CHECK_THROWS_WITH(run_topology_script(short_answer, {"h1", "h2"}, 5000ms),
                    ("ember.topology.script " + short_answer + ": printed 1 rack(s) for 2 host(s)").c_str());
  auto slow = s.write("slow.sh", "#!/bin/sh\nexec sleep 30\n", true);
  CHECK_THROWS_WITH(run_topology_script(slow, {"h1"}, 100ms),
                    ("ember.topology.script " + slow + ": no answer within 100 ms (ember.topology.script.timeout)").c_str());
  topology t{"", failing, 5000ms};
  CHECK_THROWS(t.rack_of("h1"));
  CHECK_FALSE(t.cached_rack_of("h1"));
}

TEST_CASE("a topology script that is not an executable file is refused at start") {
  scratch s;
  auto plain = s.write("plain.txt", "rackA\n");
  CHECK_THROWS_WITH(topology("", plain, 1000ms), ("ember.topology.script: " + plain + " is not an executable file").c_str());
  auto missing = (s.dir / "missing.sh").string();
  CHECK_THROWS_WITH(topology("", missing, 1000ms),
                    ("ember.topology.script: " + missing + ": No such file or directory").c_str());
}
