#include "deploy/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "config/secure_fs.hpp"
#include "security/secret.hpp"

namespace ember::deploy {

namespace fs = std::filesystem;

// -- memory limits -----------------------------------------------------------------------------

namespace {

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool has_word(const std::string& text, std::string_view word) {
  std::istringstream in(text);
  std::string w;
  while (in >> w)
    if (w == word)
      return true;
  return false;
}

bool write_file(const fs::path& p, const std::string& text) {
  std::ofstream out(p);
  out << text;
  out.flush();
  return static_cast<bool>(out);
}

} // namespace

memory_limiter memory_limiter::detect(bool enable_cgroup, std::uint64_t rlimit_overhead, const std::string& name) {
  memory_limiter m;
  m.rlimit_overhead = rlimit_overhead;
  if (!enable_cgroup)
    return m;
  // cgroup v2 only: the unified hierarchy line is "0::/path".
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  std::string own;
  while (std::getline(in, line))
    if (line.rfind("0::", 0) == 0)
      own = line.substr(3);
  if (own.empty())
    return m;
  fs::path base = fs::path("/sys/fs/cgroup") / fs::path(own).relative_path();
  std::error_code ec;
  if (!fs::exists(base / "cgroup.controllers", ec) || !has_word(read_file(base / "cgroup.controllers"), "memory"))
    return m;
  // Children need "memory" in our subtree_control; a cgroup with processes cannot enable it (the
  // no-internal-processes rule), so the worker must already sit in a delegated, empty-parent slot.
  if (!has_word(read_file(base / "cgroup.subtree_control"), "memory"))
    return m;
  auto parent = base / name;
  fs::create_directories(parent, ec);
  if (ec)
    return m;
  if (!has_word(read_file(parent / "cgroup.controllers"), "memory")) {
    fs::remove(parent, ec);
    return m;
  }
  if (!has_word(read_file(parent / "cgroup.subtree_control"), "memory")
      && !write_file(parent / "cgroup.subtree_control", "+memory")) {
    fs::remove(parent, ec);
    return m;
  }
  m.cgroup_parent = parent;
  return m;
}

std::string memory_limiter::describe() const {
  if (uses_cgroup())
    return "cgroup v2 memory.max under " + cgroup_parent.string();
  return "RLIMIT_AS (memory + " + std::to_string(rlimit_overhead >> 20) + " MiB overhead)";
}

bool cgroup_oom_killed(const fs::path& cgroup) {
  if (cgroup.empty())
    return false;
  std::istringstream in(read_file(cgroup / "memory.events"));
  std::string key;
  std::uint64_t n = 0;
  while (in >> key >> n)
    if (key == "oom_kill")
      return n > 0;
  return false;
}

void remove_cgroup(const fs::path& cgroup) {
  if (cgroup.empty())
    return;
  std::error_code ec;
  fs::remove(cgroup, ec);  // rmdir: succeeds once the cgroup has no process
}

// -- launch ----------------------------------------------------------------------------------------

namespace {

// What failed in the child before exec, sent back through the error pipe with errno.
enum class child_step : int { chdir = 1, out, err, cgroup, rlimit, affinity, exec };

const char* step_name(int step) {
  switch (static_cast<child_step>(step)) {
    case child_step::chdir: return "change to the work directory";
    case child_step::out: return "open the stdout file";
    case child_step::err: return "open the stderr file";
    case child_step::cgroup: return "join the memory cgroup";
    case child_step::rlimit: return "set RLIMIT_AS";
    case child_step::affinity: return "pin to its CPUs (ember.executor.pinCores)";
    case child_step::exec: return "execute";
  }
  return "start";
}

[[noreturn]] void child_fail(int fd, child_step step) {
  int report[2] = {static_cast<int>(step), errno};
  [[maybe_unused]] auto n = ::write(fd, report, sizeof report);
  ::_exit(127);
}

// Closes every descriptor from 3 up except `keep` (ascending; -1 entries ignored).
void close_other_fds(std::array<int, 2> keep) {
  // The worker's sockets (CAF's connections to the master) must not live on in the child, or a
  // dead worker's connection would never close.
  if (keep[0] > keep[1])
    std::swap(keep[0], keep[1]);
#ifdef SYS_close_range
  unsigned next = 3;
  bool ok = true;
  for (int k : keep) {
    if (k < static_cast<int>(next))
      continue;
    if (k > static_cast<int>(next) && ::syscall(SYS_close_range, next, static_cast<unsigned>(k - 1), 0u) != 0)
      ok = false;
    next = static_cast<unsigned>(k) + 1;
  }
  if (ok && ::syscall(SYS_close_range, next, ~0u, 0u) == 0)
    return;
#endif
  long max = ::sysconf(_SC_OPEN_MAX);
  if (max < 0 || max > 65536)
    max = 65536;
  for (int fd = 3; fd < max; ++fd)
    if (fd != keep[0] && fd != keep[1])
      ::close(fd);
}

} // namespace

launched_process launch(const launch_spec& spec, const memory_limiter& limiter) {
  // Everything the child needs is prepared here: after fork only async-signal-safe calls.
  std::error_code ec;
  try {
    config::make_private_dirs(spec.cwd);  // 0700: the child's files and logs are its own
  } catch (const std::exception& e) {
    throw std::runtime_error("work directory: " + std::string{e.what()});
  }
  launched_process result;
  std::string procs_file;
  if (spec.memory_limit > 0 && limiter.uses_cgroup()) {
    result.cgroup = limiter.cgroup_parent / spec.name;
    fs::create_directories(result.cgroup, ec);
    if (ec || !write_file(result.cgroup / "memory.max", std::to_string(spec.memory_limit))) {
      remove_cgroup(result.cgroup);
      throw std::runtime_error("cannot set memory.max in " + result.cgroup.string());
    }
    write_file(result.cgroup / "memory.swap.max", "0");
    procs_file = (result.cgroup / "cgroup.procs").string();
  }
  rlim_t address_limit = 0;
  if (spec.memory_limit > 0 && !limiter.uses_cgroup())
    address_limit = static_cast<rlim_t>(spec.memory_limit + limiter.rlimit_overhead);
  const std::string cwd = spec.cwd.string();
  const std::vector<int>& cpus = spec.cpus;
  const std::string out_path = (spec.cwd / "stdout").string();
  const std::string err_path = (spec.cwd / "stderr").string();
  std::vector<std::string> argv_store;
  argv_store.push_back(spec.program);
  argv_store.insert(argv_store.end(), spec.args.begin(), spec.args.end());
  std::vector<char*> argv;
  for (auto& a : argv_store)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  // The cluster secret reaches the child through a memory file it inherits, named by number in
  // its environment: never in argv or environ, never on disk.
  std::optional<security::memory_file> secret;
  std::vector<std::string> env_store;
  for (char** e = environ; *e != nullptr; ++e)
    if (!std::string_view{*e}.starts_with(std::string{security::secret_fd_variable} + "="))
      env_store.emplace_back(*e);
  if (!spec.secret.empty()) {
    secret.emplace("ember-secret", spec.secret);
    env_store.push_back(std::string{security::secret_fd_variable} + "=" + std::to_string(secret->fd()));
  }
  const int secret_fd = secret ? secret->fd() : -1;
  std::vector<char*> envp;
  for (auto& e : env_store)
    envp.push_back(e.data());
  envp.push_back(nullptr);

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0)
    throw std::runtime_error(std::string{"pipe2: "} + std::strerror(errno));
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    int e = errno;
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    remove_cgroup(result.cgroup);
    throw std::runtime_error(std::string{"fork: "} + std::strerror(e));
  }
  if (pid == 0) {
    // -- child --
    int wfd = pipe_fds[1];
    ::close(pipe_fds[0]);
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, spec.parent_death_signal);
    if (::getppid() != parent)
      ::_exit(127);  // the worker died between fork and prctl
    for (int sig = 1; sig < NSIG; ++sig)
      if (sig != SIGKILL && sig != SIGSTOP)
        ::signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (::chdir(cwd.c_str()) != 0)
      child_fail(wfd, child_step::chdir);
    // No O_CLOEXEC: were 1 or 2 closed in the worker, open would return that very descriptor.
    constexpr int log_flags = O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW;
    int out = ::open(out_path.c_str(), log_flags, config::private_file_mode);
    if (out < 0)
      child_fail(wfd, child_step::out);
    int err = ::open(err_path.c_str(), log_flags, config::private_file_mode);
    if (err < 0)
      child_fail(wfd, child_step::err);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0)
      ::dup2(devnull, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    if (!procs_file.empty()) {
      int fd = ::open(procs_file.c_str(), O_WRONLY);
      if (fd < 0 || ::write(fd, "0", 1) != 1)
        child_fail(wfd, child_step::cgroup);
      ::close(fd);
    }
    if (address_limit > 0) {
      struct rlimit rl{address_limit, address_limit};
      if (::setrlimit(RLIMIT_AS, &rl) != 0)
        child_fail(wfd, child_step::rlimit);
    }
    if (!cpus.empty()) {
      cpu_set_t set;
      CPU_ZERO(&set);
      for (int c : cpus)
        CPU_SET(c, &set);
      if (::sched_setaffinity(0, sizeof set, &set) != 0)
        child_fail(wfd, child_step::affinity);
    }
    if (secret_fd >= 0 && ::fcntl(secret_fd, F_SETFD, 0) != 0)
      child_fail(wfd, child_step::exec);
    close_other_fds({wfd, secret_fd});
    ::execve(argv[0], argv.data(), envp.data());
    child_fail(wfd, child_step::exec);
  }
  // -- parent --
  ::close(pipe_fds[1]);
  ::setpgid(pid, pid);  // also here: no race with a kill_group right after launch
  int report[2] = {0, 0};
  ssize_t n;
  do {
    n = ::read(pipe_fds[0], report, sizeof report);
  } while (n < 0 && errno == EINTR);
  ::close(pipe_fds[0]);
  if (n == static_cast<ssize_t>(sizeof report)) {
    // exec failed: the child exits 127 and the reaper collects it; the caller learns why now.
    throw std::runtime_error(std::string{"cannot "} + step_name(report[0]) + " " + spec.program + ": "
                             + std::strerror(report[1]));
  }
  result.pid = pid;
  return result;
}

bool kill_group(pid_t pgid, int sig) {
  if (pgid <= 0)
    return false;
  return ::kill(-pgid, sig) == 0;
}

// -- exit status -----------------------------------------------------------------------------------

exit_status exit_status::from_wait(int status) {
  exit_status s;
  if (WIFEXITED(status)) {
    s.exited = true;
    s.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    s.signal = WTERMSIG(status);
  }
  return s;
}

std::string exit_status::describe() const {
  if (exited)
    return "exit code " + std::to_string(exit_code);
  const char* abbrev = sigabbrev_np(signal);
  return "signal " + std::to_string(signal) + (abbrev ? std::string{" (SIG"} + abbrev + ")" : std::string{});
}

// -- reaper ----------------------------------------------------------------------------------------

reaper::reaper(callback on_exit) : on_exit_(std::move(on_exit)), thread_([this] { run(); }) {
  // nop
}

reaper::~reaper() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stop_ = true;
  }
  cv_.notify_all();
  // The thread may sit in waitid(): a child that exits at once wakes it.
  pid_t wake = ::fork();
  if (wake == 0)
    ::_exit(0);
  thread_.join();
  if (wake > 0)
    ::waitpid(wake, nullptr, 0);  // ECHILD at once if the thread reaped it
}

void reaper::notify_launched() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    ++launches_;
  }
  cv_.notify_all();
}

void reaper::run() {
  std::uint64_t seen = 0;
  for (;;) {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (stop_)
        return;
      seen = launches_;
    }
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, 0);
    if (pid > 0) {
      {
        std::lock_guard<std::mutex> guard{mtx_};
        if (stop_)
          return;
      }
      on_exit_(pid, status);
      continue;
    }
    if (errno == EINTR)
      continue;
    // ECHILD: no children; sleep until a launch (or stop). A launch between waitpid and here
    // bumped launches_ past `seen`, so it is not missed.
    std::unique_lock<std::mutex> lock{mtx_};
    cv_.wait(lock, [&] { return stop_ || launches_ != seen; });
  }
}

cpu_pool::cpu_pool(std::vector<int> cpus) : free_(cpus.begin(), cpus.end()) {}

cpu_pool cpu_pool::of_this_process() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (::sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set))
        cpus.push_back(c);
  }
  return cpu_pool{std::move(cpus)};
}

std::optional<std::vector<int>> cpu_pool::take(std::size_t n) {
  if (n == 0 || free_.size() < n)
    return std::nullopt;
  std::vector<int> out;
  for (auto it = free_.begin(); out.size() < n; it = free_.erase(it))
    out.push_back(*it);
  return out;
}

void cpu_pool::give(const std::vector<int>& cpus) { free_.insert(cpus.begin(), cpus.end()); }

} // namespace ember::deploy
