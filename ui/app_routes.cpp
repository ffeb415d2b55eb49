#include "ui/app_routes.hpp"

#include "ui/prometheus.hpp"

namespace ember::ui {

void mount_rest_api(http_server& server, std::shared_ptr<app_source> apps) {
  server.get("/api/v1/", [apps](const http_request& req) {
    return rest_request(*apps, std::string_view(req.path).substr(7), req.query);
  });
}

void mount_driver_metrics(http_server& server, std::shared_ptr<app_source> apps) {
  server.get("/metrics/prometheus", [apps](const http_request&) {
    prometheus_writer out;
    apps->for_each([&](const app_store& app) { write_driver_metrics(out, app); });
    http_reply r;
    r.body = out.text();
    r.content_type = prometheus_content_type;
    return r;
  });
}

}  // namespace ember::ui
