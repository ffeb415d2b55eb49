#include "ui/pages.hpp"

#include <string>

#include "ui/assets.hpp"

namespace ember::ui {

http_reply serve_asset(const std::string& name) {
  const asset* a = find_asset(name);
  if (a == nullptr)
    return json_error(404, "no file " + name);
  http_reply r;
  r.body.assign(a->bytes);
  r.content_type.assign(a->content_type);
  return r;
}

namespace {

http_reply redirect(const std::string& to) {
  http_reply r;
  r.status = 302;
  r.content_type = "text/plain";
  r.headers.emplace_back("Location", to);
  r.body = "see " + to;
  return r;
}

}  // namespace

const char* page_for(std::string_view path) {
  static const std::pair<std::string_view, const char*> pages[] = {
    {"/jobs/", "jobs.html"},           {"/jobs/job/", "job.html"},
    {"/stages/", "stages.html"},       {"/stages/stage/", "stage.html"},
    {"/storage/", "storage.html"},     {"/environment/", "environment.html"},
    {"/executors/", "executors.html"},
  };
  for (const auto& [p, file] : pages)
    if (path == p)
      return file;
  return nullptr;
}

void mount_static(http_server& server) {
  server.get("/static/ember/", [](const http_request& req) { return serve_asset(req.path.substr(14)); });
}

void mount_pages(http_server& server, page_layout layout) {
  mount_static(server);
  server.get("/", [layout](const http_request& req) {
    std::string_view path = req.path;
    std::string prefix;
    if (layout == page_layout::history) {
      if (path == "/")
        return serve_asset("history.html");
      constexpr std::string_view h = "/history/";
      if (path.substr(0, h.size()) != h)
        return json_error(404, "no page at " + req.path);
      auto end = path.find('/', h.size());
      if (end == std::string_view::npos || end == h.size())
        return redirect(std::string(path) + "/jobs/");
      prefix = std::string(path.substr(0, end));
      path.remove_prefix(end);
    }
    if (path == "/")
      return redirect(prefix + "/jobs/");
    if (const char* file = page_for(path))
      return serve_asset(file);
    // Spark's paths without their trailing slash.
    if (page_for(std::string(path) + "/") != nullptr)
      return redirect(prefix + std::string(path) + "/");
    return json_error(404, "no page at " + req.path);
  });
}

}  // namespace ember::ui
