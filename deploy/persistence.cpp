#include "deploy/persistence.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "config/secure_fs.hpp"

namespace ember::deploy {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr const char* temp_prefix = ".tmp-";

std::string checked_name(const char* kind, const std::string& id) {
  if (id.empty() || id.find('/') != std::string::npos || id == "." || id == "..")
    throw std::runtime_error(std::string{"cannot persist "} + kind + " with id '" + id + "'");
  return std::string{kind} + "_" + id;
}

json to_json(const binary_ref& b) {
  return {{"path", b.path}, {"contentHash", b.content_hash}, {"size", b.size}};
}

binary_ref binary_from(const json& j) {
  return {j.at("path").get<std::string>(), j.at("contentHash").get<std::string>(), j.at("size").get<std::uint64_t>()};
}

json to_json(const properties& ps) {
  auto r = json::array();
  for (auto& [k, v] : ps)
    r.push_back(json::array({k, v}));
  return r;
}

properties properties_from(const json& j) {
  properties r;
  for (auto& p : j)
    r.emplace_back(p.at(0).get<std::string>(), p.at(1).get<std::string>());
  return r;
}

std::string driver_state_name(driver_state s) {
  switch (s) {
    case driver_state::submitted: return "submitted";
    case driver_state::running: return "running";
    case driver_state::finished: return "finished";
    case driver_state::relaunching: return "relaunching";
    case driver_state::unknown: return "unknown";
    case driver_state::killed: return "killed";
    case driver_state::failed: return "failed";
    case driver_state::error: return "error";
  }
  return "unknown";
}

driver_state driver_state_from(const std::string& s) {
  for (auto x : {driver_state::submitted, driver_state::running, driver_state::finished, driver_state::relaunching,
                 driver_state::unknown, driver_state::killed, driver_state::failed, driver_state::error})
    if (driver_state_name(x) == s)
      return x;
  throw std::runtime_error("unknown driver state '" + s + "'");
}

worker_description worker_from(const json& j) {
  return {j.at("id").get<std::string>(), j.at("host").get<std::string>(), j.at("port").get<std::uint16_t>(),
          j.at("cores").get<std::uint32_t>(), j.at("memory").get<std::uint64_t>()};
}

app_record app_from(const json& j) {
  app_record a;
  a.id = j.at("id").get<std::string>();
  a.submit_time_ms = j.at("submitTimeMs").get<std::uint64_t>();
  a.next_executor_id = j.at("nextExecutorId").get<std::uint32_t>();
  if (j.contains("executorLimit"))
    a.executor_limit = j.at("executorLimit").get<std::uint32_t>();
  auto& d = j.at("desc");
  a.desc.name = d.at("name").get<std::string>();
  a.desc.user = d.at("user").get<std::string>();
  a.desc.max_cores = d.at("maxCores").get<std::uint32_t>();
  a.desc.executor_cores = d.at("executorCores").get<std::uint32_t>();
  a.desc.executor_memory = d.at("executorMemory").get<std::uint64_t>();
  a.desc.binary = binary_from(d.at("binary"));
  a.desc.args = d.at("args").get<std::vector<std::string>>();
  a.desc.conf = properties_from(d.at("conf"));
  a.desc.driver_host = d.at("driverHost").get<std::string>();
  a.desc.driver_port = d.at("driverPort").get<std::uint16_t>();
  a.desc.initial_executors = d.at("initialExecutors").get<std::uint32_t>();
  a.desc.ui_url = d.value("uiUrl", std::string{});  // absent in records of older masters
  return a;
}

// Names and arguments come from clients and need not be UTF-8: a bad byte is stored as U+FFFD
// rather than failing the write (plain dump() throws type_error 316).
std::string text_of(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

driver_record driver_from(const json& j) {
  driver_record r;
  r.id = j.at("id").get<std::string>();
  r.state = driver_state_from(j.at("state").get<std::string>());
  r.restarts = j.at("restarts").get<std::uint32_t>();
  auto& d = j.at("desc");
  r.desc.binary = binary_from(d.at("binary"));
  r.desc.args = d.at("args").get<std::vector<std::string>>();
  r.desc.conf = properties_from(d.at("conf"));
  r.desc.cores = d.at("cores").get<std::uint32_t>();
  r.desc.memory = d.at("memory").get<std::uint64_t>();
  r.desc.supervise = d.at("supervise").get<bool>();
  r.desc.user = d.value("user", std::string{});  // absent in files of earlier versions
  return r;
}

} // namespace

filesystem_persistence::filesystem_persistence(fs::path dir) : dir_(std::move(dir)) {
  // Private: the files describe every application and driver (their confs included).
  try {
    config::make_private_dirs(dir_);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string{"ember.deploy.recoveryDirectory: "} + e.what());
  }
}

void filesystem_persistence::write(const std::string& name, const std::string& text) {
  auto final_path = dir_ / name;
  auto temp = dir_ / (temp_prefix + name);
  auto fail = [&](const char* what) {
    auto err = std::string{std::strerror(errno)};
    ::unlink(temp.c_str());
    throw std::runtime_error("recovery file " + final_path.string() + ": " + what + ": " + err);
  };
  // Not O_EXCL: a temp file a crash left behind is ours to overwrite; never through a symlink.
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | config::private_open_flags, config::private_file_mode);
  if (fd < 0)
    fail("cannot create");
  std::size_t done = 0;
  while (done < text.size()) {
    auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      ::close(fd);
      fail("cannot write");
    }
    done += static_cast<std::size_t>(n);
  }
  // Durable before it becomes visible: a crash leaves the old file or the new one, never half.
  if (::fsync(fd) != 0) {
    ::close(fd);
    fail("cannot sync");
  }
  ::close(fd);
  if (::rename(temp.c_str(), final_path.c_str()) != 0)
    fail("cannot rename");
  sync_dir_or_fail(final_path);
}

// The rename (or unlink) itself is durable only once the directory is synced.
void filesystem_persistence::sync_dir_or_fail(const fs::path& file) {
  try {
    config::sync_dir(dir_);
  } catch (const std::exception& e) {
    throw std::runtime_error("recovery file " + file.string() + ": " + e.what());
  }
}

void filesystem_persistence::remove(const std::string& name) {
  std::error_code ec;
  if (fs::remove(dir_ / name, ec))
    sync_dir_or_fail(dir_ / name);
}

void filesystem_persistence::persist_worker(const worker_description& w) {
  json j = {{"id", w.id}, {"host", w.host}, {"port", w.port}, {"cores", w.cores}, {"memory", w.memory}};
  write(checked_name("worker", w.id), text_of(j));
}

void filesystem_persistence::unpersist_worker(const std::string& worker_id) {
  remove(checked_name("worker", worker_id));
}

void filesystem_persistence::persist_app(const app_record& a) {
  auto& d = a.desc;
  json desc = {{"name", d.name},
               {"user", d.user},
               {"maxCores", d.max_cores},
               {"executorCores", d.executor_cores},
               {"executorMemory", d.executor_memory},
               {"binary", to_json(d.binary)},
               {"args", d.args},
               {"conf", to_json(d.conf)},
               {"driverHost", d.driver_host},
               {"driverPort", d.driver_port},
               {"initialExecutors", d.initial_executors},
               {"uiUrl", d.ui_url}};
  json j = {{"id", a.id}, {"submitTimeMs", a.submit_time_ms}, {"nextExecutorId", a.next_executor_id}, {"desc", desc}};
  if (a.executor_limit)
    j["executorLimit"] = *a.executor_limit;
  write(checked_name("app", a.id), text_of(j));
}

void filesystem_persistence::unpersist_app(const std::string& app_id) {
  remove(checked_name("app", app_id));
}

void filesystem_persistence::persist_driver(const driver_record& r) {
  auto& d = r.desc;
  json desc = {{"binary", to_json(d.binary)}, {"args", d.args},     {"conf", to_json(d.conf)},
               {"cores", d.cores},            {"memory", d.memory}, {"supervise", d.supervise},
               {"user", d.user}};
  json j = {{"id", r.id}, {"state", driver_state_name(r.state)}, {"restarts", r.restarts}, {"desc", desc}};
  write(checked_name("driver", r.id), text_of(j));
}

void filesystem_persistence::unpersist_driver(const std::string& driver_id) {
  remove(checked_name("driver", driver_id));
}

recovered_state filesystem_persistence::read() const {
  recovered_state r;
  std::vector<fs::path> files;
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir_, ec); !ec && it != fs::directory_iterator(); it.increment(ec))
    files.push_back(it->path());
  if (ec)
    r.errors.push_back("recovery directory " + dir_.string() + " cannot be listed: " + ec.message());
  std::sort(files.begin(), files.end());
  for (auto& path : files) {
    auto name = path.filename().string();
    if (name == binaries_subdir)
      continue;
    if (name.starts_with(temp_prefix)) {  // a write the previous master did not finish
      fs::remove(path, ec);
      continue;
    }
    auto kind = name.substr(0, name.find('_'));
    if (kind != "worker" && kind != "app" && kind != "driver") {
      r.errors.push_back("recovery file " + path.string() + " ignored: not a worker_, app_ or driver_ file");
      continue;
    }
    std::ifstream in{path, std::ios::binary};
    std::stringstream text;
    text << in.rdbuf();
    if (!in) {
      r.errors.push_back("recovery file " + path.string() + " is unreadable: " + std::strerror(errno));
      continue;
    }
    try {
      auto j = json::parse(text.str());
      auto expected_id = name.substr(kind.size() + 1);
      if (j.at("id").get<std::string>() != expected_id)
        throw std::runtime_error("it describes '" + j.at("id").get<std::string>() + "'");
      if (kind == "worker")
        r.workers.push_back(worker_from(j));
      else if (kind == "app")
        r.apps.push_back(app_from(j));
      else
        r.drivers.push_back(driver_from(j));
    } catch (const std::exception& e) {
      r.errors.push_back("recovery file " + path.string() + " is corrupt, " + kind + " not recovered: " + e.what());
    }
  }
  return r;
}

} // namespace ember::deploy
