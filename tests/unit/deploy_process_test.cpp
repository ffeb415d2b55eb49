// process: fork/exec in a process group with cwd and stdout/stderr files, RLIMIT_AS, group kill,
// exit status decoding and the reaper thread. Real child processes (/bin/sh).
#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>

#include <sys/wait.h>
#include <unistd.h>

#include "deploy/process.hpp"
#include "tests/support/temp_dir.hpp"

using namespace ember::deploy;
namespace fs = std::filesystem;
using ember_test::temp_dir;

namespace {

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Collects what the reaper reports; wait_for blocks (with a deadline) until pid was reaped.
struct reaped {
  std::mutex mtx;
  std::condition_variable cv;
  std::map<pid_t, int> status;

  void add(pid_t pid, int st) {
    std::lock_guard<std::mutex> guard{mtx};
    status[pid] = st;
    cv.notify_all();
  }
  exit_status wait_for(pid_t pid) {
    std::unique_lock<std::mutex> lock{mtx};
    bool ok = cv.wait_for(lock, std::chrono::seconds(30), [&] { return status.count(pid) != 0; });
    REQUIRE_MESSAGE(ok, "child was not reaped");
    return exit_status::from_wait(status[pid]);
  }
};

launch_spec sh(const fs::path& cwd, std::string script) {
  launch_spec s;
  s.program = "/bin/sh";
  s.args = {"-c", std::move(script)};
  s.cwd = cwd;
  s.name = "test";
  return s;
}

} // namespace

TEST_CASE("launch: cwd, stdout/stderr files, exit code via the reaper, own process group") {
  temp_dir t;
  reaped r;
  reaper rp{[&](pid_t pid, int st) { r.add(pid, st); }};
  auto limiter = memory_limiter::detect(false, 0, "unused");
  auto p = launch(sh(t.path / "app" / "0", "pwd; echo oops >&2; echo $$ $(ps -o pgid= -p $$ | tr -d ' '); exit 3"),
                  limiter);
  rp.notify_launched();
  auto st = r.wait_for(p.pid);
  CHECK(st.exited);
  CHECK(st.exit_code == 3);
  CHECK(st.describe() == "exit code 3");
  auto out = read(t.path / "app" / "0" / "stdout");
  auto pid_text = std::to_string(p.pid);
  CHECK(out == (t.path / "app" / "0").string() + "\n" + pid_text + " " + pid_text + "\n");
  CHECK(read(t.path / "app" / "0" / "stderr") == "oops\n");
}

TEST_CASE("kill_group: SIGTERM reaches the whole group; the status names the signal") {
  temp_dir t;
  reaped r;
  reaper rp{[&](pid_t pid, int st) { r.add(pid, st); }};
  // The shell waits on a grandchild; both are in the group. The ready file says both run.
  auto p = launch(sh(t.path, "sleep 300 & echo started > ready; wait"), memory_limiter{});
  rp.notify_launched();
  for (int i = 0; i < 3000 && read(t.path / "ready") != "started\n"; ++i)
    ::usleep(10000);  // polling a file a child writes: the child runs outside our control
  REQUIRE(read(t.path / "ready") == "started\n");
  CHECK(kill_group(p.pid, SIGTERM));
  auto st = r.wait_for(p.pid);
  CHECK_FALSE(st.exited);
  CHECK(st.signal == SIGTERM);
  CHECK(st.describe() == "signal 15 (SIGTERM)");
  // The grandchild (sleep) got the signal too: the group is gone.
  for (int i = 0; i < 3000 && ::kill(-p.pid, 0) == 0; ++i)
    ::usleep(10000);
  CHECK(::kill(-p.pid, 0) != 0);
  CHECK_FALSE(kill_group(p.pid, SIGKILL));
}

TEST_CASE("memory limit falls back to RLIMIT_AS = memory + overhead") {
  temp_dir t;
  reaped r;
  reaper rp{[&](pid_t pid, int st) { r.add(pid, st); }};
  memory_limiter limiter;
  limiter.rlimit_overhead = std::uint64_t{64} << 20;
  CHECK(limiter.describe() == "RLIMIT_AS (memory + 64 MiB overhead)");
  auto spec = sh(t.path, "ulimit -v");
  spec.memory_limit = std::uint64_t{256} << 20;
  auto p = launch(spec, limiter);
  rp.notify_launched();
  CHECK(r.wait_for(p.pid).success());
  CHECK(read(t.path / "stdout") == std::to_string((256 + 64) * 1024) + "\n");  // KiB
}

TEST_CASE("exec failure is reported by launch with the reason") {
  temp_dir t;
  reaped r;
  reaper rp{[&](pid_t pid, int st) { r.add(pid, st); }};
  launch_spec s;
  s.program = (t.path / "no-such-binary").string();
  s.cwd = t.path / "w";
  CHECK_THROWS_WITH(launch(s, memory_limiter{}),
                    doctest::Contains("cannot execute"));
  rp.notify_launched();
}

TEST_CASE("exit status decoding") {
  CHECK(exit_status::from_wait(52 << 8).exit_code == 52);
  CHECK(exit_status::from_wait(52 << 8).exited);
  auto killed = exit_status::from_wait(SIGKILL);
  CHECK_FALSE(killed.exited);
  CHECK(killed.signal == SIGKILL);
  CHECK(killed.describe() == "signal 9 (SIGKILL)");
}

TEST_CASE("cpu_pool hands out distinct CPUs for pinned executors and takes them back") {
  cpu_pool pool{{0, 1, 2, 3}};
  auto a = pool.take(2);
  REQUIRE(a);
  CHECK(*a == std::vector<int>{0, 1});
  auto b = pool.take(1);
  REQUIRE(b);
  CHECK(*b == std::vector<int>{2});
  CHECK(!pool.take(2)); // one left
  CHECK(pool.free() == 1);
  pool.give(*a);
  CHECK(pool.take(3) == std::vector<int>{0, 1, 3});
  CHECK(!pool.take(0));
  CHECK(cpu_pool::of_this_process().free() >= 1);
}
