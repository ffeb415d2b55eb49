// The web UI's pages (ui/static/, compiled in: ui/assets.hpp) at Spark's paths, and their own
// scripts and styles under /static/ember/. The driver serves an application's pages at the root
// ("/" goes to /jobs/); the history server lists applications at "/" and serves each one's pages
// under /history/<app id>/. The pages read everything from the REST API.
#pragma once

#include <string>

#include "ui/http_server.hpp"

namespace ember::ui {

enum class page_layout { driver, history };

void mount_pages(http_server& server, page_layout layout);

// The pages' own scripts and styles under /static/ember/ (every UI that serves a page needs them).
void mount_static(http_server& server);

// A compiled-in file of ui/static/ as a reply; 404 with a JSON error when there is none.
http_reply serve_asset(const std::string& name);

// The page file for a path after any /history/<id> prefix ("/stages/stage/" -> "stage.html");
// nullptr for none.
const char* page_for(std::string_view path);

}  // namespace ember::ui
