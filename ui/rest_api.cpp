#include "ui/rest_api.hpp"

#include <charconv>
#include <optional>

namespace ember::ui {

using nlohmann::json;

http_reply json_error(int status, const std::string& message) {
  http_reply r;
  r.status = status;
  r.body = json{{"error", message}}.dump(-1, ' ', false, json::error_handler_t::replace);  // ids from URLs
  return r;
}

namespace {

std::vector<std::string> segments(std::string_view path) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < path.size()) {
    auto j = path.find('/', i);
    if (j == std::string_view::npos)
      j = path.size();
    if (j > i)
      out.emplace_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

template <class T>
std::optional<T> number(std::string_view s) {
  T v{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || s.empty())
    return std::nullopt;
  return v;
}

std::string param(const query_params& q, const std::string& name, std::string fallback = {}) {
  auto it = q.find(name);
  return it == q.end() ? fallback : it->second;
}

http_reply ok(json body) {
  http_reply r;
  // Names and descriptions come from users and need not be UTF-8: a bad byte becomes U+FFFD
  // rather than an exception.
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

// Spark's sortBy values: ID, runtime, -runtime; Ember also takes the other columns of the
// stage page's task table, each with "-" for descending.
std::optional<std::pair<task_order, bool>> order_of(std::string s) {
  bool desc = !s.empty() && s[0] == '-';
  if (desc)
    s.erase(0, 1);
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s == "id")
    return std::pair{task_order::id, desc};
  if (s == "index" || s == "partition")
    return std::pair{task_order::index, desc};
  if (s == "runtime" || s == "duration")
    return std::pair{task_order::runtime, desc};
  if (s == "status")
    return std::pair{task_order::status, desc};
  if (s == "executor" || s == "executorid")
    return std::pair{task_order::executor, desc};
  if (s == "launchtime")
    return std::pair{task_order::launch_time, desc};
  return std::nullopt;
}

http_reply stage_request(const app_store& app, const std::vector<std::string>& seg, const query_params& q) {
  // seg: stages [id [attempt [taskList|taskSummary]]]
  if (seg.size() == 1)
    return ok(app.stages(param(q, "status")));
  auto id = number<uint32_t>(seg[1]);
  if (!id)
    return json_error(400, "bad stage id '" + seg[1] + "'");
  if (seg.size() == 2) {
    auto s = app.stage(*id);
    return s ? ok(std::move(*s)) : json_error(404, "unknown stage " + seg[1]);
  }
  auto attempt = number<uint32_t>(seg[2]);
  if (!attempt)
    return json_error(400, "bad stage attempt '" + seg[2] + "'");
  auto unknown = [&] { return json_error(404, "unknown stage attempt " + seg[1] + "." + seg[2]); };
  if (seg.size() == 3) {
    auto s = app.stage_attempt(*id, *attempt);
    return s ? ok(std::move(*s)) : unknown();
  }
  if (seg.size() == 4 && seg[3] == "taskList") {
    auto offset = number<std::size_t>(param(q, "offset", "0"));
    auto length = number<std::size_t>(param(q, "length", "20"));
    if (!offset || !length)
      return json_error(400, "offset and length must be non-negative integers");
    auto order = order_of(param(q, "sortBy", "ID"));
    if (!order)
      return json_error(400, "unknown sortBy '" + param(q, "sortBy") +
                               "' (ID, index, runtime, status, executor, launchTime; '-' for descending)");
    std::size_t total = 0;
    auto list = app.task_list(*id, *attempt, *offset, *length, order->first, order->second, &total);
    if (!list)
      return unknown();
    auto r = ok(std::move(*list));
    r.headers.emplace_back("X-Total-Count", std::to_string(total));
    return r;
  }
  if (seg.size() == 4 && seg[3] == "taskSummary") {
    std::vector<double> qs;
    auto text = param(q, "quantiles", "0.05,0.25,0.5,0.75,0.95");
    std::size_t i = 0;
    while (i <= text.size()) {
      auto j = text.find(',', i);
      if (j == std::string::npos)
        j = text.size();
      auto piece = text.substr(i, j - i);
      char* end = nullptr;
      double v = std::strtod(piece.c_str(), &end);
      if (piece.empty() || end != piece.c_str() + piece.size() || !(v >= 0.0 && v <= 1.0))
        return json_error(400, "bad quantile '" + piece + "': each must be a number in [0, 1]");
      qs.push_back(v);
      i = j + 1;
    }
    auto s = app.task_summary(*id, *attempt, qs);
    return s ? ok(std::move(*s)) : unknown();
  }
  return json_error(404, "unknown path");
}

http_reply app_request(const app_store& app, const std::vector<std::string>& seg, const query_params& q) {
  // seg[0] = "applications", seg[1] = id
  if (seg.size() == 2)
    return ok(app.application());
  const auto& what = seg[2];
  std::vector<std::string> rest(seg.begin() + 2, seg.end());
  if (what == "jobs") {
    if (rest.size() == 1)
      return ok(app.jobs(param(q, "status")));
    if (rest.size() == 2) {
      auto id = number<uint32_t>(rest[1]);
      if (!id)
        return json_error(400, "bad job id '" + rest[1] + "'");
      auto j = app.job(*id);
      return j ? ok(std::move(*j)) : json_error(404, "unknown job " + rest[1]);
    }
  } else if (what == "stages") {
    return stage_request(app, rest, q);
  } else if (what == "executors" && rest.size() == 1) {
    return ok(app.executors(false));
  } else if (what == "allexecutors" && rest.size() == 1) {
    return ok(app.executors(true));
  } else if (what == "environment" && rest.size() == 1) {
    return ok(app.environment());
  } else if (what == "storage" && rest.size() >= 2 && rest[1] == "rdd") {
    if (rest.size() == 2)
      return ok(app.storage());
    if (rest.size() == 3) {
      auto id = number<uint32_t>(rest[2]);
      if (!id)
        return json_error(400, "bad dataset id '" + rest[2] + "'");
      auto r = app.storage_rdd(*id);
      return r ? ok(std::move(*r)) : json_error(404, "no cached dataset " + rest[2]);
    }
  }
  return json_error(404, "unknown path /api/v1/" + [&] {
    std::string p;
    for (const auto& s : seg)
      p += (p.empty() ? "" : "/") + s;
    return p;
  }());
}

}  // namespace

http_reply rest_request(app_source& apps, std::string_view path, const query_params& query) {
  auto seg = segments(path);
  if (seg.empty() || seg[0] != "applications")
    return json_error(404, "unknown path /api/v1" + std::string(path));
  if (seg.size() == 1) {
    auto status = param(query, "status");
    for (auto& c : status)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!status.empty() && status != "completed" && status != "running")
      return json_error(400, "unknown status '" + param(query, "status") + "' (completed or running)");
    json out = json::array();
    apps.for_each([&](const app_store& app) {
      if (status.empty() || (status == "completed") == app.completed())
        out.push_back(app.application());
    });
    return ok(std::move(out));
  }
  http_reply reply;
  if (!apps.with(seg[1], [&](const app_store& app) { reply = app_request(app, seg, query); }))
    return json_error(404, "unknown application " + seg[1]);
  return reply;
}

}  // namespace ember::ui
