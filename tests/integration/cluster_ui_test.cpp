// The master's web UI on a real cluster (a master, a worker, an application blocked in a job):
// /json against `ember status --json` (the actor protocol, an independent path) and against what
// the test started; /metrics/prometheus parsed by Prometheus' own parser (python3-prometheus-client);
// the page and its script; kill requests refused as GET, for malformed or unknown ids, and then one
// that really kills the application. On a secured cluster with ACLs: no credentials -> 401, a
// user who may view but not modify -> 403 and the application lives on, its owner kills it.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "tests/support/cluster.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/files.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

using namespace ember_test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct web {
  web(int port, std::string user = {}, std::string password = {}) : http("127.0.0.1", port) {
    http.set_read_timeout(30, 0);
    if (!user.empty())
      http.set_basic_auth(user, password);
  }
  httplib::Client http;

  httplib::Result get(const std::string& path) { return http.Get(path.c_str()); }
  httplib::Result post(const std::string& path) { return http.Post(path.c_str(), "", "text/plain"); }
  json get_json(const std::string& path) {
    auto r = get(path);
    REQUIRE_MESSAGE(r, "GET " << path << " failed");
    INFO("GET " << path << " -> " << r->status << " " << r->body);
    REQUIRE(r->status == 200);
    return json::parse(r->body);
  }
};

int status_of(const httplib::Result& r) { return r ? r->status : -1; }

// The master UI's port, from the line `ember master` prints once it serves.
int master_ui_port(const fs::path& dir) {
  std::optional<int> port;
  REQUIRE_MESSAGE(eventually([&] { return (port = url_port(slurp(dir / "master.log"), "ember master UI at")).has_value(); }),
                  slurp(dir / "master.log"));
  return *port;
}

// ui_probe (tests/apps/ui_probe.cpp) on the cluster: its second job waits for a file nobody
// creates, so the application stays running until killed.
child start_probe(const local_cluster& c, const fs::path& dir, const std::string& name,
                  std::vector<std::pair<std::string, std::string>> env = {}) {
  spawn_options o;
  o.log = dir / (name + ".log");
  o.env = std::move(env);
  return child({bin_dir + "/ui_probe", "--master", c.url(), "--conf", "ember.app.name=" + name, "--conf",
                "ember.ui.port=0", "--conf", "ember.executor.memory=256m", "--conf", "ember.executor.cores=1",
                "--conf", "ember.cores.max=2", (dir / "never-go").string(), (dir / "never-end").string()},
               o);
}

// The one active application of /json once it runs two executors.
json running_app(web& ui) {
  json app;
  bool ok = eventually(
      [&] {
        auto j = ui.get_json("/json");
        if (j["activeapps"].size() != 1)
          return false;
        app = j["activeapps"][0];
        int running = 0;
        for (auto& e : app["executors"])
          running += e["state"] == "RUNNING" ? 1 : 0;
        return app["state"] == "RUNNING" && running == 2;
      },
      std::chrono::seconds{90}, std::chrono::milliseconds{100});
  REQUIRE_MESSAGE(ok, app.dump());
  return app;
}

}  // namespace

TEST_CASE("master UI: /json and metrics agree with ember status, kill buttons work") {
  temp_dir tmp{"cluster-ui"};
  local_cluster cluster{tmp.path, {worker_spec{"127.0.0.1", 2, "2g"}}};
  web ui{master_ui_port(tmp.path)};
  auto probe = start_probe(cluster, tmp.path, "ui-cluster-probe");
  auto app = running_app(ui);
  std::string app_id = app["id"];

  // -- /json against `ember status --json --all` and against what was started --
  json mine, theirs;
  // Both are snapshots: compare once nothing moves (executors settle, heartbeats come and go).
  bool agree = eventually(
      [&] {
        mine = ui.get_json("/json");
        theirs = cluster.state(true);
        if (!theirs.contains("workers") || mine["workers"].size() != theirs["workers"].size() ||
            mine["activeapps"].size() != 1 || theirs["apps"].size() != 1)
          return false;
        auto& w = mine["workers"][0];
        auto& s = theirs["workers"][0];
        auto& a = mine["activeapps"][0];
        auto& sa = theirs["apps"][0];
        return w["id"] == s["workerId"] && w["host"] == s["host"] && w["port"] == s["port"] &&
               w["cores"] == s["cores"] && w["coresused"] == s["coresUsed"] &&
               w["memory"] == s["memoryBytes"].get<std::uint64_t>() >> 20 &&
               w["memoryused"] == s["memoryUsed"].get<std::uint64_t>() >> 20 && w["state"] == "ALIVE" &&
               mine["aliveworkers"] == theirs["aliveWorkers"] && a["id"] == sa["appId"] && a["name"] == sa["name"] &&
               a["cores"] == sa["coresGranted"] && a["starttime"] == sa["submitTimeMs"] &&
               a["executors"].size() == sa["executors"].size();
      },
      std::chrono::seconds{30}, std::chrono::milliseconds{100});
  REQUIRE_MESSAGE(agree, "json: " << mine.dump() << "\nstatus: " << theirs.dump());
  CHECK(mine["url"] == cluster.url());
  CHECK(mine["status"] == "ALIVE");
  CHECK(mine["cores"] == 2);
  CHECK(mine["memory"] == 2048);
  CHECK(mine["coresused"] == 2);
  CHECK(mine["memoryused"] == 512);
  CHECK(mine["workers"][0]["coresfree"] == 0);
  CHECK(mine["workers"][0]["memoryfree"] == 1536);
  auto& a = mine["activeapps"][0];
  CHECK(a["name"] == "ui-cluster-probe");
  CHECK(a["memoryperslave"] == 256);
  CHECK(a["cores"] == 2);
  CHECK(a["state"] == "RUNNING");
  CHECK(mine["completedapps"].empty());
  CHECK(mine["activedrivers"].empty());

  // The application's link leads to its driver's UI.
  auto driver_port = url_port(a["appuiurl"].get<std::string>(), "");
  REQUIRE_MESSAGE(driver_port, a.dump());
  web driver{*driver_port};
  auto apps = driver.get_json("/api/v1/applications");
  REQUIRE(apps.size() == 1);
  CHECK(apps[0]["id"] == app_id);

  // -- Prometheus, read by its own parser --
  auto metrics = ui.get("/metrics/prometheus");
  REQUIRE(metrics);
  REQUIRE(metrics->status == 200);
  CHECK(metrics->get_header_value("Content-Type").starts_with("text/plain; version=0.0.4"));
  write_file(tmp.path / "metrics.txt", metrics->body);
  // Debian's interpreter: python3-prometheus-client is a Debian package (scripts/setup), which a
  // python3 earlier in PATH (pyenv, a venv) does not see.
  auto parsed = sh("/usr/bin/python3 -c 'import json, sys\n"
                   "from prometheus_client.parser import text_string_to_metric_families\n"
                   "out = {}\n"
                   "for f in text_string_to_metric_families(open(sys.argv[1]).read()):\n"
                   "    for s in f.samples:\n"
                   "        key = s.name + \"\".join(\"{%s=%s}\" % kv for kv in sorted(s.labels.items()))\n"
                   "        out[key] = s.value\n"
                   "print(json.dumps(out))' " +
                       quoted((tmp.path / "metrics.txt").string()),
                   tmp.path);
  REQUIRE_MESSAGE(parsed.exit_code == 0, parsed.err);
  auto m = json::parse(parsed.out);
  CHECK(m["ember_master_workers{state=alive}"] == 1.0);
  CHECK(m["ember_master_workers{state=dead}"] == 0.0);
  CHECK(m["ember_master_cores"] == 2.0);
  CHECK(m["ember_master_cores_used"] == 2.0);
  CHECK(m["ember_master_memory_bytes"] == 2.0 * 1024 * 1024 * 1024);
  CHECK(m["ember_master_memory_used_bytes"] == 512.0 * 1024 * 1024);
  CHECK(m["ember_master_apps{state=running}"] == 1.0);
  CHECK(m["ember_master_apps{state=completed}"] == 0.0);
  CHECK(m["ember_master_drivers{state=active}"] == 0.0);
  CHECK(m["ember_master_executors_running"] == 2.0);

  // -- the page --
  auto page = ui.get("/");
  REQUIRE(page);
  CHECK(page->status == 200);
  CHECK(page->body.find("/static/ember/js/master.js") != std::string::npos);
  auto script = ui.get("/static/ember/js/master.js");
  REQUIRE(script);
  CHECK(script->status == 200);
  CHECK(script->body.find("/app/kill/") != std::string::npos);

  // -- kills refused: GET, malformed, unknown --
  CHECK(status_of(ui.get("/app/kill/?id=" + app_id)) == 405);
  CHECK(status_of(ui.post("/app/kill/?id=../../etc/passwd")) == 400);
  CHECK(status_of(ui.post("/app/kill/?id=%2e%2e")) == 400);
  CHECK(status_of(ui.post("/app/kill/")) == 400);
  CHECK(status_of(ui.post("/app/kill/?id=app-20000101000000-9999")) == 404);
  CHECK(status_of(ui.post("/driver/kill/?id=driver-20000101000000-9999")) == 404);
  CHECK(ui.get_json("/json")["activeapps"].size() == 1);
  CHECK(probe.running());

  // -- a kill that kills --
  auto killed = ui.post("/app/kill/?id=" + app_id);
  REQUIRE(killed);
  INFO(killed->body);
  CHECK(killed->status == 200);
  CHECK(json::parse(killed->body)["success"] == true);
  // The driver hears it and its job fails: the probe ends, with an error.
  auto end = probe.wait_for(std::chrono::seconds{60});
  REQUIRE_MESSAGE(end.has_value(), slurp(tmp.path / "ui-cluster-probe.log"));
  CHECK(exit_code(*end) != 0);
  auto after = ui.get_json("/json");
  CHECK(after["activeapps"].empty());
  REQUIRE(after["completedapps"].size() == 1);
  CHECK(after["completedapps"][0]["id"] == app_id);
  CHECK(after["completedapps"][0]["state"] == "KILLED");
  CHECK(after["completedapps"][0]["duration"].get<std::uint64_t>() > 0);
  auto status_app = cluster.state(true)["apps"][0];
  CHECK(status_app["appId"] == app_id);
  CHECK(status_app["state"] == "killed");
  CHECK(status_app["executors"].empty());
  // Its cores are free again.
  CHECK(eventually([&] { return ui.get_json("/json")["coresused"] == 0; }));
}

TEST_CASE("master UI on a secured cluster: credentials, view and modify ACLs") {
  temp_dir tmp{"cluster-ui-acl"};
  const std::string secret = "ui-test-secret-3f9a";
  auto conf = tmp.path / "conf";
  fs::create_directories(conf);
  write_file(conf / "secret", secret + "\n");
  fs::permissions(conf / "secret", fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  write_file(conf / "ember-defaults.conf", "ember.authenticate true\nember.authenticate.secret.file " +
                                               (conf / "secret").string() +
                                               "\nember.acls.enable true\nember.ui.view.acls mallory\n");
  ::setenv("EMBER_CONF_DIR", conf.c_str(), 1);
  struct unset_conf {
    ~unset_conf() { ::unsetenv("EMBER_CONF_DIR"); }
  } restore;

  local_cluster cluster{tmp.path, {worker_spec{"127.0.0.1", 2, "2g"}}};
  int port = master_ui_port(tmp.path);
  auto probe = start_probe(cluster, tmp.path, "ui-acl-probe", {{"USER", "alice"}});
  web alice{port, "alice", secret};
  auto app = running_app(alice);
  std::string app_id = app["id"];
  CHECK(app["user"] == "alice");

  web anonymous{port};
  CHECK(status_of(anonymous.get("/json")) == 401);
  CHECK(status_of(anonymous.post("/app/kill/?id=" + app_id)) == 401);
  web wrong{port, "alice", "not-the-secret"};
  CHECK(status_of(wrong.get("/json")) == 401);

  // eve may not even view it: the master leaves it out, and a kill finds nothing.
  web eve{port, "eve", secret};
  CHECK(eve.get_json("/json")["activeapps"].empty());
  CHECK(status_of(eve.post("/app/kill/?id=" + app_id)) == 404);
  // mallory may view (ember.ui.view.acls) but not modify.
  web mallory{port, "mallory", secret};
  CHECK(mallory.get_json("/json")["activeapps"].size() == 1);
  auto refused = mallory.post("/app/kill/?id=" + app_id);
  REQUIRE(refused);
  CHECK(refused->status == 403);
  CHECK(json::parse(refused->body)["error"].get<std::string>().find("ember.modify.acls") != std::string::npos);
  CHECK(alice.get_json("/json")["activeapps"].size() == 1);
  CHECK(probe.running());

  // Its owner may.
  CHECK(status_of(alice.post("/app/kill/?id=" + app_id)) == 200);
  auto end = probe.wait_for(std::chrono::seconds{60});
  REQUIRE_MESSAGE(end.has_value(), slurp(tmp.path / "ui-acl-probe.log"));
  CHECK(alice.get_json("/json")["completedapps"][0]["state"] == "KILLED");
}
