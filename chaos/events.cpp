#include "chaos/events.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <nlohmann/json.hpp>

namespace ember::chaos {

namespace {

using json = nlohmann::json;

// Cap'n Proto's JSON writes 64-bit integers as strings and 32-bit ones as numbers.
std::int64_t number(const json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end())
    return 0;
  if (it->is_number_integer())
    return it->get<std::int64_t>();
  if (it->is_string()) {
    try {
      return std::stoll(it->get<std::string>());
    } catch (const std::exception&) {
      return 0;
    }
  }
  return 0;
}

std::string text(const json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

} // namespace

std::optional<event> parse_event(std::string_view line) {
  json j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.size() != 1 || !j.begin()->is_object())
    return std::nullopt;
  event e;
  e.kind = j.begin().key();
  const json& o = *j.begin();
  if (o.contains("stageId"))
    e.stage = static_cast<int>(number(o, "stageId"));
  e.task_id = text(o, "taskId");
  e.executor_id = text(o, "executorId");
  if (e.kind == "taskStart" || e.kind == "taskEnd") {
    e.attempt = static_cast<int>(number(o, "attempt"));
    e.state = text(o, "state");
    e.reason = text(o, "reason");
    e.time_ms = number(o, e.kind == "taskEnd" ? "finishTime" : "launchTime");
  } else if (e.kind == "stageSubmitted" || e.kind == "stageCompleted") {
    e.attempt = static_cast<int>(number(o, "attempt"));
    e.reason = text(o, "failureReason");
    e.time_ms = number(o, e.kind == "stageSubmitted" ? "time" : "completionTime");
  } else if (e.kind == "executorRemoved") {
    e.cause = text(o, "cause");
    e.reason = text(o, "message");
    e.time_ms = number(o, "time");
  } else if (e.kind == "jobEnd") {
    e.time_ms = number(o, "time");
    auto r = o.find("result");
    if (r != o.end() && r->is_object() && r->contains("error")) {
      e.job_ok = false;
      e.job_error = text(*r, "error");
    }
  } else if (e.kind == "executorMetricsUpdate") {
    e.time_ms = number(o, "time");
    auto ts = o.find("tasks");
    if (ts != o.end() && ts->is_array()) {
      for (const auto& t : *ts) {
        if (!t.is_object())
          continue;
        task_update u;
        u.task_id = t.contains("taskId") && t["taskId"].is_number_integer()
                      ? std::to_string(t["taskId"].get<std::int64_t>())
                      : text(t, "taskId");
        auto known = t.find("stageKnown");
        if (known != t.end() && known->is_boolean() && known->get<bool>())
          u.stage = static_cast<int>(number(t, "stageId"));
        u.fetches_in_flight = static_cast<std::uint32_t>(number(t, "remoteFetchesInFlight"));
        e.tasks.push_back(std::move(u));
      }
    }
  } else {
    e.time_ms = number(o, "time");
  }
  return e;
}

// -- log_follower ----------------------------------------------------------------------------

log_follower::~log_follower() {
  if (fd_ >= 0)
    ::close(fd_);
}

std::vector<std::string> log_follower::poll() {
  std::vector<std::string> lines;
  if (fd_ < 0) {
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0)
      return lines;
    struct stat st {};
    if (::fstat(fd_, &st) == 0)
      inode_ = static_cast<std::uint64_t>(st.st_ino);
  }
  char buf[1 << 16];
  for (;;) {
    auto n = ::read(fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    partial_.append(buf, static_cast<size_t>(n));
  }
  size_t start = 0;
  for (auto nl = partial_.find('\n'); nl != std::string::npos; nl = partial_.find('\n', start)) {
    if (nl > start)
      lines.emplace_back(partial_, start, nl - start);
    start = nl + 1;
  }
  partial_.erase(0, start);
  return lines;
}

// -- trigger_engine --------------------------------------------------------------------------

trigger_engine::trigger_engine(std::vector<trigger> triggers)
  : triggers_(std::move(triggers)), fired_(triggers_.size(), false) {}

std::vector<size_t> trigger_engine::on_event(const event& e) {
  if (e.kind == "taskStart") {
    running_[e.task_id] = {e.stage, e.executor_id};
  } else if (e.kind == "taskEnd") {
    running_.erase(e.task_id);
    if (e.state == "finished")
      finished_[e.stage].push_back(e.task_id);
  } else if (e.kind == "stageSubmitted") {
    started_stages_.insert(e.stage);
  } else if (e.kind == "executorAdded") {
    ++executors_added_;
    alive_.insert(e.executor_id);
  } else if (e.kind == "executorRemoved") {
    ++executors_removed_;
    last_removed_ = e.executor_id;
    alive_.erase(e.executor_id);
  }
  std::vector<size_t> out;
  for (size_t i = 0; i < triggers_.size(); ++i) {
    if (fired_[i])
      continue;
    auto& t = triggers_[i];
    bool now = false;
    switch (t.on) {
      case trigger::kind::after_ms: break;
      case trigger::kind::stage_started: now = e.kind == "stageSubmitted" && e.stage == t.stage; break;
      case trigger::kind::tasks_finished:
        now = e.kind == "taskEnd" && e.stage == t.stage && static_cast<int>(finished_[t.stage].size()) >= t.count;
        break;
      case trigger::kind::executor_registered: now = e.kind == "executorAdded" && executors_added_ >= t.count; break;
      case trigger::kind::executor_removed: now = e.kind == "executorRemoved" && executors_removed_ >= t.count; break;
      case trigger::kind::fetching:
        if (e.kind == "executorMetricsUpdate")
          now = std::any_of(e.tasks.begin(), e.tasks.end(), [&](const task_update& u) {
            return u.stage == t.stage && u.fetches_in_flight > 0;
          });
        if (now)
          last_fetching_ = e.executor_id;
        break;
    }
    if (now) {
      fired_[i] = true;
      out.push_back(i);
    }
  }
  return out;
}

std::vector<size_t> trigger_engine::on_time(std::int64_t ms) {
  std::vector<size_t> out;
  for (size_t i = 0; i < triggers_.size(); ++i) {
    if (!fired_[i] && triggers_[i].on == trigger::kind::after_ms && ms >= triggers_[i].ms) {
      fired_[i] = true;
      out.push_back(i);
    }
  }
  return out;
}

namespace {

// Numeric ids sort as numbers ("2" before "10").
std::vector<std::string> sorted_ids(const std::set<std::string>& ids) {
  std::vector<std::string> out(ids.begin(), ids.end());
  std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
  });
  return out;
}

} // namespace

std::vector<std::string> trigger_engine::executors_running(int stage) const {
  std::set<std::string> ids;
  for (auto& [task, where] : running_)
    if (where.first == stage)
      ids.insert(where.second);
  return sorted_ids(ids);
}

std::vector<std::string> trigger_engine::executors_other_than(const std::string& id) const {
  auto ids = alive_;
  ids.erase(id);
  return sorted_ids(ids);
}

const std::vector<std::string>& trigger_engine::finished_tasks(int stage) const {
  static const std::vector<std::string> none;
  auto it = finished_.find(stage);
  return it == finished_.end() ? none : it->second;
}

} // namespace ember::chaos
