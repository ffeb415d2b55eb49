// Prometheus' text exposition format (version 0.0.4), for /metrics/prometheus on the driver,
// master and worker UIs. Spark's metric names, translated: ember_driver_*, ember_executor_*,
// ember_master_*, ember_worker_* (docs/monitoring.md lists them).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ui/app_store.hpp"

namespace ember::ui {

using metric_labels = std::vector<std::pair<std::string, std::string>>;

class prometheus_writer {
public:
  enum class kind { counter, gauge };
  // Declares a metric family (HELP and TYPE lines); samples of it follow.
  void family(std::string_view name, kind k, std::string_view help);
  void sample(std::string_view name, double value, const metric_labels& labels = {});
  const std::string& text() const { return out_; }

  // The same samples as values, for the metrics sinks (ui/metrics_sinks.hpp).
  struct recorded {
    std::string name;
    metric_labels labels;
    double value = 0;
  };
  const std::vector<recorded>& samples() const { return samples_; }

private:
  std::string out_;
  std::vector<recorded> samples_;
};

// The driver's metrics, from its application's store.
void write_driver_metrics(prometheus_writer& out, const app_store& app);

}  // namespace ember::ui
