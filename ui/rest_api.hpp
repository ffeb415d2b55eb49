// The REST API under /api/v1, with Spark's paths and field names (docs/monitoring.md), answered
// from an app_source. Plain logic: the HTTP server (ui/http_server.hpp) hands it the path after
// /api/v1 and the query parameters.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ui/app_source.hpp"

namespace ember::ui {

struct http_reply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

using query_params = std::multimap<std::string, std::string>;

// A JSON error reply: {"error": message}.
http_reply json_error(int status, const std::string& message);

// `path` is what follows /api/v1 ("/applications/app-1/jobs").
http_reply rest_request(app_source& apps, std::string_view path, const query_params& query);

}  // namespace ember::ui
