// A real standalone cluster on loopback for integration tests: `ember master` and `ember worker`
// processes (each in its own process group), started directly, stopped with SIGTERM (SIGKILL
// after a deadline) when the fixture goes out of scope. State comes from `ember status --json`.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "tests/support/eventually.hpp"
#include "tests/support/files.hpp"
#include "tests/support/process.hpp"

namespace ember_test {

// Every event in the JSON event logs under `dir`, in file order. A finished log must parse line
// by line (a bad line throws); `still_written` (a log read while its driver runs) skips a last line
// caught half-written, a line that does not parse and a directory not created yet.
inline std::vector<nlohmann::json> read_events(const std::filesystem::path& dir, bool still_written = false) {
  std::vector<nlohmann::json> out;
  std::error_code ec;
  if (still_written && !std::filesystem::exists(dir, ec))
    return out;
  for (auto& f : std::filesystem::directory_iterator(dir)) {
    std::ifstream in{f.path()};
    for (std::string line; std::getline(in, line);) {
      if (still_written && in.eof())
        break; // no newline yet: the line is still being written
      auto j = nlohmann::json::parse(line, nullptr, !still_written);
      if (!j.is_discarded())
        out.push_back(std::move(j));
    }
  }
  return out;
}

// The records of one kind ("taskEnd", "executorMetricsUpdate", ...) among `events`.
inline std::vector<nlohmann::json> of_kind(const std::vector<nlohmann::json>& events, const std::string& kind) {
  std::vector<nlohmann::json> out;
  for (auto& e : events)
    if (e.contains(kind))
      out.push_back(e.at(kind));
  return out;
}

// The records of one kind in the event logs under `dir` (read_events, then of_kind).
inline std::vector<nlohmann::json> events(const std::filesystem::path& dir, const std::string& kind,
                                          bool still_written = false) {
  return of_kind(read_events(dir, still_written), kind);
}

// `ember status --json` of the master at `url` (written through `out`); an empty object when the
// master does not answer or says something that is not JSON.
inline nlohmann::json master_state(const std::string& url, const std::filesystem::path& out, bool all = false) {
  auto cmd = "'" + bin_dir + "/ember' status --master " + url + " --json" + (all ? " --all" : "") + " >'" + out.string()
             + "' 2>/dev/null";
  if (std::system(cmd.c_str()) != 0)
    return nlohmann::json::object();
  try {
    return nlohmann::json::parse(slurp(out));
  } catch (const std::exception&) {
    return nlohmann::json::object();
  }
}

struct worker_spec {
  std::string host = "127.0.0.1";
  int cores = 2;
  std::string memory = "2g";
};

// A master and workers. dir holds logs and work directories.
class local_cluster {
public:
  local_cluster(const std::filesystem::path& dir, std::vector<worker_spec> workers) : dir_(dir) {
    port_ = free_port();
    url_ = "ember://127.0.0.1:" + std::to_string(port_);
    master_ = std::make_unique<child>(
      std::vector<std::string>{bin_dir + "/ember", "master", "--host", "127.0.0.1", "--port", std::to_string(port_)},
      dir / "master.log");
    REQUIRE_MESSAGE(eventually([&] { return slurp(dir / "master.log").find("listening on") != std::string::npos; }),
                    slurp(dir / "master.log"));
    for (size_t i = 0; i < workers.size(); ++i) {
      auto& w = workers[i];
      auto name = "worker-" + std::to_string(i);
      workers_.push_back(std::make_unique<child>(
        std::vector<std::string>{bin_dir + "/ember", "worker", url_, "--host", w.host, "--cores", std::to_string(w.cores),
                                 "--memory", w.memory, "--work-dir", (dir / name).string()},
        dir / (name + ".log")));
    }
    REQUIRE_MESSAGE(eventually([&] { return state().value("aliveWorkers", 0) == static_cast<int>(workers.size()); }),
                    state().dump());
  }
  ~local_cluster() {
    for (auto& w : workers_)
      w->stop();
    master_->stop();
  }

  const std::string& url() const { return url_; }
  child& master() { return *master_; }
  child& worker(size_t i) { return *workers_.at(i); }

  // `ember status --json` (an empty object if the master does not answer); `all` includes
  // finished applications and drivers.
  nlohmann::json state(bool all = false) const { return master_state(url_, dir_ / "status.json", all); }

private:
  std::filesystem::path dir_;
  int port_ = 0;
  std::string url_;
  std::unique_ptr<child> master_;
  std::vector<std::unique_ptr<child>> workers_;
};

} // namespace ember_test
