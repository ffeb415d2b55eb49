// Child processes of a worker: executors and cluster-mode drivers. fork/exec in their own process
// group with a working directory and stdout/stderr files, a memory limit (cgroup v2 memory.max
// where writable, else RLIMIT_AS), group kill, exit status decoding, and a reaper thread that
// waitpid()s so no actor ever blocks on a child. Owned by the worker actor (actors/worker.cpp).
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace ember::deploy {

/// Spark's exit code of an executor that ran out of memory (SparkExitCode.OOM).
inline constexpr int oom_exit_code = 52;

/// Where the memory of one child is limited. cgroup v2 when the worker's own cgroup delegates the
/// memory controller and is writable, RLIMIT_AS otherwise.
struct memory_limiter {
  /// The cgroup directory children are created under; empty = use RLIMIT_AS.
  std::filesystem::path cgroup_parent;
  /// Added to the memory limit for RLIMIT_AS (address space is far larger than resident memory:
  /// thread stacks, malloc arenas, mapped files).
  std::uint64_t rlimit_overhead = 0;

  /// Probes /proc/self/cgroup and /sys/fs/cgroup: uses "<own cgroup>/<name>" when memory can be
  /// delegated there, else the RLIMIT_AS fallback. `enable_cgroup` false forces the fallback.
  static memory_limiter detect(bool enable_cgroup, std::uint64_t rlimit_overhead, const std::string& name);

  bool uses_cgroup() const { return !cgroup_parent.empty(); }
  std::string describe() const;
};

struct launch_spec {
  std::string program;                // absolute path, executed as-is
  std::vector<std::string> args;      // argv[1..]
  std::filesystem::path cwd;          // created if missing; stdout/stderr files go here
  std::uint64_t memory_limit = 0;     // bytes; 0 = no limit
  std::string name;                   // cgroup leaf name ("app-..-3"), unique among live children
  std::vector<int> cpus;              // ember.executor.pinCores: run only on these CPUs (empty = any)
  // Sent to the child when the launching process dies (PR_SET_PDEATHSIG). Executors get SIGTERM,
  // which they catch to delete their local dirs before exiting; anything else SIGKILL.
  int parent_death_signal = SIGKILL;
  // The cluster's shared secret, handed over through an inherited memory file (see
  // security/secret.hpp); empty = none.
  std::string secret;
};

/// The CPUs a worker hands out when an application sets ember.executor.pinCores: each pinned
/// executor gets `cores` CPUs of its own, given back when it ends.
class cpu_pool {
public:
  explicit cpu_pool(std::vector<int> cpus);
  /// The CPUs this process may run on (sched_getaffinity).
  static cpu_pool of_this_process();
  /// `n` free CPUs, lowest first, or nothing when fewer are free.
  std::optional<std::vector<int>> take(std::size_t n);
  void give(const std::vector<int>& cpus);
  std::size_t free() const { return free_.size(); }

private:
  std::set<int> free_;
};

struct launched_process {
  pid_t pid = 0;
  std::filesystem::path cgroup;       // leaf cgroup when one was created (remove after reaping)
};

/// Starts the child: own process group (pgid = pid), cwd, stdout/stderr appended to
/// cwd/stdout and cwd/stderr, signals unblocked and reset, PR_SET_PDEATHSIG SIGKILL (a worker
/// killed with -9 takes its children with it), memory limit. Throws std::runtime_error when
/// fork, the directory, the files, the limit or exec fail (exec errors come back through a pipe).
launched_process launch(const launch_spec& spec, const memory_limiter& limiter);

/// kill(-pgid, sig); false when the group no longer exists.
bool kill_group(pid_t pgid, int sig);

/// How a child ended, from waitpid's status.
struct exit_status {
  bool exited = false;  // exited normally (exit_code valid); else killed by `signal`
  int exit_code = 0;
  int signal = 0;

  static exit_status from_wait(int status);
  bool success() const { return exited && exit_code == 0; }
  /// "exit code 3", "signal 9 (SIGKILL)".
  std::string describe() const;
};

/// True when the leaf cgroup recorded an OOM kill (memory.events oom_kill > 0).
bool cgroup_oom_killed(const std::filesystem::path& cgroup);

/// Removes a leaf cgroup after its process was reaped (ignores errors).
void remove_cgroup(const std::filesystem::path& cgroup);

/// A thread that reaps every child of this process (waitpid(-1)) and hands (pid, status) to a
/// callback (the worker turns it into a message to itself). It sleeps while there are no
/// children: call notify_launched() after each successful launch.
class reaper {
public:
  using callback = std::function<void(pid_t, int)>;
  explicit reaper(callback on_exit);
  ~reaper();  // stops the thread (children still running are no longer reaped)
  reaper(const reaper&) = delete;
  reaper& operator=(const reaper&) = delete;

  void notify_launched();

private:
  void run();
  callback on_exit_;
  std::mutex mtx_;
  std::condition_variable cv_;
  std::uint64_t launches_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

} // namespace ember::deploy
