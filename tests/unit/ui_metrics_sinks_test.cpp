// ember.metrics.conf (ui/metrics_sinks.hpp): Spark's metrics.properties lines, the errors a bad
// file gets, and what the CSV and console sinks write.
#include <doctest/doctest.h>

#include <sstream>

#include "tests/support/files.hpp"
#include "tests/support/temp_dir.hpp"
#include "ui/metrics_sinks.hpp"

using namespace ember;

TEST_CASE("Spark's sink lines, for this role only") {
  auto sinks = ui::parse_metrics_conf(
    "# comment\n"
    "*.sink.csv.class=org.apache.spark.metrics.sink.CsvSink\n"
    "*.sink.csv.period=2\n"
    "*.sink.csv.directory=/tmp/m\n"
    "driver.sink.console.class=ConsoleSink\n"
    "driver.sink.console.period=500\n"
    "driver.sink.console.unit=milliseconds\n"
    "master.sink.other.class=ConsoleSink\n"
    "*.source.jvm.class=org.apache.spark.metrics.source.JvmSource\n",
    "driver", "m.properties");
  REQUIRE(sinks.size() == 2);
  CHECK(sinks[0].name == "console");
  CHECK(sinks[0].what == ui::sink_spec::kind::console);
  CHECK(sinks[0].period == std::chrono::milliseconds{500});
  CHECK(sinks[1].name == "csv");
  CHECK(sinks[1].what == ui::sink_spec::kind::csv);
  CHECK(sinks[1].period == std::chrono::seconds{2});
  CHECK(sinks[1].directory == "/tmp/m");
  CHECK(ui::parse_metrics_conf("master.sink.c.class=ConsoleSink\n", "driver", "f").empty());
}

TEST_CASE("a bad metrics file fails with its name, line and the problem") {
  auto error = [](const std::string& text) {
    try {
      ui::parse_metrics_conf(text, "driver", "m.properties");
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(error("*.sink.x.class=GraphiteSink\n") ==
        "ember.metrics.conf: m.properties:1: unknown sink class 'GraphiteSink' (CsvSink or ConsoleSink)");
  CHECK(error("*.sink.x.class=ConsoleSink\n*.sink.x.period=soon\n") ==
        "ember.metrics.conf: m.properties:2: bad period 'soon' (a positive integer)");
  CHECK(error("*.sink.x.class=CsvSink\n") == "ember.metrics.conf: m.properties:1: csv sink 'x' needs a directory");
  CHECK(error("*.sink.x.class=ConsoleSink\n*.sink.x.colour=red\n") ==
        "ember.metrics.conf: m.properties:2: unknown option 'colour' of sink 'x' (class, period, unit, directory)");
  CHECK(error("nonsense\n") == "ember.metrics.conf: m.properties:1: expected key=value, got 'nonsense'");
  CHECK(error("laptop.sink.x.class=ConsoleSink\n") ==
        "ember.metrics.conf: m.properties:1: unknown instance 'laptop' (*, driver, master, worker, executor or applications)");
  CHECK_THROWS_WITH(ui::load_metrics_conf("/nonexistent/m.properties", "driver"),
                    "ember.metrics.conf: cannot read '/nonexistent/m.properties'");
}

TEST_CASE("the CSV sink appends a row per report; the console sink prints every sample") {
  ember_test::temp_dir dir{"metrics-sinks"};
  ui::sink_spec csv;
  csv.what = ui::sink_spec::kind::csv;
  csv.name = "csv";
  csv.directory = dir.file("csv");
  ui::sink_spec console;
  console.name = "console";
  double tasks = 3;
  std::ostringstream out;
  ui::metrics_reporter r({csv, console}, "driver",
                         [&](ui::prometheus_writer& w) {
                           w.family("ember_driver_tasks_total", ui::prometheus_writer::kind::counter, "Tasks.");
                           w.sample("ember_driver_tasks_total", tasks, {{"app_id", "app-1"}, {"state", "succeeded"}});
                         },
                         out);
  r.report_now();
  tasks = 1500000;
  r.report_now();
  auto rows = ember_test::read_lines(dir.path / "csv" / "app-1.ember_driver_tasks_total.state=succeeded.csv");
  REQUIRE(rows.size() == 3);
  CHECK(rows[0] == "t,value");
  CHECK(rows[1].ends_with(",3"));
  CHECK(rows[2].ends_with(",1500000"));
  CHECK(out.str().find("ember_driver_tasks_total{app_id=\"app-1\",state=\"succeeded\"} 1500000\n") != std::string::npos);
}
