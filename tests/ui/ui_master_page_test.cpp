// The master's page (ui/static/master.html + js/master.js) in headless Chromium on a real cluster
// with a running application: it draws the worker, the application (linked to its driver's UI,
// with a kill button), its executors, and logs nothing to the console. Values come from /json,
// which tests/integration/cluster_ui_test.cpp checks against `ember status`.
#include <doctest/doctest.h>

#include <algorithm>
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
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const std::string chromium = "/usr/bin/chromium";

bool contains(const std::string& text, const std::string& needle) { return text.find(needle) != std::string::npos; }

}  // namespace

TEST_CASE("the master page lists workers, the running application with its link and kill button, executors") {
  REQUIRE_MESSAGE(fs::exists(chromium), "the browser tests need Debian's chromium (scripts/setup)");
  temp_dir tmp{"ui-master-page"};
  local_cluster cluster{tmp.path, {worker_spec{"127.0.0.1", 2, "2g"}}};
  std::optional<int> found;
  REQUIRE(eventually([&] { return (found = url_port(slurp(tmp.path / "master.log"), "ember master UI at")).has_value(); }));
  int port = *found;
  spawn_options o;
  o.log = tmp.path / "probe.log";
  child probe({bin_dir + "/ui_probe", "--master", cluster.url(), "--conf", "ember.app.name=page-probe", "--conf",
               "ember.ui.port=0", "--conf", "ember.executor.memory=256m", "--conf", "ember.cores.max=2",
               (tmp.path / "never-go").string(), (tmp.path / "never-end").string()},
              o);
  httplib::Client http{"127.0.0.1", port};
  nlohmann::json state;
  REQUIRE_MESSAGE(eventually([&] {
                    auto r = http.Get("/json");
                    if (!r || r->status != 200)
                      return false;
                    state = nlohmann::json::parse(r->body);
                    return state["activeapps"].size() == 1 && state["activeapps"][0]["executors"].size() == 2;
                  }, 90s, 100ms),
                  state.dump());
  auto app = state["activeapps"][0];
  std::string app_id = app["id"], ui_url = app["appuiurl"], worker_id = state["workers"][0]["id"];

  std::string dom, err;
  std::vector<std::string> needles = {"data-ember-loaded=\"true\"",
                                      "href=\"" + ui_url + "\">" + app_id + "</a>",
                                      "data-kind=\"app\" data-id=\"" + app_id + "\"",
                                      "<td>page-probe</td>",
                                      "<td>" + worker_id + "</td>",
                                      "id=\"executors-table\"",
                                      "<td>256.0 MiB</td>",
                                      "No running drivers."};
  auto shot = tmp.path / "master.png";
  bool drawn = eventually(
      [&] {
        auto r = run({chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                      "--disable-extensions", "--disable-background-networking", "--disable-sync",
                      "--user-data-dir=" + (tmp.path / "chromium").string(), "--enable-logging=stderr", "--v=0",
                      "--window-size=1400,1000", "--virtual-time-budget=4000", "--screenshot=" + shot.string(),
                      "--dump-dom", "http://127.0.0.1:" + std::to_string(port) + "/"},
                     {}, 60s);
        dom = r.out;
        err = r.err;
        return r.exit_code == 0 && std::all_of(needles.begin(), needles.end(), [&](auto& n) { return contains(dom, n); });
      },
      30s, 0ms);
  for (auto& n : needles)
    CHECK_MESSAGE(contains(dom, n), "the page lacks ", n, "\n", dom);
  CHECK_MESSAGE(drawn, err);
  for (auto& line : split_lines(err))
    CHECK_MESSAGE(!(contains(line, ":CONSOLE") || contains(line, "Uncaught")), "console: ", line);
  CHECK(fs::exists(shot));
}
