// The cluster manager registry: which kind serves a master URL, the URL parsers behind it, the
// error line for a master no kind serves, and each kind's default parallelism.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "deploy/cluster_manager.hpp"

using namespace ember::deploy;

namespace {

cluster_manager_registry built_ins(std::uint32_t hardware_threads = 8) {
  return cluster_manager_registry{{local_cluster_manager(hardware_threads), standalone_cluster_manager()}};
}

std::string kind_of(const cluster_manager_registry& r, std::string_view master) {
  auto* k = r.find(master);
  return k ? k->name : "none";
}

ember::config::config conf_with(std::vector<std::string> settings) {
  std::vector<const char*> argv{"app"};
  for (auto& s : settings) {
    argv.push_back("--conf");
    argv.push_back(s.c_str());
  }
  std::vector<std::string> remaining;
  return ember::config::from_args(static_cast<int>(argv.size()), argv.data(), remaining);
}

} // namespace

TEST_CASE("local masters: local, local[N], local[*]") {
  CHECK(parse_local_master("local", 8) == 1u);
  CHECK(parse_local_master("local[4]", 8) == 4u);
  CHECK(parse_local_master("local[4096]", 8) == 4096u);
  CHECK(parse_local_master("local[*]", 8) == 8u);
  CHECK(parse_local_master("local[*]", 0) == 1u); // hardware_concurrency may say 0
  for (const char* bad : {"local[0]", "local[4097]", "local[]", "local[4", "local[4,2]", "local[x]", "local[ 4]",
                          "local[-1]", "locale", "LOCAL", "", "ember://h:1"})
    CHECK_MESSAGE(!parse_local_master(bad, 8), bad);
}

TEST_CASE("standalone masters: ember://HOST:PORT") {
  auto m = parse_standalone_master("ember://node-1.example:7077");
  REQUIRE(m);
  CHECK(m->host == "node-1.example");
  CHECK(m->port == 7077);
  CHECK(m->url() == "ember://node-1.example:7077");
  auto v6 = parse_standalone_master("ember://[::1]:65535"); // the last colon separates the port
  REQUIRE(v6);
  CHECK(v6->host == "[::1]");
  CHECK(v6->port == 65535);
  for (const char* bad : {"ember://h:0", "ember://h:65536", "ember://h:", "ember://:7077", "ember://h", "ember://h:7x",
                          "ember:/h:7077", "spark://h:7077", "k8s://https://h:6443", "yarn", "local[2]"})
    CHECK_MESSAGE(!parse_standalone_master(bad), bad);
}

TEST_CASE("the registry picks the kind that can create the master") {
  auto r = built_ins();
  CHECK(kind_of(r, "local") == "local");
  CHECK(kind_of(r, "local[4]") == "local");
  CHECK(kind_of(r, "local[*]") == "local");
  CHECK(kind_of(r, "ember://h:7077") == "standalone");
  CHECK(kind_of(r, "k8s://https://h:6443") == "none");
  CHECK(kind_of(r, "yarn") == "none");
  CHECK(kind_of(r, "local[2,3]") == "none"); // accepted by the key's check, not by any manager yet
  CHECK(r.find("local[2]")->executors_in_process);
  CHECK(!r.find("ember://h:7077")->executors_in_process);
}

TEST_CASE("a master no kind serves is one line naming it and every URL form") {
  auto r = built_ins();
  CHECK(r.unsupported("yarn") == "'yarn' is not a master (expected local, local[N], local[*] or ember://HOST:PORT)");
  cluster_manager_kind k8s;
  k8s.name = "kubernetes";
  k8s.url_forms = "k8s://https://HOST:PORT";
  k8s.can_create = [](std::string_view m) { return m.starts_with("k8s://"); };
  cluster_manager_registry three{{local_cluster_manager(2), standalone_cluster_manager(), k8s}};
  CHECK(three.unsupported("mesos://h:5050")
        == "'mesos://h:5050' is not a master (expected local, local[N], local[*], ember://HOST:PORT or "
           "k8s://https://HOST:PORT)");
  CHECK(kind_of(three, "k8s://https://h:6443") == "kubernetes");
  CHECK(kind_of(three, "ember://h:7077") == "standalone");
}

TEST_CASE("the first kind that can create a master wins; names are unique") {
  cluster_manager_kind catch_all;
  catch_all.name = "catch-all";
  catch_all.url_forms = "anything";
  catch_all.can_create = [](std::string_view) { return true; };
  cluster_manager_registry r{{standalone_cluster_manager(), catch_all}};
  CHECK(kind_of(r, "ember://h:7077") == "standalone");
  CHECK(kind_of(r, "local[2]") == "catch-all");
  cluster_manager_kind no_test; // a kind without can_create serves nothing
  no_test.name = "inert";
  CHECK(kind_of(cluster_manager_registry{{no_test}}, "local") == "none");
  CHECK_THROWS_AS(cluster_manager_registry({standalone_cluster_manager(), standalone_cluster_manager()}),
                  std::invalid_argument);
}

TEST_CASE("default parallelism: local cores; a cluster's requested cores, at least 2") {
  auto local = local_cluster_manager(6);
  auto standalone = standalone_cluster_manager();
  auto defaults = conf_with({});
  CHECK(local.default_parallelism("local[3]", defaults) == 3u);
  CHECK(local.default_parallelism("local[*]", defaults) == 6u);
  CHECK(local.default_parallelism("local", defaults) == 1u);
  CHECK(standalone.default_parallelism("ember://h:1", conf_with({"ember.executor.instances=3",
                                                                 "ember.executor.cores=4"})) == 12u);
  CHECK(standalone.default_parallelism("ember://h:1", conf_with({"ember.executor.instances=1",
                                                                 "ember.executor.cores=1"})) == 2u);
  CHECK(standalone.default_parallelism("ember://h:1", conf_with({"ember.executor.instances=0",
                                                                 "ember.executor.cores=3"})) == 3u);
}
