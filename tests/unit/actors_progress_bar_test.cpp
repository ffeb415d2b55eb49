// The console progress bar: Spark's exact line format, widths, several stages side by side, the
// first-show delay, redraw only on change, and clearing when the stages finish.
#include <doctest/doctest.h>

#include "actors/progress_bar.hpp"

using ember::actors::progress_bar;
using ember::actors::progress_settings;
using ember::actors::render_progress;
using ember::actors::stage_progress;
using namespace std::chrono_literals;

TEST_CASE("render_progress draws Spark's line") {
  // header "[Stage 0:" (9) + tailer "(2 + 1) / 4]" (12) leaves 9 columns; 2/4 of them are '='.
  CHECK(render_progress({{0, 4, 2, 1}}, 30) == "[Stage 0:====>    (2 + 1) / 4]");
  CHECK(render_progress({{0, 4, 0, 2}}, 30) == "[Stage 0:>        (0 + 2) / 4]");
  CHECK(render_progress({{0, 4, 4, 0}}, 30) == "[Stage 0:=========(4 + 0) / 4]");
  // More successes than tasks (a speculative copy also finished): the bar stays full.
  CHECK(render_progress({{0, 4, 5, 0}}, 30) == "[Stage 0:=========(5 + 0) / 4]");
  CHECK(render_progress({}, 80).empty());
}

TEST_CASE("render_progress at the default 80 columns") {
  // 80 - 9 - 15 = 56 columns; 56 * 45 / 200 = 12 of them '='.
  auto line = render_progress({{2, 200, 45, 2}}, 80);
  CHECK(line == "[Stage 2:" + std::string(12, '=') + ">" + std::string(43, ' ') + "(45 + 2) / 200]");
  CHECK(line.size() == 80);
}

TEST_CASE("render_progress leaves the bar out when the width leaves no room") {
  CHECK(render_progress({{0, 4, 2, 1}}, 22) == "[Stage 0:>(2 + 1) / 4]");
  CHECK(render_progress({{0, 4, 2, 1}}, 21) == "[Stage 0:(2 + 1) / 4]");
  CHECK(render_progress({{0, 4, 2, 1}}, 5) == "[Stage 0:(2 + 1) / 4]");
  CHECK(render_progress({{7, 0, 0, 0}}, 30) == "[Stage 7:>        (0 + 0) / 0]");
}

TEST_CASE("render_progress splits the width between stages") {
  std::string two = "[Stage 1:====>   (5 + 2) / 10][Stage 2:>        (0 + 1) / 4]";
  CHECK(render_progress({{1, 10, 5, 2}, {2, 4, 0, 1}}, 60) == two);
  CHECK(render_progress({{1, 10, 5, 2}, {2, 4, 0, 1}}, 61) == two); // 61 / 2 = 30 each
  CHECK(render_progress({{1, 10, 5, 2}, {2, 4, 0, 1}, {3, 2, 1, 1}}, 60)
        == "[Stage 1:(5 + 2) / 10][Stage 2:(0 + 1) / 4][Stage 3:(1 + 1) / 2]");
}

TEST_CASE("progress_bar shows a stage after the first delay and redraws only on change") {
  progress_settings s;
  s.width = 30;
  progress_bar bar{s};
  progress_bar::time_point t0{};
  CHECK_FALSE(bar.active());
  CHECK(bar.refresh(t0).empty());

  bar.stage_submitted(0, 0, 4, t0);
  CHECK(bar.active());
  CHECK(bar.refresh(t0 + 100ms).empty()); // a short stage never shows
  CHECK(bar.refresh(t0 + 500ms) == "\r[Stage 0:>        (0 + 0) / 4]");
  bar.task_started(0, 0);
  bar.task_started(0, 0);
  CHECK(bar.refresh(t0 + 600ms) == "\r[Stage 0:>        (0 + 2) / 4]");
  CHECK(bar.refresh(t0 + 700ms).empty()); // unchanged
  CHECK(bar.shown() == "[Stage 0:>        (0 + 2) / 4]");
  CHECK(bar.refresh(t0 + 600ms + 60s) == "\r[Stage 0:>        (0 + 2) / 4]"); // keepalive

  bar.task_ended(0, 0, true);
  CHECK(bar.refresh(t0 + 61s) == "\r[Stage 0:==>      (1 + 1) / 4]");
  bar.task_ended(0, 0, false); // a failed attempt: no longer running, not completed
  CHECK(bar.refresh(t0 + 62s) == "\r[Stage 0:==>      (1 + 0) / 4]");

  bar.stage_completed(0, 0);
  CHECK(bar.refresh(t0 + 63s) == "\r" + std::string(30, ' ') + "\r");
  CHECK(bar.shown().empty());
  CHECK_FALSE(bar.active());
  CHECK(bar.refresh(t0 + 64s).empty());
  CHECK(bar.clear().empty());
}

TEST_CASE("progress_bar shows at most max_stages, lowest ids first, and tracks attempts apart") {
  progress_settings s;
  s.width = 90;
  s.first_delay = 0ms;
  progress_bar bar{s};
  progress_bar::time_point t0{};
  bar.stage_submitted(4, 0, 2, t0);
  bar.stage_submitted(1, 0, 10, t0);
  bar.stage_submitted(2, 1, 4, t0);
  bar.stage_submitted(3, 0, 2, t0);
  bar.task_started(1, 0);
  bar.task_started(1, 0);
  bar.task_ended(1, 0, true);
  bar.task_started(2, 0); // attempt 0 of stage 2 is not tracked: ignored
  bar.task_started(9, 0); // unknown stage: ignored
  CHECK(bar.refresh(t0) == "\r[Stage 1:>       (1 + 1) / 10][Stage 2:>        (0 + 0) / 4][Stage 3:>        (0 + 0) / 2]");
  bar.stage_completed(1, 0);
  bar.stage_completed(2, 1);
  // Two stages left: 45 columns each.
  std::string half = ">" + std::string(23, ' ');
  CHECK(bar.refresh(t0 + 1s) == "\r[Stage 3:" + half + "(0 + 0) / 2][Stage 4:" + half + "(0 + 0) / 2]");
  // Stopping with a bar on screen erases it.
  CHECK(bar.clear() == "\r" + std::string(90, ' ') + "\r");
  CHECK(bar.clear().empty());
}
