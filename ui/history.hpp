// The history server's applications: every event log (<app id>.jsonl) of a directory, replayed
// into an app_store each (the same store the live driver UI uses, so a finished application's
// pages and REST answers are the ones its driver gave). Logs are read incrementally: a scan reads
// only what was appended since the last one, so in-progress applications stay current; a last
// line without its newline (a driver still writing, or one that died mid-line) waits for the
// next scan, and a line that does not parse is skipped with a warning.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "ui/app_source.hpp"

namespace ember::ui {

struct history_settings {
  std::string log_directory;                   // ember.history.fs.logDirectory
  std::chrono::milliseconds update_interval{10'000};  // ember.history.fs.update.interval
  retention limits;
  std::size_t max_line = 64 << 20;             // a longer line is not an event: skipped
};

class history_provider : public app_source {
public:
  explicit history_provider(history_settings s) : settings_(std::move(s)) {}

  void for_each(const std::function<void(const app_store&)>& fn) override;
  bool with(const std::string& id, const std::function<void(const app_store&)>& fn) override;

private:
  struct log_file {
    std::string path;
    uint64_t offset = 0;  // bytes consumed: up to the end of the last complete line
    std::unique_ptr<app_store> store;
    std::size_t bad_lines = 0;
  };
  // Reads what the directory's logs gained, at most once per update_interval.
  void maybe_scan();
  std::size_t read_new(log_file& f);

  history_settings settings_;
  std::mutex mutex_;  // guards everything below, and every store
  std::map<std::string, log_file> logs_;  // by file name
  std::chrono::steady_clock::time_point last_scan_{};
  bool scanned_ = false;
};

}  // namespace ember::ui
