// Logging: one named spdlog logger per component ("dag_scheduler", "executor", ...), all writing
// through one shared sink (stderr by default, a file for executors via to_file) with one level
// taken from ember.log.level. Loggers are created on first use and cached; all calls thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <spdlog/logger.h>

namespace ember::config {
class config;
}

namespace ember::log {

// The logger named `component`, created once (same pointer on every call).
std::shared_ptr<spdlog::logger> get(const std::string& component);

// Applies ember.log.level to every logger, existing and future.
void configure(const config::config& c);

void set_level(spdlog::level::level_enum level);
spdlog::level::level_enum level();

// "trace" | "debug" | "info" | "warn" | "error" | "off" (case-insensitive); throws
// std::invalid_argument otherwise.
spdlog::level::level_enum parse_level(std::string_view name);

// Sends every logger's output to `path` (appended, created if missing) instead of the current
// target. Throws std::runtime_error naming the path when the file cannot be opened.
void to_file(const std::string& path);

// Sends every logger's output to stderr again (the default).
void to_stderr();

// Flushes the current target.
void flush();

// "[2024-05-01 12:00:00.123] [info] [dag_scheduler] message"
inline constexpr const char* pattern = "[%Y-%m-%d %H:%M:%S.%e] [%l] [%n] %v";

}  // namespace ember::log
