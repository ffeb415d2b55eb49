// The data routes of an application UI, mounted on an http_server: the REST API under /api/v1
// and, for a live driver, /metrics/prometheus.
#pragma once

#include <memory>

#include "ui/app_source.hpp"
#include "ui/http_server.hpp"

namespace ember::ui {

void mount_rest_api(http_server& server, std::shared_ptr<app_source> apps);

// The metrics of every application of `apps` (the driver: its own) at /metrics/prometheus.
void mount_driver_metrics(http_server& server, std::shared_ptr<app_source> apps);

// Prometheus' content type for the text format.
inline constexpr const char* prometheus_content_type = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace ember::ui
