#include "scheduler/topology.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace ember::scheduler {

namespace {

std::vector<std::string> fields_of(const std::string& line) {
  std::istringstream in{line};
  std::vector<std::string> out;
  for (std::string f; in >> f;)
    out.push_back(f);
  return out;
}

} // namespace

std::optional<std::map<std::string, std::string>> parse_topology(const std::string& text, const std::string& file_name,
                                                                 std::string& error) {
  std::map<std::string, std::string> out;
  std::istringstream in{text};
  std::string line;
  for (int no = 1; std::getline(in, line); ++no) {
    if (auto hash = line.find('#'); hash != std::string::npos)
      line.erase(hash);
    auto f = fields_of(line);
    if (f.empty())
      continue;
    auto where = file_name + ":" + std::to_string(no) + ": ";
    if (f.size() != 2) {
      error = where + "expected `host rack`, found " + std::to_string(f.size()) + " field(s)";
      return std::nullopt;
    }
    auto [it, fresh] = out.emplace(f[0], f[1]);
    if (!fresh && it->second != f[1]) {
      error = where + "host '" + f[0] + "' is in rack '" + it->second + "' already, not '" + f[1] + "'";
      return std::nullopt;
    }
  }
  return out;
}

std::map<std::string, std::string> load_topology(const std::string& path) {
  std::ifstream in{path};
  if (!in)
    throw std::runtime_error("ember.topology.file: cannot read " + path + ": " + std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  std::string error;
  auto parsed = parse_topology(text.str(), path, error);
  if (!parsed)
    throw std::runtime_error("ember.topology.file: " + error);
  return std::move(*parsed);
}

namespace {

struct fd_guard {
  int fd = -1;
  ~fd_guard() {
    if (fd >= 0)
      ::close(fd);
  }
};

} // namespace

std::vector<std::string> run_topology_script(const std::string& script, const std::vector<std::string>& hosts,
                                             std::chrono::milliseconds timeout) {
  auto fail = [&](const std::string& why) -> std::runtime_error {
    return std::runtime_error("ember.topology.script " + script + ": " + why);
  };
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0)
    throw fail(std::string{"cannot create a pipe: "} + std::strerror(errno));
  fd_guard read_end{out[0]}, write_end{out[1]};
  // posix_spawn, not fork: the driver has many threads. stdout and stderr both come back (stderr
  // to say why it failed); stdin is /dev/null.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, out[1], 2);
  std::vector<std::string> args{script};
  args.insert(args.end(), hosts.begin(), hosts.end());
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, script.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0)
    throw fail(std::string{"cannot run it: "} + std::strerror(rc));
  ::close(write_end.fd);
  write_end.fd = -1;

  std::string text;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  char buf[4096];
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{read_end.fd, POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), INT32_MAX)));
    if (n < 0 && errno == EINTR)
      continue;
    if (n == 0) {
      timed_out = true;
      break;
    }
    auto got = ::read(read_end.fd, buf, sizeof buf);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0)
      break; // end of output (or an error: the exit status says more)
    text.append(buf, static_cast<size_t>(got));
    if (text.size() > (1u << 20))
      break; // no topology answer is this long
  }
  if (timed_out)
    ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  auto first_line = [&] {
    auto line = text.substr(0, text.find('\n'));
    return line.empty() ? std::string{} : " (" + line + ")";
  };
  if (timed_out)
    throw fail("no answer within " + std::to_string(timeout.count()) + " ms (ember.topology.script.timeout)");
  if (WIFSIGNALED(status))
    throw fail("killed by signal " + std::to_string(WTERMSIG(status)));
  if (WEXITSTATUS(status) != 0)
    throw fail("exit code " + std::to_string(WEXITSTATUS(status)) + first_line());
  auto racks = fields_of(text);
  if (racks.size() != hosts.size())
    throw fail("printed " + std::to_string(racks.size()) + " rack(s) for " + std::to_string(hosts.size())
               + " host(s)");
  return racks;
}

topology::topology(const std::string& file, const std::string& script, std::chrono::milliseconds script_timeout)
  : timeout_(script_timeout) {
  if (!file.empty()) {
    file_map_ = load_topology(file);
    from_file_ = true;
    return;
  }
  if (script.empty())
    return;
  struct stat st{};
  if (::stat(script.c_str(), &st) != 0)
    throw std::runtime_error("ember.topology.script: " + script + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode) || ::access(script.c_str(), X_OK) != 0)
    throw std::runtime_error("ember.topology.script: " + script + " is not an executable file");
  script_ = script;
}

std::optional<std::string> topology::cached_rack_of(const std::string& host) const {
  if (script_.empty()) {
    auto i = file_map_.find(host);
    return i == file_map_.end() ? std::string{} : i->second;
  }
  std::lock_guard guard{mtx_};
  auto i = cache_.find(host);
  if (i == cache_.end())
    return std::nullopt;
  return i->second;
}

std::string topology::rack_of(const std::string& host) {
  if (auto known = cached_rack_of(host))
    return *known;
  auto rack = run_topology_script(script_, {host}, timeout_).at(0);
  std::lock_guard guard{mtx_};
  cache_[host] = rack;
  return rack;
}

} // namespace ember::scheduler
