// The console progress bar of running stages, as Spark draws it on the driver's stderr:
//   [Stage 2:=====>            (45 + 2) / 200][Stage 3:>   (0 + 1) / 8]
// Plain C++ (no CAF, no I/O): the listener_bus actor feeds it events, asks refresh() on a timer
// and writes what it returns to the terminal.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace ember::actors {

struct stage_progress {
  uint32_t stage_id = 0;
  uint32_t total = 0;      // tasks of the stage attempt
  uint32_t completed = 0;  // succeeded
  uint32_t running = 0;    // launched and not ended
};

/// One line for these stages, in the given order: each gets `width / stages.size()` columns,
/// "[Stage <id>:" + bar + "(<completed> + <running>) / <total>]". The bar has `completed/total`
/// of its columns as '=' then one '>' (none when full); it is left out when the columns do not
/// leave room for it. Empty for no stages.
std::string render_progress(const std::vector<stage_progress>& stages, std::size_t width);

struct progress_settings {
  std::size_t width = 80;                      // terminal columns
  std::chrono::milliseconds first_delay{500};  // a stage shows once it has run this long (no flicker)
  std::size_t max_stages = 3;                  // side by side, lowest stage ids first
  std::chrono::milliseconds keepalive{60000};  // redraw an unchanged bar after this long (ssh idles)
};

/// The stages the bar tracks, keyed by (stage id, attempt), and what the terminal shows now.
class progress_bar {
public:
  using time_point = std::chrono::steady_clock::time_point;

  explicit progress_bar(progress_settings settings = {});

  void stage_submitted(uint32_t stage_id, uint32_t attempt, uint32_t num_tasks, time_point now);
  void task_started(uint32_t stage_id, uint32_t attempt);
  void task_ended(uint32_t stage_id, uint32_t attempt, bool succeeded);
  void stage_completed(uint32_t stage_id, uint32_t attempt);

  /// What to write to the terminal now: "\r<line>" when the line changed (or the keepalive
  /// passed), "\r<spaces>\r" when the last shown stage finished, "" when nothing changes.
  std::string refresh(time_point now);
  /// Erases the bar if one is shown (at stop); "" otherwise.
  std::string clear();

  /// Stages are tracked or a bar is on screen: the owner keeps its refresh timer running.
  bool active() const { return !stages_.empty() || !shown_.empty(); }
  const std::string& shown() const { return shown_; }

private:
  struct stage_state {
    uint32_t total = 0;
    uint32_t completed = 0;
    uint32_t running = 0;
    time_point submitted;
  };

  progress_settings settings_;
  std::map<std::pair<uint32_t, uint32_t>, stage_state> stages_;
  std::string shown_;  // the line on screen, empty if none
  time_point last_draw_{};
};

} // namespace ember::actors
