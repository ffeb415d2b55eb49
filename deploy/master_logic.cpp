#include "deploy/master_logic.hpp"

#include <algorithm>
#include <climits>
#include <numeric>
#include <tuple>
#include <utility>
#include <cstdlib>

namespace ember::deploy {

bool is_finished(executor_state s) {
  return s == executor_state::killed || s == executor_state::failed || s == executor_state::lost
         || s == executor_state::exited;
}

bool is_finished(driver_state s) {
  return s == driver_state::finished || s == driver_state::killed || s == driver_state::failed
         || s == driver_state::error;
}

std::uint32_t app_record::cores_granted() const {
  std::uint32_t n = 0;
  for (auto& [id, e] : executors)
    n += e.cores;
  return n;
}

std::uint32_t app_record::cores_left(std::uint32_t default_cores) const {
  std::uint32_t cap = desc.max_cores != 0 ? desc.max_cores : default_cores;
  if (cap == 0)
    return UINT32_MAX;
  auto granted = cores_granted();
  return granted >= cap ? 0 : cap - granted;
}

master_logic::master_logic(master_settings settings) : settings_(settings) {
  // nop
}

// -- workers ---------------------------------------------------------------------------------

register_worker_result master_logic::register_worker(const worker_description& w, time_point now,
                                                     const worker_report* report) {
  register_worker_result r;
  if (w.port != 0) {
    // A recovered worker that has not answered, on the host:port of a new worker id, was replaced
    // by it (the old process is gone): forget it rather than refuse the new one.
    for (auto it = workers_.begin(); it != workers_.end();) {
      auto& other = it->second;
      if (it->first != w.id && other.recovering && other.desc.host == w.host && other.desc.port == w.port) {
        unpersist("worker", it->first);
        it = workers_.erase(it);
      } else {
        ++it;
      }
    }
    for (auto& [id, other] : workers_) {
      if (id != w.id && other.alive && other.desc.host == w.host && other.desc.port == w.port) {
        r.reason = "worker " + w.id + ": " + w.host + ":" + std::to_string(w.port) + " is already registered as "
                   + id;
        return r;
      }
    }
  }
  auto i = workers_.find(w.id);
  r.accepted = true;
  if (i != workers_.end()) {
    r.duplicate = true;
    if (i->second.recovering) {  // it registered by itself before answering MasterChanged
      i->second.desc = w;
      auto [found, out] = worker_recovered(w.id, report ? *report : worker_report{}, now);
      r.out = std::move(out);
      return r;
    }
    if (i->second.alive) {
      i->second.last_heartbeat = now;
      if (report)
        adopt(i->second, *report, false, r.out);
      return r;
    }
    workers_.erase(i);  // a dead record: its executors and drivers were already handled
  }
  worker_record rec;
  rec.desc = w;
  rec.last_heartbeat = now;
  auto& added = workers_.emplace(w.id, std::move(rec)).first->second;
  persist(w);
  if (report)
    adopt(added, *report, false, r.out);
  auto more = schedule();
  r.out.insert(r.out.end(), more.begin(), more.end());
  return r;
}

void master_logic::adopt(worker_record& w, const worker_report& report, bool recovering_worker, decisions& out) {
  for (auto& e : report.executors) {
    if (is_finished(e.state))
      continue;
    auto a = apps_.find(e.app_id);
    if (a != apps_.end()) {
      auto& app = a->second;
      auto known = app.executors.find(e.executor_id);
      if (known != app.executors.end() && known->second.worker_id == w.desc.id)
        continue;  // the master knows it here already
      if (known == app.executors.end() && (recovering_worker || recovering_)) {
        executor_record rec;
        rec.app_id = e.app_id;
        rec.id = e.executor_id;
        rec.worker_id = w.desc.id;
        rec.cores = e.cores;
        rec.memory = e.memory;
        rec.state = e.state;
        w.cores_used += e.cores;
        w.memory_used += e.memory;
        w.executors.insert({e.app_id, e.executor_id});
        char* end = nullptr;
        auto n = std::strtoul(e.executor_id.c_str(), &end, 10);
        if (end != e.executor_id.c_str() && *end == '\0' && n >= app.next_executor_id)
          app.next_executor_id = static_cast<std::uint32_t>(n + 1);  // ids are never reused
        app.executors.emplace(e.executor_id, std::move(rec));
        if (app.state == app_state::waiting)
          app.state = app_state::running;
        continue;
      }
    }
    // The master does not know it (its application is gone, or it was reported lost): stop it.
    out.push_back(kill_executor{w.desc.id, e.app_id, e.executor_id,
                                "executor " + e.app_id + "/" + e.executor_id + " is unknown to the master"});
  }
  for (auto& id : report.driver_ids) {
    auto d = drivers_.find(id);
    if (d != drivers_.end() && d->second.worker_id == w.desc.id)
      continue;
    if (d != drivers_.end() && d->second.worker_id.empty() && (recovering_worker || recovering_)) {
      auto& drv = d->second;
      drv.worker_id = w.desc.id;
      drv.state = driver_state::running;
      w.cores_used += drv.desc.cores;
      w.memory_used += drv.desc.memory;
      w.drivers.insert(id);
      continue;
    }
    out.push_back(deploy::kill_driver{w.desc.id, id});
  }
}

decisions master_logic::worker_heartbeat(const std::string& worker_id, time_point now) {
  auto i = workers_.find(worker_id);
  if (i == workers_.end() || !i->second.alive)
    return {reconnect_worker{worker_id}};
  i->second.last_heartbeat = now;
  return {};
}

decisions master_logic::worker_lost(const std::string& worker_id, const std::string& reason) {
  auto i = workers_.find(worker_id);
  if (i == workers_.end() || !i->second.alive)
    return {};
  decisions out;
  auto& w = i->second;
  w.alive = false;
  auto executors = w.executors;
  for (auto& [app_id, exec_id] : executors) {
    auto a = apps_.find(app_id);
    if (a == apps_.end())
      continue;
    executor_updated u;
    u.app_id = app_id;
    u.executor_id = exec_id;
    u.state = executor_state::lost;
    u.message = "worker " + worker_id + " lost: " + reason;
    u.worker_lost = true;
    u.cause = executor_loss_cause::worker_lost;
    out.push_back(std::move(u));
    remove_executor(a->second, exec_id);
  }
  auto drivers = w.drivers;
  for (auto& driver_id : drivers) {
    auto d = drivers_.find(driver_id);
    if (d == drivers_.end())
      continue;
    w.drivers.erase(driver_id);
    if (d->second.desc.supervise && !d->second.kill_requested) {
      d->second.state = driver_state::relaunching;
      d->second.worker_id.clear();
      d->second.pid = 0;
      ++d->second.restarts;
      d->second.message = "relaunched: worker " + worker_id + " lost";
    } else {
      end_driver(driver_id, driver_state::error, "worker " + worker_id + " lost: " + reason);
    }
  }
  w.executors.clear();
  w.drivers.clear();
  w.cores_used = 0;
  w.memory_used = 0;
  unpersist("worker", worker_id);
  for (auto& driver_id : drivers)
    if (auto d = drivers_.find(driver_id); d != drivers_.end())
      persist(d->second);  // relaunching, one restart more
  auto more = schedule();
  out.insert(out.end(), more.begin(), more.end());
  return out;
}

decisions master_logic::check_timeouts(time_point now) {
  std::vector<std::string> silent;
  // A dead worker's record (shown by `ember status`) goes after dead_worker_persistence timeouts,
  // counted from the first check that saw it dead: worker ids are chosen by the peers.
  const auto keep_dead = settings_.worker_timeout * std::max<std::uint32_t>(settings_.dead_worker_persistence, 1);
  for (auto it = workers_.begin(); it != workers_.end();) {
    auto& w = it->second;
    if (!w.alive && !w.recovering) {
      if (!w.dead_since)
        w.dead_since = now;
      if (now - *w.dead_since > keep_dead) {
        it = workers_.erase(it);
        continue;
      }
    }
    ++it;
  }
  for (auto& [id, w] : workers_)
    if (w.alive && now - w.last_heartbeat > settings_.worker_timeout)
      silent.push_back(id);
  decisions out;
  for (auto& id : silent) {
    auto d = worker_lost(id, "no heartbeat for more than "
                               + std::to_string(settings_.worker_timeout.count()) + " ms");
    workers_.at(id).dead_since = now;
    out.insert(out.end(), d.begin(), d.end());
  }
  return out;
}

std::vector<worker_record*> master_logic::alive_workers() {
  std::vector<worker_record*> r;
  for (auto& [id, w] : workers_)
    if (w.alive)
      r.push_back(&w);
  return r;
}

// -- applications ----------------------------------------------------------------------------

decisions master_logic::register_application(const std::string& app_id, app_description desc,
                                             std::uint64_t now_ms) {
  if (apps_.count(app_id) != 0)
    return {};
  app_record a;
  a.id = app_id;
  if (desc.executor_cores == 0)
    desc.executor_cores = 1;
  if (desc.initial_executors != 0)
    a.executor_limit = desc.initial_executors;
  a.desc = std::move(desc);
  a.submit_time_ms = now_ms;
  persist(a);
  apps_.emplace(app_id, std::move(a));
  app_order_.push_back(app_id);
  return schedule();
}

void master_logic::remove_executor(app_record& app, const std::string& executor_id) {
  auto e = app.executors.find(executor_id);
  if (e == app.executors.end())
    return;
  auto w = workers_.find(e->second.worker_id);
  if (w != workers_.end() && w->second.executors.erase({app.id, executor_id}) != 0) {
    w->second.cores_used -= std::min(w->second.cores_used, e->second.cores);
    w->second.memory_used -= std::min(w->second.memory_used, e->second.memory);
  }
  app.executors.erase(e);
}

void master_logic::remove_app(const std::string& app_id, app_state state, const std::string& reason,
                              decisions& out) {
  auto i = apps_.find(app_id);
  if (i == apps_.end())
    return;
  auto& app = i->second;
  std::vector<std::string> ids;
  for (auto& [id, e] : app.executors)
    ids.push_back(id);
  for (auto& id : ids) {
    out.push_back(kill_executor{app.executors.at(id).worker_id, app_id, id, reason});
    remove_executor(app, id);
  }
  out.push_back(application_finished{app_id});
  unpersist("app", app_id);
  app.state = state;
  app.end_reason = reason;
  finished_apps_.push_back(std::move(app));
  if (finished_apps_.size() > std::max<std::size_t>(settings_.retained_applications, 1))
    finished_apps_.erase(finished_apps_.begin());  // the oldest: app ids and names come from clients
  apps_.erase(i);
  app_order_.erase(std::remove(app_order_.begin(), app_order_.end(), app_id), app_order_.end());
}

decisions master_logic::finish_application(const std::string& app_id, app_state final_state,
                                           const std::string& reason) {
  decisions out;
  remove_app(app_id, final_state, reason, out);
  if (out.empty())
    return out;
  auto more = schedule();  // its cores go to the next applications
  out.insert(out.end(), more.begin(), more.end());
  return out;
}

std::pair<bool, decisions> master_logic::kill_application(const std::string& app_id, const std::string& reason) {
  if (apps_.count(app_id) == 0)
    return {false, {}};
  // The driver first, so it hears why before its executors disappear.
  decisions out{application_removed{app_id, reason}};
  auto rest = finish_application(app_id, app_state::killed, reason);
  out.insert(out.end(), rest.begin(), rest.end());
  return {true, std::move(out)};
}

decisions master_logic::executor_state_changed(const std::string& app_id, const std::string& executor_id,
                                               executor_state state, int exit_code, int signal,
                                               const std::string& message, std::uint32_t pid,
                                               executor_loss_cause cause) {
  auto a = apps_.find(app_id);
  if (a == apps_.end())
    return {};  // late report about a finished application
  auto& app = a->second;
  auto e = app.executors.find(executor_id);
  if (e == app.executors.end())
    return {};  // already removed (killed on request, worker lost): nothing to relay
  decisions out;
  executor_updated u{app_id, executor_id, state, exit_code, signal, message, false, cause};
  if (pid != 0)
    e->second.pid = pid;
  if (!is_finished(state)) {
    e->second.state = state;
    if (state == executor_state::running)
      app.state = app_state::running;
    out.push_back(std::move(u));
    return out;
  }
  out.push_back(std::move(u));
  remove_executor(app, executor_id);
  // Only an executor that ended normally breaks a run of failures: "running" is reported right
  // after exec, so an executor that dies at start-up would otherwise reset the count every time.
  bool normal = state == executor_state::killed || (state == executor_state::exited && exit_code == 0);
  if (normal)
    app.retry_count = 0;
  if (!normal) {
    ++app.retry_count;
    bool any_running = std::any_of(app.executors.begin(), app.executors.end(),
                                   [](auto& kv) { return kv.second.state == executor_state::running; });
    if (settings_.max_executor_retries > 0 && app.retry_count >= settings_.max_executor_retries && !any_running) {
      auto reason = "application " + app_id + " removed: " + std::to_string(app.retry_count)
                    + " executors failed in a row; the last one: " + message;
      out.push_back(application_removed{app_id, reason});
      remove_app(app_id, app_state::failed, reason, out);
    }
  }
  auto more = schedule();
  out.insert(out.end(), more.begin(), more.end());
  return out;
}

decisions master_logic::request_executors(const std::string& app_id, std::uint32_t total) {
  auto a = apps_.find(app_id);
  if (a == apps_.end())
    return {};
  a->second.executor_limit = total;
  persist(a->second);
  return schedule();
}

decisions master_logic::kill_executors(const std::string& app_id, const std::vector<std::string>& executor_ids) {
  auto a = apps_.find(app_id);
  if (a == apps_.end())
    return {};
  auto& app = a->second;
  decisions out;
  for (auto& id : executor_ids) {
    auto e = app.executors.find(id);
    if (e == app.executors.end())
      continue;
    out.push_back(kill_executor{e->second.worker_id, app_id, id, "released by the application"});
    out.push_back(executor_updated{app_id, id, executor_state::killed, 0, 0, "killed at the application's request",
                                   false, executor_loss_cause::killed_by_driver});
    remove_executor(app, id);
  }
  if (!app.executor_limit)
    app.executor_limit = static_cast<std::uint32_t>(app.executors.size());
  persist(app);
  auto more = schedule();
  out.insert(out.end(), more.begin(), more.end());
  return out;
}

// -- scheduling (Spark's Master.schedule) ------------------------------------------------------

decisions master_logic::schedule() {
  decisions out;
  if (recovering_)
    return out;  // Spark's master schedules nothing until recovery completes
  schedule_drivers(out);
  for (auto& id : app_order_) {
    auto& app = apps_.at(id);
    if (app.state == app_state::waiting || app.state == app_state::running)
      allocate(app, out);
  }
  return out;
}

void master_logic::allocate(app_record& app, decisions& out) {
  const std::uint32_t cores_per = app.desc.executor_cores;
  const std::uint64_t mem_per = app.desc.executor_memory;
  std::uint32_t cores_left = app.cores_left(settings_.default_cores);
  if (cores_left < cores_per)
    return;
  std::vector<worker_record*> usable;
  for (auto* w : alive_workers())
    if (w->cores_free() >= cores_per && w->memory_free() >= mem_per)
      usable.push_back(w);
  // Most free cores first (as Spark), ties by id so the result is deterministic.
  std::stable_sort(usable.begin(), usable.end(),
                   [](auto* x, auto* y) { return x->cores_free() > y->cores_free(); });
  const std::size_t n = usable.size();
  std::vector<std::uint32_t> assigned_cores(n, 0);
  std::vector<std::uint32_t> assigned_execs(n, 0);
  std::uint64_t free_sum = 0;
  for (auto* w : usable)
    free_sum += w->cores_free();
  std::uint64_t to_assign = std::min<std::uint64_t>(cores_left, free_sum);
  std::uint64_t total_assigned = 0;
  auto can_launch = [&](std::size_t pos) {
    auto* w = usable[pos];
    if (to_assign < cores_per || w->cores_free() - assigned_cores[pos] < cores_per)
      return false;
    if (w->memory_free() - std::uint64_t{assigned_execs[pos]} * mem_per < mem_per)
      return false;
    if (app.executor_limit && total_assigned + app.executors.size() >= *app.executor_limit)
      return false;
    return true;
  };
  std::vector<std::size_t> free_pos(n);
  std::iota(free_pos.begin(), free_pos.end(), std::size_t{0});
  free_pos.erase(std::remove_if(free_pos.begin(), free_pos.end(), [&](auto p) { return !can_launch(p); }),
                 free_pos.end());
  while (!free_pos.empty()) {
    for (auto pos : free_pos) {
      bool keep = true;
      while (keep && can_launch(pos)) {
        to_assign -= cores_per;
        assigned_cores[pos] += cores_per;
        ++assigned_execs[pos];
        ++total_assigned;
        if (settings_.spread_out)
          keep = false;
      }
    }
    free_pos.erase(std::remove_if(free_pos.begin(), free_pos.end(), [&](auto p) { return !can_launch(p); }),
                   free_pos.end());
  }
  for (std::size_t pos = 0; pos < n; ++pos) {
    auto* w = usable[pos];
    for (std::uint32_t k = 0; k < assigned_execs[pos]; ++k) {
      executor_record e;
      e.app_id = app.id;
      e.id = std::to_string(app.next_executor_id++);
      e.worker_id = w->desc.id;
      e.cores = cores_per;
      e.memory = mem_per;
      w->cores_used += cores_per;
      w->memory_used += mem_per;
      w->executors.insert({app.id, e.id});
      out.push_back(launch_executor{w->desc.id, app.id, e.id, cores_per, mem_per});
      out.push_back(executor_added{app.id, e.id, w->desc.id, w->desc.host, cores_per, mem_per});
      app.executors.emplace(e.id, std::move(e));
      app.state = app_state::running;
    }
  }
  if (total_assigned != 0)
    persist(app);  // next_executor_id moved: a recovered master must not reuse an id
}

// -- drivers ---------------------------------------------------------------------------------

void master_logic::schedule_drivers(decisions& out) {
  for (auto& id : driver_order_) {
    auto& d = drivers_.at(id);
    if (!d.worker_id.empty() || is_finished(d.state))
      continue;
    auto alive = alive_workers();
    if (alive.empty())
      return;
    for (std::size_t k = 0; k < alive.size(); ++k) {
      auto* w = alive[(next_worker_rr_ + k) % alive.size()];
      if (w->cores_free() >= d.desc.cores && w->memory_free() >= d.desc.memory) {
        w->cores_used += d.desc.cores;
        w->memory_used += d.desc.memory;
        w->drivers.insert(id);
        d.worker_id = w->desc.id;
        d.state = driver_state::running;
        next_worker_rr_ = (next_worker_rr_ + k + 1) % alive.size();
        persist(d);
        out.push_back(launch_driver{w->desc.id, id});
        break;
      }
    }
  }
}

decisions master_logic::submit_driver(const std::string& driver_id, driver_description desc) {
  if (drivers_.count(driver_id) != 0)
    return {};
  driver_record d;
  d.id = driver_id;
  d.desc = std::move(desc);
  persist(d);
  drivers_.emplace(driver_id, std::move(d));
  driver_order_.push_back(driver_id);
  return schedule();
}

void master_logic::end_driver(const std::string& driver_id, driver_state state, const std::string& message) {
  auto i = drivers_.find(driver_id);
  if (i == drivers_.end())
    return;
  auto& d = i->second;
  auto w = workers_.find(d.worker_id);
  if (w != workers_.end() && w->second.drivers.erase(driver_id) != 0) {
    w->second.cores_used -= std::min(w->second.cores_used, d.desc.cores);
    w->second.memory_used -= std::min(w->second.memory_used, d.desc.memory);
  }
  d.state = state;
  d.message = message;
  unpersist("driver", driver_id);
  finished_drivers_.push_back(std::move(d));
  if (finished_drivers_.size() > std::max<std::size_t>(settings_.retained_drivers, 1))
    finished_drivers_.erase(finished_drivers_.begin());  // the oldest
  drivers_.erase(i);
  driver_order_.erase(std::remove(driver_order_.begin(), driver_order_.end(), driver_id), driver_order_.end());
}

std::pair<bool, decisions> master_logic::kill_driver(const std::string& driver_id) {
  auto i = drivers_.find(driver_id);
  if (i == drivers_.end())
    return {false, {}};
  auto& d = i->second;
  d.kill_requested = true;
  if (d.worker_id.empty()) {
    end_driver(driver_id, driver_state::killed, "killed before it was launched");
    return {true, {}};
  }
  return {true, {deploy::kill_driver{d.worker_id, driver_id}}};
}

decisions master_logic::driver_state_changed(const std::string& driver_id, driver_state state, int exit_code,
                                             int signal, const std::string& message, std::uint32_t pid) {
  auto i = drivers_.find(driver_id);
  if (i == drivers_.end())
    return {};
  auto& d = i->second;
  if (pid != 0)
    d.pid = pid;
  if (!message.empty())
    d.message = message;
  if (!is_finished(state)) {
    if (state == driver_state::relaunching)  // the worker restarts a supervised driver itself
      ++d.restarts;
    d.state = state;
    persist(d);
    return {};
  }
  std::string text = message;
  if (text.empty())
    text = signal != 0 ? "signal " + std::to_string(signal) : "exit code " + std::to_string(exit_code);
  end_driver(driver_id, state, text);
  return schedule();
}

// -- recovery --------------------------------------------------------------------------------

void master_logic::persist(const worker_description& w) {
  if (!persistence_)
    return;
  try {
    persistence_->persist_worker(w);
  } catch (const std::exception& e) {
    persistence_errors_.push_back(e.what());
  }
}

void master_logic::persist(const app_record& a) {
  if (!persistence_)
    return;
  try {
    persistence_->persist_app(a);
  } catch (const std::exception& e) {
    persistence_errors_.push_back(e.what());
  }
}

void master_logic::persist(const driver_record& d) {
  if (!persistence_)
    return;
  try {
    persistence_->persist_driver(d);
  } catch (const std::exception& e) {
    persistence_errors_.push_back(e.what());
  }
}

void master_logic::unpersist(const char* kind, const std::string& id) {
  if (!persistence_)
    return;
  try {
    std::string k = kind;
    if (k == "worker")
      persistence_->unpersist_worker(id);
    else if (k == "app")
      persistence_->unpersist_app(id);
    else
      persistence_->unpersist_driver(id);
  } catch (const std::exception& e) {
    persistence_errors_.push_back(e.what());
  }
}

std::vector<std::string> master_logic::take_persistence_errors() {
  return std::exchange(persistence_errors_, {});
}

bool master_logic::begin_recovery(recovered_state state, time_point now) {
  if (state.empty())
    return false;
  recovering_ = true;
  for (auto& w : state.workers) {
    worker_record rec;
    rec.desc = w;
    rec.alive = false;
    rec.recovering = true;
    rec.last_heartbeat = now;
    workers_[w.id] = std::move(rec);
  }
  // FIFO again, by submission time (ids sort by time too, as a tie-break).
  std::stable_sort(state.apps.begin(), state.apps.end(), [](auto& x, auto& y) {
    return std::tie(x.submit_time_ms, x.id) < std::tie(y.submit_time_ms, y.id);
  });
  for (auto& a : state.apps) {
    a.executors.clear();
    a.state = app_state::waiting;
    a.recovering = true;
    a.retry_count = 0;
    if (apps_.count(a.id) != 0)
      continue;
    app_order_.push_back(a.id);
    apps_.emplace(a.id, std::move(a));
  }
  std::sort(state.drivers.begin(), state.drivers.end(), [](auto& x, auto& y) { return x.id < y.id; });
  for (auto& d : state.drivers) {
    if (is_finished(d.state) || drivers_.count(d.id) != 0)
      continue;
    d.worker_id.clear();
    d.pid = 0;
    driver_order_.push_back(d.id);
    drivers_.emplace(d.id, std::move(d));
  }
  return true;
}

std::pair<bool, decisions> master_logic::worker_recovered(const std::string& worker_id, const worker_report& report,
                                                          time_point now) {
  auto i = workers_.find(worker_id);
  if (i == workers_.end())
    return {false, {}};
  auto& w = i->second;
  decisions out;
  bool was_recovering = w.recovering;
  w.recovering = false;
  w.alive = true;
  w.dead_since.reset();
  w.last_heartbeat = now;
  adopt(w, report, was_recovering, out);
  if (!recovering_) {
    auto more = schedule();
    out.insert(out.end(), more.begin(), more.end());
  }
  return {true, std::move(out)};
}

bool master_logic::application_reconnected(const std::string& app_id) {
  auto a = apps_.find(app_id);
  if (a == apps_.end())
    return false;
  a->second.recovering = false;
  return true;
}

bool master_logic::all_recovered() const {
  for (auto& [id, w] : workers_)
    if (w.recovering)
      return false;
  for (auto& [id, a] : apps_)
    if (a.recovering)
      return false;
  return true;
}

decisions master_logic::complete_recovery() {
  decisions out;
  if (!recovering_)
    return out;
  recovering_ = false;
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (it->second.recovering) {
      unpersist("worker", it->first);
      it = workers_.erase(it);  // it claimed no executors or drivers: nothing else to undo
    } else {
      ++it;
    }
  }
  std::vector<std::string> silent;
  for (auto& id : app_order_)
    if (apps_.at(id).recovering)
      silent.push_back(id);
  for (auto& id : silent)
    remove_app(id, app_state::failed, "application " + id + ": its driver did not reconnect to the recovered master",
               out);
  std::vector<std::string> unclaimed;
  for (auto& id : driver_order_)
    if (drivers_.at(id).worker_id.empty())
      unclaimed.push_back(id);
  for (auto& id : unclaimed) {
    auto& d = drivers_.at(id);
    if (d.state == driver_state::submitted)
      continue;  // never launched: it waits for a worker as before
    if (d.desc.supervise && !d.kill_requested) {
      d.state = driver_state::relaunching;
      ++d.restarts;
      d.message = "relaunched: no worker reported it after master recovery";
      persist(d);
    } else {
      end_driver(id, driver_state::error, "no worker reported it after master recovery");
    }
  }
  auto more = schedule();
  out.insert(out.end(), more.begin(), more.end());
  return out;
}

// -- reading ---------------------------------------------------------------------------------

std::vector<const app_record*> master_logic::apps() const {
  std::vector<const app_record*> r;
  for (auto& id : app_order_)
    r.push_back(&apps_.at(id));
  return r;
}

const app_record* master_logic::app(const std::string& app_id) const {
  auto i = apps_.find(app_id);
  if (i != apps_.end())
    return &i->second;
  for (auto& a : finished_apps_)
    if (a.id == app_id)
      return &a;
  return nullptr;
}

std::vector<const driver_record*> master_logic::drivers() const {
  std::vector<const driver_record*> r;
  for (auto& id : driver_order_)
    r.push_back(&drivers_.at(id));
  return r;
}

const driver_record* master_logic::driver(const std::string& driver_id) const {
  auto i = drivers_.find(driver_id);
  if (i != drivers_.end())
    return &i->second;
  for (auto it = finished_drivers_.rbegin(); it != finished_drivers_.rend(); ++it)
    if (it->id == driver_id)
      return &*it;
  return nullptr;
}

} // namespace ember::deploy
