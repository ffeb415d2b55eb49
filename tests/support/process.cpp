#include "tests/support/process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <stdexcept>
#include <thread>

#include "tests/support/files.hpp"
#include "tests/support/temp_dir.hpp"

namespace ember_test {

using namespace std::chrono_literals;

child::child(const std::vector<std::string>& argv, std::filesystem::path log_file) {
  spawn_options o;
  o.log = std::move(log_file);
  start(argv, std::move(o));
}

child::child(const std::vector<std::string>& argv, spawn_options options) { start(argv, std::move(options)); }

child::child(child&& other) noexcept { *this = std::move(other); }

child& child::operator=(child&& other) noexcept {
  if (this != &other) {
    stop();
    if (out_ >= 0)
      ::close(out_);
    pid = std::exchange(other.pid, -1);
    log = std::move(other.log);
    out_ = std::exchange(other.out_, -1);
    buffer_ = std::move(other.buffer_);
    status_ = other.status_;
  }
  return *this;
}

child::~child() {
  stop();
  if (out_ >= 0)
    ::close(out_);
}

void child::start(const std::vector<std::string>& argv, spawn_options options) {
  if (argv.empty())
    throw std::invalid_argument("child: empty command line");
  log = options.log;
  // Everything the child needs is built before fork: after it, only async-signal-safe calls.
  std::vector<char*> args;
  for (auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int log_fd = -1;
  if (!log.empty()) {
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (options.pipe_stdout ? O_APPEND : O_TRUNC);
    log_fd = ::open(log.c_str(), flags, 0644);
    if (log_fd < 0)
      throw std::runtime_error("child: cannot open log " + log.string());
  }
  int err_fd = -1;
  if (!options.err.empty()) {
    err_fd = ::open(options.err.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_TRUNC, 0644);
    if (err_fd < 0)
      throw std::runtime_error("child: cannot open " + options.err.string());
  }
  int fds[2] = {-1, -1};
  if (options.pipe_stdout && ::pipe2(fds, O_CLOEXEC) != 0)
    throw std::runtime_error("child: pipe failed");
  pid_t parent = ::getpid();
  pid = ::fork();
  if (pid < 0)
    throw std::runtime_error("child: fork failed for " + argv[0]);
  if (pid == 0) {
    if (options.own_group)
      ::setpgid(0, 0);
    if (options.die_with_parent) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent)
        ::_exit(127);
    }
    if (options.pipe_stdout)
      ::dup2(fds[1], 1);
    else if (log_fd >= 0)
      ::dup2(log_fd, 1);
    if (err_fd >= 0)
      ::dup2(err_fd, 2);
    else if (log_fd >= 0)
      ::dup2(log_fd, 2);
    for (auto& [k, v] : options.env)
      ::setenv(k.c_str(), v.c_str(), 1);
    for (auto& k : options.unset_env)
      ::unsetenv(k.c_str());
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  if (log_fd >= 0)
    ::close(log_fd);
  if (err_fd >= 0)
    ::close(err_fd);
  if (options.pipe_stdout) {
    ::close(fds[1]);
    out_ = fds[0];
  }
}

bool child::running() const { return pid > 0 && ::kill(pid, 0) == 0; }

int child::stop(std::chrono::milliseconds grace) {
  if (pid <= 0)
    return status_;
  ::kill(pid, SIGTERM);
  if (!wait_for(grace)) {
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status_, 0);
    pid = -1;
  }
  return status_;
}

int child::wait() {
  if (pid > 0) {
    ::waitpid(pid, &status_, 0);
    pid = -1;
  }
  return exit_code(status_);
}

std::optional<int> child::wait_for(std::chrono::milliseconds limit) {
  if (pid <= 0)
    return status_;
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    if (::waitpid(pid, &status_, WNOHANG) == pid) {
      pid = -1;
      return status_;
    }
    if (std::chrono::steady_clock::now() >= deadline)
      return std::nullopt;
    std::this_thread::sleep_for(10ms); // our own child: polling its exit, with a deadline
  }
}

std::optional<std::string> child::line(std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    auto nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      auto l = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return l;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (out_ < 0 || left.count() <= 0)
      return std::nullopt;
    pollfd p{out_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
      continue;
    char buf[512];
    auto n = ::read(out_, buf, sizeof buf);
    if (n <= 0)
      return std::nullopt;
    buffer_.append(buf, static_cast<size_t>(n));
  }
}

int exit_code(int wait_status) {
  return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
}

bool alive(pid_t pid) {
  if (::kill(pid, 0) != 0)
    return false;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(in, line);
  auto close = line.rfind(')');
  return close == std::string::npos || line.size() < close + 3 || line[close + 2] != 'Z';
}

run_result run(const std::vector<std::string>& argv, spawn_options options, std::chrono::milliseconds limit) {
  temp_dir io{"ember-run"};
  options.log = io.path / "stdout";
  options.err = io.path / "stderr";
  options.pipe_stdout = false;
  run_result r;
  {
    child c{argv, options};
    if (auto status = c.wait_for(limit)) {
      r.exit_code = exit_code(*status);
    } else {
      c.stop(std::chrono::milliseconds{0});
      r.exit_code = 128 + SIGKILL;
    }
  }
  r.out = slurp(io.path / "stdout");
  r.err = slurp(io.path / "stderr");
  return r;
}

run_result sh(const std::string& cmd, const std::filesystem::path& dir) {
  auto out_file = dir / "cmd.out", err_file = dir / "cmd.err";
  int status = std::system((cmd + " >" + quoted(out_file.string()) + " 2>" + quoted(err_file.string())).c_str());
  run_result r;
  r.exit_code = exit_code(status);
  r.out = slurp(out_file);
  r.err = slurp(err_file);
  return r;
}

std::string quoted(const std::string& text) {
  // Built by appending: g++ 12 at -O3 warns (-Wrestrict, a false positive) on "'" + s + "'".
  std::string q = "'";
  for (char c : text) {
    if (c == '\'')
      q.append("'\\''");
    else
      q.push_back(c);
  }
  q.push_back('\'');
  return q;
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    throw std::runtime_error("free_port: socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::runtime_error("free_port: bind failed");
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::optional<int> url_port(const std::string& text, const std::string& marker) {
  std::smatch m;
  std::regex re(marker + "\\s*https?://[^:\\s/]+:([0-9]+)");
  if (!std::regex_search(text, m, re))
    return std::nullopt;
  return std::stoi(m[1]);
}

} // namespace ember_test
