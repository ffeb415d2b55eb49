#include "ui/metrics_sinks.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>
#include <sstream>
#include <stdexcept>

#include "config/log.hpp"
#include "config/secure_fs.hpp"

namespace ember::ui {

namespace {

std::string trim(std::string s) {
  auto first = s.find_first_not_of(" \t\r");
  auto last = s.find_last_not_of(" \t\r");
  return first == std::string::npos ? "" : s.substr(first, last - first + 1);
}

std::string safe(std::string s) {
  for (auto& c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == '='))
      c = '_';
  return s;
}

}  // namespace

std::vector<sink_spec> parse_metrics_conf(const std::string& text, const std::string& role, const std::string& file) {
  struct raw {
    std::map<std::string, std::pair<std::string, int>> options;  // option -> value, line
  };
  std::map<std::string, raw> by_name;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  auto fail = [&](int at, const std::string& what) {
    throw std::runtime_error("ember.metrics.conf: " + file + ":" + std::to_string(at) + ": " + what);
  };
  while (std::getline(in, line)) {
    ++number;
    line = trim(line);
    if (line.empty() || line[0] == '#')
      continue;
    auto eq = line.find('=');
    if (eq == std::string::npos)
      fail(number, "expected key=value, got '" + line + "'");
    auto key = trim(line.substr(0, eq));
    auto value = trim(line.substr(eq + 1));
    // <instance>.sink.<name>.<option>; sources and other instances are not ours.
    auto dot = key.find('.');
    if (dot == std::string::npos)
      fail(number, "unknown key '" + key + "' (expected <instance>.sink.<name>.<option>)");
    auto instance = key.substr(0, dot);
    auto rest = key.substr(dot + 1);
    if (rest.rfind("source.", 0) == 0)
      continue;
    if (rest.rfind("sink.", 0) != 0)
      fail(number, "unknown key '" + key + "' (expected <instance>.sink.<name>.<option>)");
    if (instance != "*" && instance != role && instance != "driver" && instance != "master" && instance != "worker" &&
        instance != "executor" && instance != "applications")
      fail(number, "unknown instance '" + instance + "' (*, driver, master, worker, executor or applications)");
    if (instance != "*" && instance != role)
      continue;
    rest = rest.substr(5);
    auto dot2 = rest.find('.');
    if (dot2 == std::string::npos || dot2 == 0 || dot2 + 1 == rest.size())
      fail(number, "unknown key '" + key + "' (expected <instance>.sink.<name>.<option>)");
    // A role's own line overrides the `*` one.
    auto& slot = by_name[rest.substr(0, dot2)].options[rest.substr(dot2 + 1)];
    if (slot.first.empty() || instance == role)
      slot = {value, number};
  }
  std::vector<sink_spec> out;
  for (auto& [name, r] : by_name) {
    sink_spec s;
    s.name = name;
    auto get = [&](const std::string& option) -> const std::pair<std::string, int>* {
      auto it = r.options.find(option);
      return it == r.options.end() ? nullptr : &it->second;
    };
    auto cls = get("class");
    if (cls == nullptr)
      fail(0, "sink '" + name + "' has no class");
    auto c = cls->first.substr(cls->first.rfind('.') == std::string::npos ? 0 : cls->first.rfind('.') + 1);
    if (c == "CsvSink")
      s.what = sink_spec::kind::csv;
    else if (c == "ConsoleSink")
      s.what = sink_spec::kind::console;
    else
      fail(cls->second, "unknown sink class '" + cls->first + "' (CsvSink or ConsoleSink)");
    int64_t period = 10;
    if (auto p = get("period")) {
      auto [end, ec] = std::from_chars(p->first.data(), p->first.data() + p->first.size(), period);
      if (ec != std::errc{} || end != p->first.data() + p->first.size() || period < 1)
        fail(p->second, "bad period '" + p->first + "' (a positive integer)");
    }
    std::string unit = "seconds";
    if (auto u = get("unit"))
      unit = u->first;
    for (auto& ch : unit)
      ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (unit == "seconds")
      s.period = std::chrono::seconds{period};
    else if (unit == "milliseconds")
      s.period = std::chrono::milliseconds{period};
    else if (unit == "minutes")
      s.period = std::chrono::minutes{period};
    else
      fail(get("unit")->second, "bad unit '" + get("unit")->first + "' (milliseconds, seconds or minutes)");
    if (s.what == sink_spec::kind::csv) {
      auto d = get("directory");
      if (d == nullptr || d->first.empty())
        fail(cls->second, "csv sink '" + name + "' needs a directory");
      s.directory = d->first;
    }
    for (const auto& [option, v] : r.options)
      if (option != "class" && option != "period" && option != "unit" && option != "directory")
        fail(v.second, "unknown option '" + option + "' of sink '" + name + "' (class, period, unit, directory)");
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<sink_spec> load_metrics_conf(const std::string& path, const std::string& role) {
  std::ifstream in(path);
  if (!in)
    throw std::runtime_error("ember.metrics.conf: cannot read '" + path + "'");
  std::stringstream text;
  text << in.rdbuf();
  return parse_metrics_conf(text.str(), role, path);
}

std::string csv_file_name(const std::string& prefix, const prometheus_writer::recorded& sample) {
  // An application's samples name it: its id is known only once it registered.
  auto app = std::find_if(sample.labels.begin(), sample.labels.end(), [](const auto& l) { return l.first == "app_id"; });
  std::string name = safe(app != sample.labels.end() ? app->second : prefix) + "." + sample.name;
  for (const auto& [k, v] : sample.labels)
    if (k != "app_id") {
      std::string label = k;  // GCC 12 warns wrongly (-Wrestrict) about k + "=" + v
      label.push_back('=');
      label.append(v);
      name.push_back('.');
      name.append(safe(std::move(label)));
    }
  name.append(".csv");
  return name;
}

metrics_reporter::metrics_reporter(std::vector<sink_spec> sinks, std::string prefix, collect_fn collect,
                                   std::ostream& console)
  : sinks_(std::move(sinks)), prefix_(std::move(prefix)), collect_(std::move(collect)), console_(console) {
  for (const auto& s : sinks_)
    if (s.what == sink_spec::kind::csv) {
      try {
        config::prepare_dir_setting(s.directory);
      } catch (const std::exception& e) {
        throw std::runtime_error("ember.metrics.conf: csv sink '" + s.name + "': cannot create '" + s.directory +
                                 "': " + e.what());
      }
    }
}

metrics_reporter::~metrics_reporter() { stop(); }

void metrics_reporter::start() {
  if (sinks_.empty() || thread_.joinable())
    return;
  thread_ = std::thread([this] {
    auto now = std::chrono::steady_clock::now();
    std::vector<std::chrono::steady_clock::time_point> due(sinks_.size(), now);
    for (std::size_t i = 0; i < sinks_.size(); ++i)
      due[i] = now + sinks_[i].period;
    std::unique_lock lock{mutex_};
    while (!stopping_) {
      auto next = *std::min_element(due.begin(), due.end());
      wake_.wait_until(lock, next, [this] { return stopping_; });
      if (stopping_)
        break;
      now = std::chrono::steady_clock::now();
      prometheus_writer w;
      collect_(w);
      for (std::size_t i = 0; i < sinks_.size(); ++i)
        if (due[i] <= now) {
          report(sinks_[i], w);
          due[i] = now + sinks_[i].period;
        }
    }
  });
}

void metrics_reporter::stop() {
  {
    std::lock_guard lock{mutex_};
    if (stopping_ || !thread_.joinable())
      return;
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  report_now();
}

void metrics_reporter::report_now() {
  prometheus_writer w;
  collect_(w);
  for (const auto& s : sinks_)
    report(s, w);
}

void metrics_reporter::report(const sink_spec& sink, const prometheus_writer& w) {
  auto t = std::time(nullptr);
  if (sink.what == sink_spec::kind::console) {
    char when[64];
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
    std::ostringstream out;
    out << "-- ember metrics " << when << " --\n";
    for (const auto& s : w.samples()) {
      out << s.name;
      if (!s.labels.empty()) {
        out << '{';
        for (std::size_t i = 0; i < s.labels.size(); ++i)
          out << (i ? "," : "") << s.labels[i].first << "=\"" << s.labels[i].second << '"';
        out << '}';
      }
      char value[64];
      std::snprintf(value, sizeof value, std::floor(s.value) == s.value ? "%.0f" : "%.17g", s.value);
      out << ' ' << value << '\n';
    }
    console_ << out.str() << std::flush;
    return;
  }
  for (const auto& s : w.samples()) {
    auto path = std::filesystem::path(sink.directory) / csv_file_name(prefix_, s);
    bool fresh = !std::filesystem::exists(path);
    std::ofstream out(path, std::ios::app);
    if (!out) {
      log::get("metrics")->warn("csv sink '{}': cannot write '{}'", sink.name, path.string());
      return;
    }
    if (fresh)
      out << "t,value\n";
    char value[64];
    std::snprintf(value, sizeof value, std::floor(s.value) == s.value ? "%.0f" : "%.17g", s.value);
    out << t << ',' << value << '\n';
  }
}

}  // namespace ember::ui
