// Metrics sinks (ember.metrics.conf, in the form of Spark's metrics.properties): every `period` a
// reporter thread takes the process's metrics (the samples /metrics/prometheus shows) and writes
// them to its sinks. Two kinds, as Spark has:
//   *.sink.csv.class=org.apache.spark.metrics.sink.CsvSink     (or CsvSink)
//   *.sink.csv.period=10            *.sink.csv.unit=seconds    *.sink.csv.directory=/tmp/metrics
//       one file per metric (and label set) in the directory: "<prefix>.<metric>[.<label>=<value>]*.csv",
//       a header "t,value" and a line "<unix seconds>,<value>" per report;
//   *.sink.console.class=org.apache.spark.metrics.sink.ConsoleSink   (or ConsoleSink)
//   *.sink.console.period=10        *.sink.console.unit=seconds
//       a block on stdout per report: a time line, then "<metric>{<labels>} <value>" lines.
// The instance before ".sink" is `*` or the process's role (driver, master, worker); lines for
// other roles are ignored, as Spark does. The reporter reports once more when it stops.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <iosfwd>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ui/prometheus.hpp"

namespace ember::ui {

struct sink_spec {
  enum class kind { csv, console } what = kind::console;
  std::string name;  // the sink's name in the file ("csv" in *.sink.csv.*)
  std::chrono::milliseconds period{10'000};
  std::string directory;  // csv
};

// The sinks `role` uses from the file's text; throws std::runtime_error naming the file, line and
// what is wrong (unknown sink class or option, bad period or unit, a csv sink without directory).
std::vector<sink_spec> parse_metrics_conf(const std::string& text, const std::string& role, const std::string& file);
std::vector<sink_spec> load_metrics_conf(const std::string& path, const std::string& role);

// The file name a CSV sink writes a sample to (without the directory): the sample's app_id
// label, else `prefix`, then the metric and its other labels.
std::string csv_file_name(const std::string& prefix, const prometheus_writer::recorded& sample);

class metrics_reporter {
public:
  using collect_fn = std::function<void(prometheus_writer&)>;
  // `prefix` starts each CSV file's name (the application id, or "master"/"worker"); CSV
  // directories are created (0700) here: one that cannot be fails the start.
  metrics_reporter(std::vector<sink_spec> sinks, std::string prefix, collect_fn collect, std::ostream& console);
  ~metrics_reporter();
  metrics_reporter(const metrics_reporter&) = delete;
  metrics_reporter& operator=(const metrics_reporter&) = delete;

  void start();
  // Reports once more, then ends the thread.
  void stop();
  void report_now();

private:
  void report(const sink_spec& sink, const prometheus_writer& w);

  std::vector<sink_spec> sinks_;
  std::string prefix_;
  collect_fn collect_;
  std::ostream& console_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace ember::ui
