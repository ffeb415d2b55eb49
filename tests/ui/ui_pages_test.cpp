// The web UI in a real browser: headless Chromium loads every tab of a real application's driver
// UI while its job runs and after it has ended, then every tab of `ember history-server` on that
// application's event log, and the test checks that the DOM the pages' scripts built holds the
// values it knows independently (from the event log: job, stage, task, operator, dataset and
// executor ids, task counts, properties with their origin), that no page wrote to its console
// (messages, uncaught errors) or failed to load its data, and takes a screenshot of each (in the
// test's temp dir; EMBER_UI_SCREENSHOTS=<dir> keeps them there instead).
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "tests/support/cluster.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/files.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ember_test::child;
using ember_test::temp_dir;
using nlohmann::json;

namespace {

const std::string chromium = "/usr/bin/chromium";

struct page {
  std::string url;
  std::string dom;                  // after the scripts ran (chromium --dump-dom)
  std::vector<std::string> console; // every console message and uncaught error: none is allowed
  fs::path screenshot;
};

bool contains(const std::string& text, const std::string& needle) { return text.find(needle) != std::string::npos; }

class browser {
public:
  browser(fs::path profile, fs::path shots) : profile_(std::move(profile)), shots_(std::move(shots)) {
    fs::create_directories(shots_);
  }

  // One headless Chromium run: the page loaded, its scripts given a few seconds of virtual time
  // (network fetches pause it, so the REST answers arrive within it) to draw and refresh once,
  // then the DOM, the console (--enable-logging: one "CONSOLE" line per message, whatever its
  // level) and a screenshot.
  page load(const std::string& url, const std::string& shot) {
    page p{url, {}, {}, shots_ / (shot + ".png")};
    std::error_code ec;
    fs::remove(p.screenshot, ec);
    auto r = ember_test::run({chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                              "--disable-extensions", "--disable-background-networking", "--disable-sync",
                              "--user-data-dir=" + profile_.string(), "--enable-logging=stderr", "--v=0",
                              "--window-size=1400,1600", "--virtual-time-budget=4000",
                              "--screenshot=" + p.screenshot.string(), "--dump-dom", url},
                             {}, 60s);
    INFO(url, "\n", r.err);
    REQUIRE(r.exit_code == 0);
    p.dom = r.out;
    for (auto& line : ember_test::split_lines(r.err))
      if (contains(line, ":CONSOLE") || contains(line, "Uncaught"))
        p.console.push_back(line);
    return p;
  }

private:
  fs::path profile_;
  fs::path shots_;
};

// The page loaded its data at least once (ember-ui.js counts the loads on <body>) and never failed.
bool loaded(const page& p) {
  return contains(p.dom, "data-ember-loaded=\"") && !contains(p.dom, "data-ember-failed=\"");
}

std::vector<std::string> missing(const page& p, const std::vector<std::string>& needles) {
  std::vector<std::string> out;
  for (auto& n : needles)
    if (!contains(p.dom, n))
      out.push_back(n);
  return out;
}

// Loads `url` until its DOM holds every needle (the UI's state follows the listener bus, so it may
// lag the event log the test reads by a moment), then checks it: needles, loads, console, shot.
page look(browser& b, const std::string& url, const std::string& shot, const std::vector<std::string>& needles) {
  page p;
  ember_test::eventually(
    [&] {
      p = b.load(url, shot);
      return loaded(p) && missing(p, needles).empty();
    },
    15s, 0ms);
  INFO("page ", url, " (screenshot ", p.screenshot.string(), ")");
  CHECK_MESSAGE(loaded(p), p.dom);
  for (auto& n : missing(p, needles))
    CHECK_MESSAGE(false, "the page lacks ", n, "\n", p.dom);
  for (auto& line : p.console)
    CHECK_MESSAGE(false, "console: ", line);
  CHECK(contains(p.dom, "class=\"navbar-brand\"")); // the navigation bar was drawn
  CHECK(fs::exists(p.screenshot));
  CHECK(fs::file_size(p.screenshot) > 0);
  return p;
}

std::string attr(const std::string& name, const std::string& value) { return name + "=\"" + value + "\""; }
std::string attr(const std::string& name, int64_t value) { return attr(name, std::to_string(value)); }

// What the event log says about the application so far.
struct history {
  std::string app_id;
  std::vector<std::string> executors;
  std::map<int, std::vector<int>> job_stages;          // jobId -> stageIds
  std::map<int, int> stage_tasks;                      // submitted stageId -> numTasks
  std::map<int, std::vector<std::string>> started;     // stageId -> taskIds launched
  std::map<int, std::vector<std::string>> finished;    // stageId -> taskIds finished
  std::set<int> jobs_ended;
  std::map<int, std::vector<int>> operators;             // stageId -> the ids of its DAG's operators
  std::map<int, std::set<int>> cached;                   // rddId -> partitions in a block manager
  std::map<std::string, std::string> properties;         // key -> "<value></td><td><origin>"

  explicit history(const fs::path& dir) {
    for (auto& e : ember_test::read_events(dir, true)) {
      if (e.contains("applicationStart"))
        app_id = e["applicationStart"]["appId"].get<std::string>();
      if (e.contains("executorAdded"))
        executors.push_back(e["executorAdded"]["executorId"].get<std::string>());
      if (e.contains("jobStart"))
        job_stages[e["jobStart"]["jobId"].get<int>()] = e["jobStart"]["stageIds"].get<std::vector<int>>();
      if (e.contains("jobEnd"))
        jobs_ended.insert(e["jobEnd"]["jobId"].get<int>());
      if (e.contains("stageSubmitted")) {
        auto& s = e["stageSubmitted"];
        stage_tasks[s["stageId"].get<int>()] = s["numTasks"].get<int>();
        for (auto& op : s["operators"])
          operators[s["stageId"].get<int>()].push_back(op["id"].get<int>());
      }
      if (e.contains("blockUpdated") && e["blockUpdated"]["memSize"] != "0")
        cached[e["blockUpdated"]["rddId"].get<int>()].insert(e["blockUpdated"]["partition"].get<int>());
      if (e.contains("environmentUpdate"))
        for (auto& p : e["environmentUpdate"]["properties"])
          properties[p["name"].get<std::string>()] =
            p["value"].get<std::string>() + "</td><td>" + p["origin"].get<std::string>();
      if (e.contains("taskStart"))
        started[e["taskStart"]["stageId"].get<int>()].push_back(e["taskStart"]["taskId"].get<std::string>());
      if (e.contains("taskEnd") && e["taskEnd"]["state"] == "finished")
        finished[e["taskEnd"]["stageId"].get<int>()].push_back(e["taskEnd"]["taskId"].get<std::string>());
    }
  }

  size_t all_finished() const {
    size_t n = 0;
    for (auto& [stage, tasks] : finished)
      n += tasks.size();
    return n;
  }
};

// Every tab once both jobs have ended, under `root` (the driver's http://host:port, or a history
// server's .../history/<appId>): the values of the event log `h` on each.
void look_at_finished_jobs(browser& b, history& h, const std::string& root, const std::string& shot) {
  const int running_job = 1;
  std::vector<std::string> jobs_needles{"id=\"jobs-active-count\">0<", "id=\"jobs-completed-count\">2<"};
  for (int job : {0, 1})
    jobs_needles.push_back(attr("data-job-id", job) + " " + attr("data-job-status", "SUCCEEDED"));
  jobs_needles.push_back(attr("data-succeeded", 7) + " " + attr("data-total", 7) + " " + attr("data-failed", 0) +
                         " " + attr("data-active", 0));
  look(b, root + "/jobs/", shot + "jobs", jobs_needles);

  std::vector<std::string> job_needles{"id=\"job-status\">SUCCEEDED<"};
  for (int s : h.job_stages[running_job])
    job_needles.push_back(attr("data-stage-id", s));
  look(b, root + "/jobs/job/?id=" + std::to_string(running_job), shot + "job", job_needles);

  std::vector<std::string> stages_needles;
  for (auto& [stage, tasks] : h.stage_tasks) {
    stages_needles.push_back(attr("data-stage-id", stage) + " " + attr("data-stage-attempt", 0));
    stages_needles.push_back(attr("data-succeeded", tasks) + " " + attr("data-total", tasks) + " " +
                             attr("data-failed", 0) + " " + attr("data-active", 0));
  }
  look(b, root + "/stages/", shot + "stages", stages_needles);

  for (auto& [stage, tasks] : h.stage_tasks) {
    REQUIRE(h.finished[stage].size() == size_t(tasks));
    std::vector<std::string> needles{"id=\"stage-status\">COMPLETE<", "id=\"stage-dag-svg\"",
                                     "id=\"stage-task-count\">" + std::to_string(tasks) + "<",
                                     "id=\"stage-metrics-table\"", attr("data-metric", "Duration"),
                                     attr("data-metric", "Executor CPU Time"),
                                     attr("data-metric", "Shuffle Write Size / Records"),
                                     "id=\"stage-executors-table\"", attr("data-executor-id", "driver")};
    for (auto& task : h.finished[stage])
      needles.push_back(attr("data-task-id", task) + " ");
    for (int op : h.operators[stage])
      needles.push_back(attr("data-operator-id", op));
    look(b, root + "/stages/stage/?id=" + std::to_string(stage) + "&attempt=0", shot + "stage-" + std::to_string(stage),
         needles);
  }
  look(b, root + "/storage/", shot + "storage", {attr("data-rdd-id", h.cached.begin()->first), "<td>4/4</td>"});
  look(b, root + "/environment/", shot + "environment",
       {"ember.master</td><td>" + h.properties.at("ember.master") + "</td>"});
  look(b, root + "/executors/", shot + "executors",
       {attr("data-executor-id", "driver"), attr("data-active-tasks", 0),
        attr("data-completed-tasks", int64_t(h.all_finished()))});
}

} // namespace

TEST_CASE("every tab of the driver UI in headless Chromium, while a job runs and after it ends") {
  REQUIRE_MESSAGE(fs::exists(chromium), "the browser tests need Debian's chromium (scripts/setup)");
  temp_dir dir{"ember-ui-pages"};
  auto shots = std::getenv("EMBER_UI_SCREENSHOTS") ? fs::path{std::getenv("EMBER_UI_SCREENSHOTS")} : dir.path / "shots";
  browser b{dir.path / "chromium", shots};
  auto events = dir.path / "events";
  auto go = dir.file("go");
  auto end = dir.file("end");

  ember_test::spawn_options options;
  options.pipe_stdout = true;
  options.log = dir.path / "ui_probe.err";
  child app{{ember_test::bin_dir + "/ui_probe", "--master", "local[4]", "--name", "ui_probe", "--conf",
             "ember.ui.port=" + std::to_string(ember_test::free_port()), "--conf", "ember.eventLog.enabled=true",
             "--conf", "ember.eventLog.dir=" + events.string(), "--conf", "ember.eventLog.buffer=0", go, end},
            options};

  // The driver prints where its UI listens (the port asked for, or the next free one).
  std::string base;
  ember_test::eventually(
    [&] {
      std::smatch m;
      auto err = ember_test::slurp(options.log);
      static const std::regex url_line{R"(Ember UI at (http://[^\s/]+))"};
      if (std::regex_search(err, m, url_line))
        base = m[1];
      return !base.empty() || !app.running();
    },
    30s);
  REQUIRE_MESSAGE(!base.empty(), "no \"Ember UI at http://...\" line: ", ember_test::slurp(options.log));

  // -- while job 1 runs: its 4 map tasks wait for `go` ------------------------------------------
  const int running_job = 1;
  int running_stage = -1;
  REQUIRE_MESSAGE(ember_test::eventually(
                    [&] {
                      history h{events};
                      if (!h.job_stages.count(running_job))
                        return false;
                      for (int s : h.job_stages[running_job])
                        if (h.stage_tasks.count(s) && h.started[s].size() == 4)
                          running_stage = s;
                      return running_stage >= 0;
                    },
                    60s),
                  ember_test::slurp(options.log));
  {
    history h{events};
    REQUIRE(h.executors == std::vector<std::string>{"driver"}); // local mode: the driver's own executor
    REQUIRE(h.job_stages.count(0));
    REQUIRE(h.jobs_ended == std::set<int>{0});
    int done_stage = h.job_stages[0].at(0);

    look(b, base + "/jobs/", "running-jobs",
         {attr("data-job-id", 0) + " " + attr("data-job-status", "SUCCEEDED"),
          attr("data-job-id", running_job) + " " + attr("data-job-status", "RUNNING"),
          attr("data-succeeded", 4) + " " + attr("data-total", 4), attr("data-active", 4),
          "id=\"jobs-timeline-svg\"", attr("data-executor-id", "driver"), "id=\"jobs-active-count\">1<",
          "id=\"jobs-completed-count\">1<"});
    look(b, base + "/jobs/job/?id=" + std::to_string(running_job), "running-job",
         {"id=\"job-status\">RUNNING<", attr("data-stage-id", running_stage), attr("data-active", 4)});
    look(b, base + "/stages/", "running-stages",
         {attr("data-stage-id", done_stage) + " " + attr("data-stage-attempt", 0),
          attr("data-stage-id", running_stage) + " " + attr("data-stage-attempt", 0),
          attr("data-succeeded", 0) + " " + attr("data-total", 4) + " " + attr("data-failed", 0) + " " +
            attr("data-active", 4)});
    std::vector<std::string> stage_needles{"id=\"stage-status\">ACTIVE<", "id=\"stage-dag-svg\"",
                                           "data-operator-id=", "id=\"stage-task-count\">4<",
                                           "id=\"stage-metrics-empty\""};
    for (auto& task : h.started[running_stage])
      stage_needles.push_back(attr("data-task-id", task) + " ");
    for (int op : h.operators[running_stage])
      stage_needles.push_back(attr("data-operator-id", op));
    look(b, base + "/stages/stage/?id=" + std::to_string(running_stage) + "&attempt=0", "running-stage", stage_needles);
    REQUIRE(h.cached.size() == 1); // job 0's dataset, all 4 partitions in memory
    REQUIRE(h.cached.begin()->second.size() == 4);
    look(b, base + "/storage/", "running-storage", {attr("data-rdd-id", h.cached.begin()->first), "<td>4/4</td>"});
    // Each property's row: its name, then value and origin as the environmentUpdate event has them.
    REQUIRE(h.properties["ember.master"] == "local[4]</td><td>--master");
    std::vector<std::string> env_needles;
    for (auto key : {"ember.master", "ember.app.name", "ember.eventLog.buffer", "ember.ui.port"})
      env_needles.push_back(std::string{key} + "</td><td>" + h.properties.at(key) + "</td>");
    look(b, base + "/environment/", "running-environment", env_needles);
    look(b, base + "/executors/", "running-executors",
         {attr("data-executor-id", "driver") + " " + attr("data-executor-active", "true") + " " +
          attr("data-active-tasks", 4)});

    // An unknown id: the server's 404 message is on the page, which reports the failure.
    auto p = b.load(base + "/jobs/job/?id=999999", "unknown-job");
    CHECK(contains(p.dom, "data-ember-failed=\""));
    CHECK(contains(p.dom, "class=\"alert alert-danger\" role=\"alert\" id=\"ember-error\">"));
    CHECK_FALSE(contains(p.dom, "id=\"ember-error\"></div>"));
    for (auto& line : p.console)
      CHECK_MESSAGE(false, "console: ", line);
  }

  // -- after the jobs ended (the application still up) -------------------------------------------
  ember_test::write_file(go, "");
  bool done = false;
  while (auto line = app.line(60s))
    if ((done = *line == "jobs done"))
      break;
  REQUIRE_MESSAGE(done, ember_test::slurp(options.log));
  {
    // The listener bus writes jobEnd a moment after the action has returned.
    ember_test::eventually([&] { return history{events}.jobs_ended.size() == 2; }, 30s);
    history h{events};
    REQUIRE(h.jobs_ended == std::set<int>{0, 1});
    auto job_tasks = [&](int job) {
      size_t n = 0;
      for (int s : h.job_stages[job])
        n += h.finished[s].size();
      return n;
    };
    REQUIRE(job_tasks(0) == 4);
    REQUIRE(job_tasks(1) == 4 + 3);

    look_at_finished_jobs(b, h, base, "ended-");
  }

  ember_test::write_file(end, "");
  auto status = app.wait_for(60s);
  REQUIRE(status.has_value());
  CHECK(ember_test::exit_code(*status) == 0);

  // -- the history server on the finished application's event log ------------------------------
  history h{events};
  REQUIRE(!h.app_id.empty());
  ember_test::spawn_options hoptions;
  hoptions.pipe_stdout = true;
  hoptions.log = dir.path / "history.err";
  child server{{ember_test::bin_dir + "/ember", "history-server", "--dir", events.string(), "--port", "0"}, hoptions};
  auto first = server.line(30s);
  static const std::regex url_line{R"(history server at (http://[^\s/]+))"};
  std::smatch m;
  REQUIRE_MESSAGE((first && std::regex_search(*first, m, url_line)), ember_test::slurp(hoptions.log));
  std::string hbase = m[1];
  look(b, hbase + "/", "history-applications", {attr("data-app-id", h.app_id)});
  auto root = hbase + "/history/" + h.app_id;
  auto jobs = look(b, root + "/jobs/", "history-jobs", {attr("data-job-id", 1)});
  // Links stay under the application's prefix.
  CHECK(contains(jobs.dom, "href=\"/history/" + h.app_id + "/stages/\""));
  CHECK(contains(jobs.dom, "href=\"/history/" + h.app_id + "/jobs/job/?id=1\""));
  look_at_finished_jobs(b, h, root, "history-");
}
