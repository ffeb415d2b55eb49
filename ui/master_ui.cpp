#include "ui/master_ui.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>

#include <capnp/schema.h>

#include "ui/app_routes.hpp"
#include "ui/pages.hpp"

namespace ember::ui {

namespace {

using nlohmann::json;

std::string str(capnp::Text::Reader t) { return {t.cStr(), t.size()}; }

// The schema's enumerant in capitals ("RUNNING"), as Spark writes its states.
template <class E>
std::string state_name(E value) {
  auto enumerants = capnp::Schema::from<E>().getEnumerants();
  auto i = static_cast<unsigned>(value);
  std::string name = i < enumerants.size() ? enumerants[i].getProto().getName().cStr() : std::to_string(i);
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::toupper(c); });
  return name;
}

// Spark reports memory in MiB in its master and worker JSON.
std::uint64_t mib(std::uint64_t bytes) { return bytes >> 20; }

// java.util.Date.toString() in UTC, as Spark's "submitdate": "Mon Dec 07 21:30:00 UTC 2026".
std::string java_date(std::uint64_t ms) {
  if (ms == 0)
    return "";
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a %b %d %H:%M:%S UTC %Y", &tm);
  return buf;
}

bool app_active(proto::ApplicationState s) {
  return s == proto::ApplicationState::WAITING || s == proto::ApplicationState::RUNNING;
}

bool driver_active(proto::DriverState s) {
  switch (s) {
    case proto::DriverState::FINISHED:
    case proto::DriverState::KILLED:
    case proto::DriverState::FAILED:
    case proto::DriverState::ERROR:
      return false;
    default:
      return true;
  }
}

json app_json(proto::ApplicationInfo::Reader a, std::uint64_t now_ms) {
  std::uint64_t start = a.getSubmitTimeMs();
  std::uint64_t end = app_active(a.getState()) ? now_ms : a.getEndTimeMs();
  auto executors = json::array();
  for (auto e : a.getExecutors())
    executors.push_back({{"id", str(e.getExecutorId())},
                         {"worker", str(e.getWorkerId())},
                         {"host", str(e.getHost())},
                         {"cores", e.getCores()},
                         {"memory", mib(e.getMemoryBytes())},
                         {"state", state_name(e.getState())},
                         {"pid", e.getPid()}});
  return {{"id", str(a.getAppId())},
          {"starttime", start},
          {"name", str(a.getName())},
          {"cores", a.getCoresGranted()},
          {"user", str(a.getUser())},
          {"memoryperexecutor", mib(a.getExecutorMemory())},
          {"memoryperslave", mib(a.getExecutorMemory())},
          {"submitdate", java_date(start)},
          {"state", state_name(a.getState())},
          {"duration", end > start && start != 0 ? end - start : 0},
          // Ember's additions: where the driver's UI is, and the executors (the page lists them).
          {"appuiurl", str(a.getAppUiUrl())},
          {"executors", std::move(executors)}};
}

json driver_json(proto::DriverInfo::Reader d) {
  auto worker = str(d.getWorkerId());
  return {{"id", str(d.getDriverId())},
          {"starttime", d.getSubmitTimeMs()},
          {"state", state_name(d.getState())},
          {"cores", d.getCores()},
          {"memory", mib(d.getMemoryBytes())},
          {"submitdate", java_date(d.getSubmitTimeMs())},
          {"worker", worker.empty() ? "None" : worker},
          {"mainclass", str(d.getBinaryPath())},
          {"user", str(d.getUser())},
          {"host", str(d.getHost())},
          {"supervise", d.getSupervise()},
          {"restarts", d.getRestarts()}};
}

http_reply json_reply(const json& j) {
  http_reply r;
  // Names come from clients and need not be UTF-8: a bad byte becomes U+FFFD.
  r.body = j.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

const char* target_name(kill_target what) { return what == kill_target::application ? "application" : "driver"; }

}  // namespace

json master_json(proto::MasterState::Reader state, std::uint64_t now_ms) {
  json out = json::object();
  out["url"] = str(state.getMasterUrl());
  auto workers = json::array();
  std::uint64_t alive = 0, cores = 0, cores_used = 0, memory = 0, memory_used = 0;
  for (auto w : state.getWorkers()) {
    if (w.getAlive()) {
      ++alive;
      cores += w.getCores();
      cores_used += w.getCoresUsed();
      memory += w.getMemoryBytes();
      memory_used += w.getMemoryUsed();
    }
    auto free_cores = w.getCores() > w.getCoresUsed() ? w.getCores() - w.getCoresUsed() : 0;
    auto free_memory = w.getMemoryBytes() > w.getMemoryUsed() ? w.getMemoryBytes() - w.getMemoryUsed() : 0;
    workers.push_back({{"id", str(w.getWorkerId())},
                       {"host", str(w.getHost())},
                       {"port", w.getPort()},
                       {"webuiaddress", ""},  // workers serve no UI yet (docs/monitoring.md)
                       {"cores", w.getCores()},
                       {"coresused", w.getCoresUsed()},
                       {"coresfree", free_cores},
                       {"memory", mib(w.getMemoryBytes())},
                       {"memoryused", mib(w.getMemoryUsed())},
                       {"memoryfree", mib(free_memory)},
                       {"state", w.getAlive() ? "ALIVE" : "DEAD"},
                       {"lastheartbeat", w.getLastHeartbeatMs()}});
  }
  out["workers"] = std::move(workers);
  out["aliveworkers"] = alive;
  out["cores"] = cores;
  out["coresused"] = cores_used;
  out["memory"] = mib(memory);
  out["memoryused"] = mib(memory_used);
  auto active_apps = json::array(), completed_apps = json::array();
  for (auto a : state.getApps())
    (app_active(a.getState()) ? active_apps : completed_apps).push_back(app_json(a, now_ms));
  out["activeapps"] = std::move(active_apps);
  out["completedapps"] = std::move(completed_apps);
  auto active_drivers = json::array(), completed_drivers = json::array();
  for (auto d : state.getDrivers())
    (driver_active(d.getState()) ? active_drivers : completed_drivers).push_back(driver_json(d));
  out["activedrivers"] = std::move(active_drivers);
  out["completeddrivers"] = std::move(completed_drivers);
  out["status"] = "ALIVE";
  return out;
}

void write_master_metrics(prometheus_writer& out, proto::MasterState::Reader state) {
  using k = prometheus_writer::kind;
  double alive = 0, dead = 0, cores = 0, cores_used = 0, memory = 0, memory_used = 0;
  for (auto w : state.getWorkers()) {
    if (!w.getAlive()) {
      ++dead;
      continue;
    }
    ++alive;
    cores += w.getCores();
    cores_used += w.getCoresUsed();
    memory += static_cast<double>(w.getMemoryBytes());
    memory_used += static_cast<double>(w.getMemoryUsed());
  }
  double apps_waiting = 0, apps_running = 0, apps_completed = 0, executors = 0;
  for (auto a : state.getApps()) {
    if (a.getState() == proto::ApplicationState::WAITING)
      ++apps_waiting;
    else if (a.getState() == proto::ApplicationState::RUNNING)
      ++apps_running;
    else
      ++apps_completed;
    for (auto e : a.getExecutors())
      executors += e.getState() == proto::ExecutorState::RUNNING ? 1 : 0;
  }
  double drivers_active = 0, drivers_completed = 0;
  for (auto d : state.getDrivers())
    (driver_active(d.getState()) ? drivers_active : drivers_completed) += 1;

  out.family("ember_master_workers", k::gauge, "Workers registered with the master, by state.");
  out.sample("ember_master_workers", alive, {{"state", "alive"}});
  out.sample("ember_master_workers", dead, {{"state", "dead"}});
  out.family("ember_master_cores", k::gauge, "Cores the alive workers offer.");
  out.sample("ember_master_cores", cores);
  out.family("ember_master_cores_used", k::gauge, "Cores of the alive workers given to executors and drivers.");
  out.sample("ember_master_cores_used", cores_used);
  out.family("ember_master_memory_bytes", k::gauge, "Memory the alive workers offer.");
  out.sample("ember_master_memory_bytes", memory);
  out.family("ember_master_memory_used_bytes", k::gauge,
             "Memory of the alive workers given to executors and drivers.");
  out.sample("ember_master_memory_used_bytes", memory_used);
  out.family("ember_master_apps", k::gauge,
             "Applications by state: waiting (no executor yet), running, completed (retained ones).");
  out.sample("ember_master_apps", apps_waiting, {{"state", "waiting"}});
  out.sample("ember_master_apps", apps_running, {{"state", "running"}});
  out.sample("ember_master_apps", apps_completed, {{"state", "completed"}});
  out.family("ember_master_drivers", k::gauge, "Cluster-mode drivers: active, or completed (retained ones).");
  out.sample("ember_master_drivers", drivers_active, {{"state", "active"}});
  out.sample("ember_master_drivers", drivers_completed, {{"state", "completed"}});
  out.family("ember_master_executors_running", k::gauge, "Executors in state running, over all applications.");
  out.sample("ember_master_executors_running", executors);
}

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > 128 || id == "." || id == "..")
    return false;
  return std::all_of(id.begin(), id.end(), [](unsigned char c) {
    return std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.';
  });
}

http_reply kill_request(master_source& master, kill_target what, const http_request& req,
                        const master_ui_options& options) {
  if (!options.kill_enabled)
    return json_error(403, std::string("killing from the UI is turned off (ember.ui.killEnabled=false)"));
  auto ids = req.query.equal_range("id");
  if (ids.first == ids.second)
    return json_error(400, std::string("which ") + target_name(what) + "? (?id=...)");
  const std::string& id = ids.first->second;
  if (std::next(ids.first) != ids.second)
    return json_error(400, "one id per request");
  if (!valid_id(id))
    return json_error(400, std::string("no such ") + target_name(what) + " id: letters, digits, '-', '_' and '.' only");
  auto outcome = master.kill(what, id, req.user);
  switch (outcome.what) {
    case kill_outcome::result::killed:
      return json_reply({{"success", true}, {"id", id}, {"message", outcome.message}});
    case kill_outcome::result::denied:
      return json_error(403, outcome.message);
    case kill_outcome::result::not_found:
      break;
  }
  return json_error(404, outcome.message);
}

void mount_master_ui(http_server& server, std::shared_ptr<master_source> master, master_ui_options options) {
  server.get("/json", [master](const http_request& req) {
    if (req.path != "/json" && req.path != "/json/")
      return json_error(404, "no page at " + req.path);
    json out;
    auto now = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                              std::chrono::system_clock::now().time_since_epoch())
                                              .count());
    master->read_state(req.user, [&](proto::MasterState::Reader s) { out = master_json(s, now); });
    return json_reply(out);
  });
  server.get("/metrics/prometheus", [master](const http_request& req) {
    prometheus_writer out;
    master->read_state(req.user, [&](proto::MasterState::Reader s) { write_master_metrics(out, s); });
    http_reply r;
    r.body = out.text();
    r.content_type = prometheus_content_type;
    return r;
  });
  for (auto [path, what] : {std::pair{"/app/kill/", kill_target::application},
                            std::pair{"/driver/kill/", kill_target::driver}}) {
    server.post(path, [master, what, options](const http_request& req) {
      return kill_request(*master, what, req, options);
    });
    // A GET must not kill (a crawler, a prefetching browser): Spark's UI took GETs once, too.
    server.get(path, [](const http_request&) {
      auto r = json_error(405, "use POST to kill");
      r.headers.emplace_back("Allow", "POST");
      return r;
    });
  }
  mount_static(server);
  server.get("/", [](const http_request& req) {
    if (req.path == "/" || req.path == "/index.html")
      return serve_asset("master.html");
    return json_error(404, "no page at " + req.path);
  });
}

}  // namespace ember::ui
