#include "actors/progress_bar.hpp"

#include <algorithm>

namespace ember::actors {

std::string render_progress(const std::vector<stage_progress>& stages, std::size_t width) {
  if (stages.empty())
    return {};
  std::size_t per_stage = width / stages.size();
  std::string line;
  for (const auto& s : stages) {
    // Appended piece by piece: g++ 12 warns falsely (-Wrestrict) on `"literal" + std::string`.
    std::string header{"[Stage "};
    header.append(std::to_string(s.stage_id)).append(":");
    std::string tailer{"("};
    tailer.append(std::to_string(s.completed)).append(" + ").append(std::to_string(s.running));
    tailer.append(") / ").append(std::to_string(s.total)).append("]");
    line += header;
    if (per_stage > header.size() + tailer.size()) {
      std::size_t w = per_stage - header.size() - tailer.size();
      // A retried or speculative success can push completed past total: the bar stays full.
      std::size_t done = s.total == 0 ? 0 : std::min<std::size_t>(s.completed, s.total);
      std::size_t percent = s.total == 0 ? 0 : w * done / s.total;
      for (std::size_t i = 0; i < w; ++i)
        line += i < percent ? '=' : i == percent ? '>' : ' ';
    }
    line += tailer;
  }
  return line;
}

progress_bar::progress_bar(progress_settings settings) : settings_(settings) {}

void progress_bar::stage_submitted(uint32_t stage_id, uint32_t attempt, uint32_t num_tasks, time_point now) {
  auto& s = stages_[{stage_id, attempt}];
  s.total = num_tasks;
  s.submitted = now;
}

void progress_bar::task_started(uint32_t stage_id, uint32_t attempt) {
  if (auto i = stages_.find({stage_id, attempt}); i != stages_.end())
    ++i->second.running;
}

void progress_bar::task_ended(uint32_t stage_id, uint32_t attempt, bool succeeded) {
  auto i = stages_.find({stage_id, attempt});
  if (i == stages_.end())
    return;
  if (i->second.running > 0)
    --i->second.running;
  if (succeeded)
    ++i->second.completed;
}

void progress_bar::stage_completed(uint32_t stage_id, uint32_t attempt) {
  stages_.erase({stage_id, attempt});
}

std::string progress_bar::refresh(time_point now) {
  std::vector<stage_progress> visible;
  for (const auto& [key, s] : stages_) {
    if (visible.size() == settings_.max_stages)
      break;
    if (now - s.submitted >= settings_.first_delay)
      visible.push_back({key.first, s.total, s.completed, s.running});
  }
  if (visible.empty())
    return clear();
  auto line = render_progress(visible, settings_.width);
  if (line == shown_ && now - last_draw_ < settings_.keepalive)
    return {};
  shown_ = line;
  last_draw_ = now;
  std::string out{"\r"};
  return out.append(line);
}

std::string progress_bar::clear() {
  if (shown_.empty())
    return {};
  shown_.clear();
  std::string out{"\r"};
  return out.append(settings_.width, ' ').append("\r");
}

} // namespace ember::actors
