// Loading a configuration: precedence, sources, file errors, unknown keys, inheritance,
// relations between keys, typed getters and the shared from_args.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "config/config.hpp"
#include "tests/support/files.hpp"
#include "tests/support/temp_dir.hpp"

using namespace ember::config;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// A fresh directory removed at the end of the test, where a test writes its config files.
struct temp_dir : ember_test::temp_dir {
  std::string write(const std::string& name, const std::string& body) const {
    ember_test::write_file(path / name, body);
    return (path / name).string();
  }
};

load_options no_env() {
  load_options o;
  o.use_environment = false;
  return o;
}

std::string load_error(const load_options& o) {
  try {
    load(o);
  } catch (const config_error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("built-in defaults and their origin") {
  auto c = defaults();
  CHECK(c.get(keys::executor_memory) == 1LL << 30);
  CHECK(c.get(keys::network_timeout) == 120s);
  CHECK(c.get(keys::task_max_failures) == 4);
  CHECK(c.get(keys::shuffle_compress));
  CHECK(c.get(keys::memory_fraction) == 0.6);
  CHECK(c.get(keys::master) == "local[*]");
  CHECK(c.get(keys::io_compression_codec) == "lz4");
  CHECK(c.at("ember.executor.memory").origin.describe() == "default");
  CHECK(c.text(keys::reducer_max_size_in_flight) == "48m");
  CHECK(c.entries().size() == registry().size());
  CHECK_FALSE(c.defaults_file().has_value());
}

TEST_CASE("precedence: defaults < file < --conf < dedicated flag") {
  temp_dir dir;
  auto file = dir.write("ember-defaults.conf",
                        "# cluster defaults\n"
                        "\n"
                        "ember.executor.memory 2g\n"
                        "ember.executor.cores=3\n"
                        "ember.task.maxFailures = 6\n"
                        "  ember.master   local[2]  \n"
                        "ember.app.name from-file\n");
  auto o = no_env();
  o.properties_file = file;
  o.conf = {"ember.executor.cores=5", "ember.master=local[3]", "ember.executor.cores=7"};
  o.flags = {{"--master", "ember.master", "local[4]"}};
  auto c = load(o);
  CHECK(c.get(keys::executor_memory) == 2LL << 30);
  CHECK(c.at("ember.executor.memory").origin.describe() == file + ":3");
  CHECK(c.get(keys::executor_cores) == 7);  // the later --conf wins
  CHECK(c.at("ember.executor.cores").origin.describe() == "--conf");
  CHECK(c.get(keys::task_max_failures) == 6);
  CHECK(c.at("ember.task.maxFailures").origin.describe() == file + ":5");
  CHECK(c.get(keys::master) == "local[4]");
  CHECK(c.at("ember.master").origin.describe() == "--master");
  CHECK(c.get(keys::app_name) == "from-file");
  CHECK(c.at("ember.shuffle.compress").origin.describe() == "default");
  CHECK(c.defaults_file() == file);
}

TEST_CASE("EMBER_CONF_DIR/ember-defaults.conf is read; a missing one is ignored") {
  temp_dir dir;
  dir.write("ember-defaults.conf", "ember.locality.wait 5s\n");
  ::setenv("EMBER_CONF_DIR", dir.path.c_str(), 1);
  auto c = load();
  CHECK(c.get(keys::locality_wait) == 5s);
  CHECK(c.defaults_file() == (dir.path / "ember-defaults.conf").string());
  fs::remove(dir.path / "ember-defaults.conf");
  auto d = load();
  CHECK(d.get(keys::locality_wait) == 3s);
  CHECK_FALSE(d.defaults_file().has_value());
  ::unsetenv("EMBER_CONF_DIR");
}

TEST_CASE("a missing --properties-file is an error") {
  auto o = no_env();
  o.properties_file = "/nonexistent/ember.conf";
  CHECK(load_error(o) == "cannot read configuration file '/nonexistent/ember.conf'");
}

TEST_CASE("file errors name the file and line") {
  temp_dir dir;
  auto o = no_env();
  o.properties_file = dir.write("a.conf", "ember.executor.cores 2\n# ok\nember.executor.memory 4x\n");
  CHECK(load_error(o) == o.properties_file.value()
                             + ":3: ember.executor.memory: '4x' is not a size (expected e.g. 512m, 4g)");
  o.properties_file = dir.write("b.conf", "\n\nember.executor.memroy 4g\n");
  CHECK(load_error(o) == o.properties_file.value()
                             + ":3: unknown configuration key 'ember.executor.memroy' (did you mean "
                               "'ember.executor.memory'?)");
  o.properties_file = dir.write("c.conf", "ember.speculation\n");
  CHECK(load_error(o) == o.properties_file.value()
                             + ":1: 'ember.speculation' has no value (expected 'key value' or 'key=value')");
  o.properties_file = dir.write("d.conf", "=true\n");
  CHECK(load_error(o) == o.properties_file.value() + ":1: missing key before '='");
}

TEST_CASE("defaults file syntax: separators, comments, empty values") {
  auto s = parse_defaults_file("a b\r\nc=d e\n#x y\n  f  =  g  \nh=\ni\t j\n", "f.conf");
  REQUIRE(s.size() == 5);
  CHECK((s[0].key == "a" && s[0].text == "b" && s[0].line == 1));
  CHECK((s[1].key == "c" && s[1].text == "d e" && s[1].line == 2));
  CHECK((s[2].key == "f" && s[2].text == "g" && s[2].line == 4));
  CHECK((s[3].key == "h" && s[3].text.empty() && s[3].line == 5));
  CHECK((s[4].key == "i" && s[4].text == "j" && s[4].line == 6));
}

TEST_CASE("--conf errors: unknown key with did-you-mean, bad value, out of range, bad enum") {
  auto o = no_env();
  o.conf = {"ember.executor.memroy=4g"};
  CHECK(load_error(o)
        == "unknown configuration key 'ember.executor.memroy' (did you mean 'ember.executor.memory'?)");
  o.conf = {"ember.nothing.like.this=1"};
  CHECK(load_error(o) == "unknown configuration key 'ember.nothing.like.this'");
  o.conf = {"ember.executor.memory"};
  CHECK(load_error(o) == "--conf 'ember.executor.memory': expected key=value");
  o.conf = {"ember.executor.memory=4x"};
  CHECK(load_error(o) == "ember.executor.memory: '4x' is not a size (expected e.g. 512m, 4g)");
  o.conf = {"ember.executor.cores=0"};
  CHECK(load_error(o) == "ember.executor.cores: '0' is out of range (expected >= 1)");
  o.conf = {"ember.io.compression.codec=zstd"};
  CHECK(load_error(o) == "ember.io.compression.codec: 'zstd' is not one of lz4, none");
  o.conf = {};
  o.flags = {{"--master", "ember.master", "yarn"}};
  CHECK(load_error(o)
        == "--master: ember.master: 'yarn' is not valid (expected local, local[N], local[*], local[N,F] "
           "or ember://host:port)");
}

TEST_CASE("locality.wait.* inherit from locality.wait unless set") {
  auto o = no_env();
  o.conf = {"ember.locality.wait=1s", "ember.locality.wait.node=0"};
  auto c = load(o);
  CHECK(c.get(keys::locality_wait_process) == 1s);
  CHECK(c.get(keys::locality_wait_rack) == 1s);
  CHECK(c.get(keys::locality_wait_node) == 0ms);
  CHECK(c.at("ember.locality.wait.process").origin.describe() == "inherited from ember.locality.wait (--conf)");
  CHECK(c.at("ember.locality.wait.node").origin.describe() == "--conf");
  auto d = defaults();
  CHECK(d.get(keys::locality_wait_rack) == 3s);
  CHECK(d.at("ember.locality.wait.rack").origin.describe() == "inherited from ember.locality.wait (default)");
  CHECK(d.get(keys::rpc_ask_timeout) == 120s);
  CHECK(d.get(keys::dynamic_allocation_sustained_scheduler_backlog_timeout) == 1s);

  o.conf = {"ember.network.timeout=300"};  // plain number: seconds
  auto e = load(o);
  CHECK(e.get(keys::rpc_ask_timeout) == 300s);
  CHECK(e.at("ember.rpc.askTimeout").origin.describe() == "inherited from ember.network.timeout (--conf)");
}

TEST_CASE("relations between keys are checked after resolution") {
  auto o = no_env();
  o.conf = {"ember.executor.heartbeatInterval=200s"};
  CHECK(load_error(o) == "ember.executor.heartbeatInterval = 200s (--conf) must be below "
                         "ember.network.timeout = 120s (default)");
  o.conf = {"ember.task.cpus=2"};
  CHECK(load_error(o) == "ember.task.cpus = 2 (--conf) must not exceed ember.executor.cores = 1 (default)");
  o.conf = {"ember.authenticate=true", "ember.network.crypto.enabled=false"};
  CHECK(load_error(o) == "ember.network.crypto.enabled = false (--conf): Ember authenticates peers through TLS, "
                         "which always encrypts; leave it true");
  o.conf = {"ember.ssl.enabled=true", "ember.ssl.certificate=/c.pem"};
  CHECK(load_error(o) == "ember.ssl.enabled = true (--conf) requires ember.ssl.key to be set");
  o.conf = {"ember.deploy.recoveryMode=filesystem"};
  CHECK(load_error(o)
        == "ember.deploy.recoveryMode = FILESYSTEM (--conf) requires ember.deploy.recoveryDirectory to be set");
  o.conf = {"ember.dynamicAllocation.enabled=true", "ember.dynamicAllocation.minExecutors=3",
            "ember.dynamicAllocation.maxExecutors=2"};
  CHECK(load_error(o) == "ember.dynamicAllocation.minExecutors = 3 (--conf) must not exceed "
                         "ember.dynamicAllocation.maxExecutors = 2 (--conf)");
  o.conf = {"ember.dynamicAllocation.enabled=true", "ember.dynamicAllocation.minExecutors=3",
            "ember.dynamicAllocation.initialExecutors=1"};
  CHECK(load_error(o) == "ember.dynamicAllocation.initialExecutors = 1 (--conf) must not be below "
                         "ember.dynamicAllocation.minExecutors = 3 (--conf)");
  o.conf = {"ember.dynamicAllocation.enabled=true", "ember.dynamicAllocation.minExecutors=3"};
  auto c = load(o);  // initialExecutors inherits 3, maxExecutors 0 = unlimited
  CHECK(c.get(keys::dynamic_allocation_initial_executors) == 3);
}

TEST_CASE("a handle naming an unknown key or one of another type fails at once") {
  // The handles of keys.hpp cannot (config_keys_test); a hand-made one is caught on first use.
  auto c = defaults();
  CHECK_THROWS_WITH_AS(c.get(key<key_type::size>{"ember.executor.memroy"}),
                       "config: key 'ember.executor.memroy' is not in the registry (did you mean "
                       "'ember.executor.memory'?)",
                       std::logic_error);
  CHECK_THROWS_WITH_AS(c.get(key<key_type::integer>{"ember.executor.memory"}),
                       "config: key 'ember.executor.memory' has type size, not int", std::logic_error);
  CHECK_THROWS_AS(c.get(key<key_type::duration>{"ember.task.maxFailures"}), std::logic_error);
  CHECK_THROWS_AS(c.get(key<key_type::boolean>{"ember.master"}), std::logic_error);
  CHECK_THROWS_AS(c.get(key<key_type::string>{"ember.scheduler.mode"}), std::logic_error);
  CHECK(c.get(keys::scheduler_mode) == "FIFO");  // enums read as their canonical spelling
  CHECK_THROWS_AS(c.at("ember.executor.memroy"), std::logic_error);
}

TEST_CASE("from_args extracts --conf, --master, --name and --properties-file, keeps the rest") {
  const char* argv[] = {"app",   "--conf", "ember.executor.cores=2", "input.txt",
                        "--master=local[2]", "--name", "wordcount", "--conf=ember.task.maxFailures=9",
                        "-v",    "--",     "--conf", "x"};
  ::unsetenv("EMBER_CONF_DIR");
  std::vector<std::string> rest;
  auto c = from_args(static_cast<int>(std::size(argv)), argv, rest);
  CHECK(c.get(keys::executor_cores) == 2);
  CHECK(c.get(keys::task_max_failures) == 9);
  CHECK(c.get(keys::master) == "local[2]");
  CHECK(c.at("ember.master").origin.describe() == "--master");
  CHECK(c.get(keys::app_name) == "wordcount");
  CHECK(c.at("ember.app.name").origin.describe() == "--name");
  CHECK(rest == std::vector<std::string>{"app", "input.txt", "-v", "--", "--conf", "x"});

  const char* missing[] = {"app", "--master"};
  CHECK_THROWS_WITH_AS(from_args(2, missing, rest), "--master needs a value", config_error);
  const char* typo[] = {"app", "--conf", "ember.executor.memroy=1g"};
  CHECK_THROWS_WITH_AS(from_args(3, typo, rest),
                       "unknown configuration key 'ember.executor.memroy' (did you mean "
                       "'ember.executor.memory'?)",
                       config_error);
}

TEST_CASE("split_list: the items of a comma-separated key, blanks trimmed, empty items dropped") {
  CHECK(split_list("/a, /b,,/c ") == std::vector<std::string>{"/a", "/b", "/c"});
  CHECK(split_list("/tmp") == std::vector<std::string>{"/tmp"});
  CHECK(split_list("").empty());
  CHECK(split_list(" , ").empty());
}
