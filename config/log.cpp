#include "config/log.hpp"

#include <atomic>
#include <cctype>
#include <map>
#include <mutex>
#include <stdexcept>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/dist_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include "config/config.hpp"

namespace ember::log {

namespace {

// Every logger writes into `target`, a sink whose single child is swapped by to_file/to_stderr:
// redirecting output never has to find and rebuild the loggers.
struct state {
  std::mutex mutex;
  std::map<std::string, std::shared_ptr<spdlog::logger>, std::less<>> loggers;
  std::shared_ptr<spdlog::sinks::dist_sink_mt> target = std::make_shared<spdlog::sinks::dist_sink_mt>();
  std::atomic<spdlog::level::level_enum> level{spdlog::level::info};

  state() { target->set_sinks({stderr_sink()}); }

  static spdlog::sink_ptr stderr_sink() {
    auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    sink->set_pattern(pattern);
    return sink;
  }
};

state& global() {
  static state s;
  return s;
}

}  // namespace

std::shared_ptr<spdlog::logger> get(const std::string& component) {
  auto& s = global();
  std::lock_guard guard{s.mutex};
  if (auto it = s.loggers.find(component); it != s.loggers.end())
    return it->second;
  auto logger = std::make_shared<spdlog::logger>(component, s.target);
  logger->set_level(s.level.load());
  logger->flush_on(spdlog::level::warn);
  s.loggers.emplace(component, logger);
  return logger;
}

void set_level(spdlog::level::level_enum level) {
  auto& s = global();
  std::lock_guard guard{s.mutex};
  s.level = level;
  for (auto& [name, logger] : s.loggers)
    logger->set_level(level);
}

spdlog::level::level_enum level() {
  return global().level.load();
}

spdlog::level::level_enum parse_level(std::string_view name) {
  std::string l(name);
  for (auto& c : l)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (l == "trace")
    return spdlog::level::trace;
  if (l == "debug")
    return spdlog::level::debug;
  if (l == "info")
    return spdlog::level::info;
  if (l == "warn")
    return spdlog::level::warn;
  if (l == "error")
    return spdlog::level::err;
  if (l == "off")
    return spdlog::level::off;
  throw std::invalid_argument("unknown log level '" + std::string(name)
                              + "' (expected trace, debug, info, warn, error or off)");
}

void configure(const config::config& c) {
  set_level(parse_level(c.get(config::keys::log_level)));
}

void to_file(const std::string& path) {
  std::shared_ptr<spdlog::sinks::basic_file_sink_mt> sink;
  try {
    sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, false);
  } catch (const spdlog::spdlog_ex& e) {
    throw std::runtime_error("cannot open log file '" + path + "': " + e.what());
  }
  sink->set_pattern(pattern);
  auto& s = global();
  s.target->flush();
  s.target->set_sinks({sink});
}

void to_stderr() {
  auto& s = global();
  s.target->flush();
  s.target->set_sinks({state::stderr_sink()});
}

void flush() {
  global().target->flush();
}

}  // namespace ember::log
