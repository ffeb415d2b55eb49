// A real standalone cluster on loopback for integration tests: `ember master` and `ember worker`
// processes (each in its own process group), started directly, stopped with SIGTERM (SIGKILL
// after a deadline) when the fixture goes out of scope. State comes from `ember status --json`.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

namespace ember_test {

inline const std::string bin_dir = EMBER_BIN_DIR;

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in{p, std::ios::binary};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct run_result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs a shell command line; stdout and stderr captured through files in dir.
inline run_result sh(const std::string& cmd, const std::filesystem::path& dir) {
  auto out_file = dir / "cmd.out", err_file = dir / "cmd.err";
  int status = std::system((cmd + " >" + out_file.string() + " 2>" + err_file.string()).c_str());
  run_result r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(out_file);
  r.err = slurp(err_file);
  return r;
}

// A port nobody listens on right now (the kernel's next ephemeral one).
inline int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// Polls `cond` until it holds or `limit` passes (then false). Not a timing claim: the limit only
// stops a broken run from hanging.
inline bool wait_until(const std::function<bool()>& cond, std::chrono::seconds limit = std::chrono::seconds{60}) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond())
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  return cond();
}

// A child process in its own process group, stdout+stderr into `log`.
struct child {
  pid_t pid = -1;
  std::filesystem::path log;

  child(const std::vector<std::string>& argv, std::filesystem::path log_file) : log(std::move(log_file)) {
    pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::setpgid(0, 0);
      auto* f = std::fopen(log.c_str(), "w");
      if (f) {
        ::dup2(::fileno(f), 1);
        ::dup2(::fileno(f), 2);
      }
      std::vector<char*> args;
      for (auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      std::_Exit(127);
    }
  }
  child(const child&) = delete;
  child& operator=(const child&) = delete;
  ~child() { stop(); }

  bool running() const { return pid > 0 && ::kill(pid, 0) == 0; }

  // SIGTERM, then SIGKILL to the whole group if it has not exited in time. Returns the status.
  int stop(std::chrono::seconds grace = std::chrono::seconds{10}) {
    if (pid <= 0)
      return status_;
    ::kill(pid, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + grace;
    while (::waitpid(pid, &status_, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(-pid, SIGKILL);
        ::waitpid(pid, &status_, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
    }
    pid = -1;
    return status_;
  }

  // Waits for the process to exit by itself; its exit code (128 + signal if killed).
  int wait() {
    ::waitpid(pid, &status_, 0);
    pid = -1;
    return WIFEXITED(status_) ? WEXITSTATUS(status_) : 128 + WTERMSIG(status_);
  }

private:
  int status_ = 0;
};

// The records of one kind ("taskEnd", "executorMetricsUpdate", ...) in the JSON event logs
// under `dir`. A finished log must parse line by line; `still_written` (a log read while its driver
// runs) skips a last line caught half-written and a directory not created yet.
inline std::vector<nlohmann::json> events(const std::filesystem::path& dir, const std::string& kind,
                                          bool still_written = false) {
  std::vector<nlohmann::json> out;
  if (still_written && !std::filesystem::exists(dir))
    return out;
  for (auto& f : std::filesystem::directory_iterator(dir)) {
    std::ifstream in{f.path()};
    for (std::string line; std::getline(in, line);) {
      auto j = nlohmann::json::parse(line, nullptr, !still_written);
      if (!j.is_discarded() && j.contains(kind))
        out.push_back(j[kind]);
    }
  }
  return out;
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
    REQUIRE_MESSAGE(wait_until([&] { return slurp(dir / "master.log").find("listening on") != std::string::npos; }),
                    slurp(dir / "master.log"));
    for (size_t i = 0; i < workers.size(); ++i) {
      auto& w = workers[i];
      auto name = "worker-" + std::to_string(i);
      workers_.push_back(std::make_unique<child>(
        std::vector<std::string>{bin_dir + "/ember", "worker", url_, "--host", w.host, "--cores", std::to_string(w.cores),
                                 "--memory", w.memory, "--work-dir", (dir / name).string()},
        dir / (name + ".log")));
    }
    REQUIRE_MESSAGE(wait_until([&] { return state().value("aliveWorkers", 0) == static_cast<int>(workers.size()); }),
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
