// ember_ui_assets: the files of ui/static/ compiled into the library (ui/assets.cmake), found by
// their path relative to ui/static/ with the content type the server sends them with.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "tests/support/files.hpp"
#include "ui/assets.hpp"

namespace {

const std::filesystem::path static_dir = std::filesystem::path{EMBER_SOURCE_DIR} / "ui" / "static";

} // namespace

TEST_CASE("every file of ui/static is compiled in, byte for byte") {
  size_t files = 0;
  for (auto& entry : std::filesystem::recursive_directory_iterator(static_dir)) {
    if (!entry.is_regular_file())
      continue;
    auto name = entry.path().lexically_relative(static_dir).generic_string();
    CAPTURE(name);
    auto* a = ember::ui::find_asset(name);
    REQUIRE(a != nullptr);
    CHECK(a->bytes == ember_test::slurp(entry.path()));
    ++files;
  }
  CHECK(files >= 8); // the seven pages and their shared script, at least
}

TEST_CASE("the pages and their scripts carry their content types") {
  auto type = [](const char* name) {
    auto* a = ember::ui::find_asset(name);
    REQUIRE(a != nullptr);
    return std::string{a->content_type};
  };
  for (auto* page : {"jobs.html", "job.html", "stages.html", "stage.html", "storage.html", "environment.html",
                     "executors.html"})
    CHECK(type(page) == "text/html; charset=utf-8");
  CHECK(type("js/ember-ui.js") == "application/javascript");
  CHECK(type("css/ember-ui.css") == "text/css");
}

TEST_CASE("a name that is not a file of ui/static finds nothing") {
  for (auto* name : {"", "js", "js/", "/jobs.html", "jobs.htm", "jobs.html ", "../ui/assets.hpp", "js/ember-ui.jsx",
                     "zzz.html"})
    CHECK(ember::ui::find_asset(name) == nullptr);
}

TEST_CASE("a page references only what the server serves: /static/ember/ files that exist and vendor files") {
  size_t pages = 0;
  for (auto& entry : std::filesystem::directory_iterator(static_dir)) {
    if (entry.path().extension() != ".html")
      continue;
    auto page = entry.path().filename().string();
    CAPTURE(page);
    ++pages;
    std::string html{ember::ui::find_asset(page)->bytes};
    for (std::string attr : {"src=\"", "href=\""}) {
      for (size_t at = html.find(attr); at != std::string::npos; at = html.find(attr, at + 1)) {
        auto start = at + attr.size();
        auto url = html.substr(start, html.find('"', start) - start);
        CAPTURE(url);
        if (url.rfind("/static/ember/", 0) == 0)
          CHECK(ember::ui::find_asset(url.substr(14)) != nullptr);
        else if (url.rfind("/static/vendor/", 0) == 0)
          CHECK(std::filesystem::exists("/usr/share/javascript/" + url.substr(15)));
        else
          CHECK((url == "data:," || url == "/")); // the empty favicon (no request: no 404), the history list
      }
    }
  }
  CHECK(pages >= 7);
}
