// The driver's REST API and /metrics/prometheus on a real application (tests/apps/ui_probe.cpp),
// checked against its event log by an independent reference (ui_rest_reference.py, which parses
// the metrics with Prometheus' own parser); then `ember history-server` on that log must answer
// exactly as the live driver did.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "tests/support/eventually.hpp"
#include "tests/support/files.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

using namespace ember_test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct rest_client {
  explicit rest_client(int port) : http("127.0.0.1", port) { http.set_read_timeout(30, 0); }
  httplib::Client http;

  httplib::Result raw(const std::string& path) { return http.Get(path.c_str()); }

  json get(const std::string& path) {
    auto r = http.Get(path.c_str());
    REQUIRE_MESSAGE(r, "GET " << path << " failed");
    INFO("GET " << path << " -> " << r->status << " " << r->body);
    REQUIRE(r->status == 200);
    return json::parse(r->body);
  }
};

// Every answer the reference checks, fetched from `c` and written to `dir` (names as the
// reference reads them); also returned, for comparing two servers.
std::map<std::string, json> fetch_all(rest_client& c, const std::string& app, const fs::path& dir) {
  std::map<std::string, json> out;
  auto base = "/api/v1/applications/" + app;
  out["jobs.json"] = c.get(base + "/jobs");
  out["stages.json"] = c.get(base + "/stages");
  for (const auto& s : out["stages.json"]) {
    if (s["status"] == "SKIPPED" || s["status"] == "PENDING")
      continue;
    auto key = std::to_string(s["stageId"].get<int>()) + "-" + std::to_string(s["attemptId"].get<int>());
    auto path = base + "/stages/" + std::to_string(s["stageId"].get<int>()) + "/" + std::to_string(s["attemptId"].get<int>());
    out["stage-" + key + ".json"] = c.get(path);
    out["tasks-" + key + ".json"] = c.get(path + "/taskList?offset=0&length=100000&sortBy=ID");
    out["summary-" + key + ".json"] = c.get(path + "/taskSummary?quantiles=0,0.25,0.5,0.75,1");
  }
  out["allexecutors.json"] = c.get(base + "/allexecutors");
  out["storage.json"] = c.get(base + "/storage/rdd");
  out["environment.json"] = c.get(base + "/environment");
  for (const auto& [name, body] : out)
    write_file(dir / name, body.dump());
  return out;
}

}  // namespace

TEST_CASE("REST and Prometheus agree with the event log; the history server answers as the driver did") {
  temp_dir dir{"ui-rest"};
  auto events = dir.path / "events";
  auto live = dir.path / "live";
  fs::create_directories(events);
  fs::create_directories(live);
  // Metrics sinks too (ember.metrics.conf): CSV files, and the console at the end.
  write_file(dir.path / "metrics.properties",
             "*.sink.csv.class=org.apache.spark.metrics.sink.CsvSink\n*.sink.csv.period=200\n*.sink.csv.unit=milliseconds\n"
             "*.sink.csv.directory=" + dir.file("csv") + "\n"
             "driver.sink.console.class=ConsoleSink\ndriver.sink.console.period=10\ndriver.sink.console.unit=minutes\n");
  spawn_options opts;
  opts.log = dir.path / "driver.err";
  opts.pipe_stdout = true;
  child app({bin_dir + "/ui_probe", "--master", "local[2]", "--conf", "ember.ui.port=0", "--conf",
             "ember.eventLog.enabled=true", "--conf", "ember.eventLog.dir=" + events.string(), "--conf",
             "ember.eventLog.buffer=0", "--conf", "ember.ui.showConsoleProgress=false", "--conf",
             "ember.metrics.conf=" + dir.file("metrics.properties"), dir.file("go"), dir.file("end")},
            opts);
  std::optional<int> port;
  REQUIRE(eventually([&] { return (port = url_port(slurp(opts.log), "Ember UI at")).has_value(); }));
  rest_client c{*port};

  std::string app_id;
  REQUIRE(eventually([&] {
    auto apps = c.get("/api/v1/applications");
    if (apps.empty())
      return false;
    app_id = apps[0]["id"];
    return true;
  }));
  auto base = "/api/v1/applications/" + app_id;

  // While job 1's map tasks wait for the go file: it runs, and so does its first stage.
  REQUIRE(eventually([&] {
    auto jobs = c.get(base + "/jobs?status=running");
    return jobs.size() == 1 && jobs[0]["jobId"] == 1 && jobs[0]["numActiveTasks"].get<int>() > 0;
  }));
  auto active = c.get(base + "/stages?status=active");
  REQUIRE(active.size() == 1);
  // Launched: two on task threads, the others perhaps queued at the executor (taskQueueDepth).
  CHECK(active[0]["numActiveTasks"].get<int>() >= 2);
  CHECK(active[0]["numActiveTasks"].get<int>() <= 4);
  CHECK(c.get(base).at("attempts").at(0).at("completed") == false);

  // Unknown ids: 404 with a JSON error.
  auto missing = c.raw(base + "/jobs/999");
  REQUIRE(missing);
  CHECK(missing->status == 404);
  CHECK(json::parse(missing->body)["error"] == "unknown job 999");
  CHECK(c.raw("/api/v1/applications/nobody/jobs")->status == 404);

  write_file(dir.file("go"), "");
  std::optional<std::string> line;
  while ((line = app.line()) && *line != "jobs done") {
  }
  REQUIRE(line);
  REQUIRE(eventually([&] { return c.get(base + "/jobs?status=succeeded").size() == 2; }));

  // Paging and sorting of the reduce stage's tasks (3 of them).
  auto stages = c.get(base + "/stages?status=complete");
  REQUIRE(stages.size() == 3);
  auto reduce = stages[0];
  auto tasks_path = base + "/stages/" + std::to_string(reduce["stageId"].get<int>()) + "/0/taskList";
  auto page = c.http.Get((tasks_path + "?offset=1&length=1&sortBy=-ID").c_str());
  REQUIRE(page);
  CHECK(page->get_header_value("X-Total-Count") == "3");
  auto all = c.get(tasks_path + "?length=10&sortBy=ID");
  REQUIRE(all.size() == 3);
  CHECK(json::parse(page->body) == json::array({all[1]}));
  auto by_runtime = c.get(tasks_path + "?length=10&sortBy=-runtime");
  CHECK(by_runtime[0]["duration"] >= by_runtime[1]["duration"]);
  CHECK(by_runtime[1]["duration"] >= by_runtime[2]["duration"]);

  auto answers = fetch_all(c, app_id, live);
  auto metrics = c.http.Get("/metrics/prometheus");
  REQUIRE(metrics);
  CHECK(metrics->get_header_value("Content-Type").starts_with("text/plain; version=0.0.4"));
  write_file(live / "metrics.txt", metrics->body);

  int completed = 0;
  for (const auto& st : answers["stages.json"])
    completed += st["numCompleteTasks"].get<int>();
  write_file(dir.file("end"), "");
  std::string rest_of_stdout;
  while ((line = app.line()))
    rest_of_stdout += *line + "\n";
  CHECK(app.wait() == 0);
  // The sinks' last report, made as the context stopped.
  std::string tasks_metric = "ember_driver_tasks_total{app_id=\"";
  tasks_metric.append(app_id).append("\",state=\"succeeded\"} ").append(std::to_string(completed)).append("\n");
  CHECK_MESSAGE(rest_of_stdout.find(tasks_metric) != std::string::npos, rest_of_stdout);
  auto csv = read_lines(dir.path / "csv" / (app_id + ".ember_driver_tasks_total.state=succeeded.csv"));
  REQUIRE(csv.size() >= 2);
  CHECK(csv.front() == "t,value");
  std::string last_value = ",";
  last_value.append(std::to_string(completed));
  CHECK(csv.back().ends_with(last_value));
  auto log = events / (app_id + ".jsonl");
  REQUIRE(fs::exists(log));
  // Debian's python3, which has python3-prometheus-client (not whatever else is first on PATH).
  auto check = sh("/usr/bin/python3 " + quoted(std::string(EMBER_SOURCE_DIR) + "/tests/integration/ui_rest_reference.py") +
                    " " + quoted(log.string()) + " " + quoted(live.string()),
                  dir.path);
  INFO(check.out << check.err);
  CHECK(check.exit_code == 0);
  CHECK(check.out.starts_with("ok "));

  // The history server, on the same log, plus a truncated line a dying driver could leave.
  {
    std::ofstream(log, std::ios::app) << R"({"jobStart":{"jobId":7,"stageIds":[)";
  }
  spawn_options hopts;
  hopts.log = dir.path / "history.err";
  hopts.pipe_stdout = true;
  child history({bin_dir + "/ember", "--conf", "ember.history.fs.update.interval=100ms", "history-server", "--dir",
                 events.string(), "--port", "0"},
                hopts);
  auto first = history.line();
  REQUIRE(first);
  auto hport = url_port(*first, "ember history server at");
  REQUIRE(hport);
  rest_client h{*hport};
  auto apps = h.get("/api/v1/applications");
  REQUIRE(apps.size() == 1);
  CHECK(apps[0]["id"] == app_id);
  CHECK(apps[0]["attempts"][0]["completed"] == true);
  fs::create_directories(dir.path / "history");
  auto replayed = fetch_all(h, app_id, dir.path / "history");
  for (const auto& [name, body] : answers) {
    CAPTURE(name);
    CHECK(replayed[name] == body);
  }
  CHECK(h.raw("/api/v1/applications/" + app_id + "/jobs/7")->status == 404);  // the unfinished line
}

TEST_CASE("on a cluster secured by a secret, the UI wants it, listens on loopback and applies the view ACLs") {
  temp_dir dir{"ui-auth"};
  std::string secret = "ui-test-secret-0123456789abcdef";
  write_file(dir.path / "secret", secret);
  fs::permissions(dir.path / "secret", fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  spawn_options opts;
  opts.log = dir.path / "driver.err";
  opts.pipe_stdout = true;
  child app({bin_dir + "/ui_probe", "--master", "local[2]", "--conf", "ember.ui.port=0", "--conf",
             "ember.authenticate=true", "--conf", "ember.authenticate.secret.file=" + dir.file("secret"), "--conf",
             "ember.acls.enable=true", "--conf", "ember.ui.view.acls=carol", "--conf",
             "ember.ui.showConsoleProgress=false", dir.file("go"), dir.file("end")},
            opts);
  std::optional<int> port;
  REQUIRE(eventually([&] { return (port = url_port(slurp(opts.log), "Ember UI at")).has_value(); }));
  CHECK(slurp(opts.log).find("Ember UI at http://127.0.0.1:") != std::string::npos);
  auto status = [&](const std::string& user, const std::string& password, const std::string& path) {
    httplib::Client c("127.0.0.1", *port);
    if (!user.empty())
      c.set_basic_auth(user.c_str(), password.c_str());
    auto r = c.Get(path.c_str());
    REQUIRE(r);
    if (r->status != 200)
      CHECK(json::parse(r->body).contains("error"));
    return r->status;
  };
  CHECK(status("", "", "/api/v1/applications") == 401);
  CHECK(status("", "", "/static/vendor/jquery/jquery.min.js") == 401);  // the vendor files too
  CHECK(status("carol", "not-the-secret", "/jobs/") == 401);
  CHECK(status("mallory", secret, "/api/v1/applications") == 403);
  CHECK(status("carol", secret, "/api/v1/applications") == 200);
  auto owner = run({"/usr/bin/id", "-un"}).out;
  owner.erase(owner.find_last_not_of('\n') + 1);
  CHECK(status(owner, secret, "/metrics/prometheus") == 200);
  write_file(dir.file("go"), "");
  write_file(dir.file("end"), "");
  CHECK(app.wait() == 0);
}
