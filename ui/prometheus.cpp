#include "ui/prometheus.hpp"

#include <cmath>
#include <cstdio>

namespace ember::ui {

namespace {

void escape_into(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\' || c == '"')
      out += '\\', out += c;
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
}

void number_into(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  char buf[64];
  // Integral values (nearly all of ours) print exactly; others with full precision.
  if (std::floor(v) == v && std::fabs(v) < 9.007199254740992e15)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%.17g", v);
  out += buf;
}

}  // namespace

void prometheus_writer::family(std::string_view name, kind k, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  for (char c : help)
    out_ += c == '\n' ? ' ' : c;
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += k == kind::counter ? " counter\n" : " gauge\n";
}

void prometheus_writer::sample(std::string_view name, double value, const metric_labels& labels) {
  samples_.push_back({std::string(name), labels, value});
  out_ += name;
  if (!labels.empty()) {
    out_ += '{';
    bool first = true;
    for (const auto& [k, v] : labels) {
      if (!first)
        out_ += ',';
      first = false;
      out_ += k;
      out_ += "=\"";
      escape_into(out_, v);
      out_ += '"';
    }
    out_ += '}';
  }
  out_ += ' ';
  number_into(out_, value);
  out_ += '\n';
}

void write_driver_metrics(prometheus_writer& out, const app_store& app) {
  using k = prometheus_writer::kind;
  auto t = app.totals();
  metric_labels app_label{{"app_id", app.app_id()}};
  auto one = [&](std::string_view name, k kind, std::string_view help, double v) {
    out.family(name, kind, help);
    out.sample(name, v, app_label);
  };
  one("ember_driver_jobs_active", k::gauge, "Jobs running now.", static_cast<double>(t.jobs_active));
  out.family("ember_driver_jobs_total", k::counter, "Jobs ended, by result.");
  out.sample("ember_driver_jobs_total", static_cast<double>(t.jobs_succeeded), {app_label[0], {"result", "succeeded"}});
  out.sample("ember_driver_jobs_total", static_cast<double>(t.jobs_failed), {app_label[0], {"result", "failed"}});
  one("ember_driver_stages_active", k::gauge, "Stage attempts running now.", static_cast<double>(t.stages_active));
  out.family("ember_driver_stages_total", k::counter, "Stage attempts ended, by result.");
  out.sample("ember_driver_stages_total", static_cast<double>(t.stages_completed), {app_label[0], {"result", "completed"}});
  out.sample("ember_driver_stages_total", static_cast<double>(t.stages_failed), {app_label[0], {"result", "failed"}});
  one("ember_driver_tasks_active", k::gauge, "Task attempts running now.", static_cast<double>(t.tasks_active));
  out.family("ember_driver_tasks_total", k::counter, "Task attempts ended, by final state.");
  for (auto [state, n] : {std::pair{"succeeded", t.tasks_succeeded}, std::pair{"failed", t.tasks_failed},
                          std::pair{"killed", t.tasks_killed}, std::pair{"lost", t.tasks_lost}})
    out.sample("ember_driver_tasks_total", static_cast<double>(n), {app_label[0], {"state", state}});
  one("ember_driver_task_run_time_seconds_total", k::counter, "Run time of ended task attempts.",
      static_cast<double>(t.task_run_time_ms) / 1e3);
  one("ember_driver_task_cpu_time_seconds_total", k::counter, "CPU time of ended task attempts.",
      static_cast<double>(t.task_cpu_time_ns) / 1e9);
  one("ember_driver_shuffle_read_bytes_total", k::counter, "Shuffle bytes read by ended tasks.",
      static_cast<double>(t.shuffle_read_bytes));
  one("ember_driver_shuffle_write_bytes_total", k::counter, "Shuffle bytes written by ended tasks.",
      static_cast<double>(t.shuffle_write_bytes));
  one("ember_driver_input_bytes_total", k::counter, "Input bytes read by ended tasks.", static_cast<double>(t.input_bytes));
  one("ember_driver_output_bytes_total", k::counter, "Output bytes written by ended tasks.",
      static_cast<double>(t.output_bytes));
  one("ember_driver_memory_spilled_bytes_total", k::counter, "Bytes spilled from memory by ended tasks.",
      static_cast<double>(t.memory_spilled));
  one("ember_driver_disk_spilled_bytes_total", k::counter, "Bytes spilled to disk by ended tasks.",
      static_cast<double>(t.disk_spilled));
  one("ember_driver_executors_active", k::gauge, "Executors registered now.", static_cast<double>(t.executors_active));
  one("ember_driver_executors_removed_total", k::counter, "Executors lost or released.",
      static_cast<double>(t.executors_removed));

  auto executors = app.executor_list();
  struct family_def {
    const char* name;
    k kind;
    const char* help;
    double (*value)(const app_store::executor_gauges&);
  };
  static const family_def families[] = {
    {"ember_executor_active", k::gauge, "1 while the executor is registered, 0 once lost.",
     [](const app_store::executor_gauges& g) { return g.active ? 1.0 : 0.0; }},
    {"ember_executor_cores", k::gauge, "Task slots of the executor.",
     [](const app_store::executor_gauges& g) { return static_cast<double>(g.cores); }},
    {"ember_executor_max_memory_bytes", k::gauge, "Memory the executor may use.",
     [](const app_store::executor_gauges& g) { return static_cast<double>(g.max_memory); }},
    {"ember_executor_active_tasks", k::gauge, "Task attempts running on the executor.",
     [](const app_store::executor_gauges& g) { return static_cast<double>(g.active_tasks); }},
    {"ember_executor_completed_tasks_total", k::counter, "Task attempts that succeeded on the executor.",
     [](const app_store::executor_gauges& g) { return static_cast<double>(g.completed_tasks); }},
    {"ember_executor_failed_tasks_total", k::counter, "Task attempts that failed on the executor.",
     [](const app_store::executor_gauges& g) { return static_cast<double>(g.failed_tasks); }},
    {"ember_executor_task_time_seconds_total", k::counter, "Wall time of ended task attempts on the executor.",
     [](const app_store::executor_gauges& g) { return static_cast<double>(g.total_duration_ms) / 1e3; }},
    {"ember_executor_shuffle_read_bytes_total", k::counter, "Shuffle bytes read by the executor's tasks.",
     [](const app_store::executor_gauges& g) { return static_cast<double>(g.shuffle_read); }},
    {"ember_executor_shuffle_write_bytes_total", k::counter, "Shuffle bytes written by the executor's tasks.",
     [](const app_store::executor_gauges& g) { return static_cast<double>(g.shuffle_write); }},
    {"ember_executor_last_heartbeat_timestamp_seconds", k::gauge,
     "When the executor's last heartbeat with running tasks arrived (Unix time; 0: none yet).",
     [](const app_store::executor_gauges& g) { return static_cast<double>(g.last_heartbeat) / 1e3; }},
  };
  for (const auto& f : families) {
    out.family(f.name, f.kind, f.help);
    for (const auto& g : executors)
      out.sample(f.name, f.value(g), {app_label[0], {"executor_id", g.id}, {"host", g.host}});
  }
}

}  // namespace ember::ui
