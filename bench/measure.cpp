// measure: runs a command and reports its wall time and peak resident set size (GNU time's
// %e and %M, without depending on GNU time being installed).
//
//   measure [-o FILE] CMD ARGS...
//
// Prints "wall_s=<seconds> max_rss_kb=<KiB> exit=<code> user_s=<cpu> sys_s=<cpu>" to stderr (and
// to FILE with -o; CPU times help read wall times taken on a busy machine) and exits with the command's exit code (128 + signal number if it was killed by a signal).
#include <sys/resource.h>
#include <sys/wait.h>

#include "bench/bench_util.hpp"

using namespace ember::bench;

int main(int argc, char** argv) {
  int first = 1;
  const char* report = nullptr;
  if (argc > 2 && std::strcmp(argv[1], "-o") == 0)
    report = argv[2], first = 3;
  if (first >= argc)
    die("usage: measure [-o FILE] CMD ARGS...");

  auto t0 = std::chrono::steady_clock::now();
  pid_t pid = ::fork();
  if (pid < 0)
    die(std::string("measure: fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::execvp(argv[first], argv + first);
    std::fprintf(stderr, "measure: cannot run %s: %s\n", argv[first], std::strerror(errno));
    std::_Exit(127);
  }
  int status = 0;
  struct rusage usage {};
  while (::wait4(pid, &status, 0, &usage) < 0)
    if (errno != EINTR)
      die(std::string("measure: wait4: ") + std::strerror(errno));
  double wall = seconds_since(t0);
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);

  char line[160];
  auto secs = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) * 1e-6; };
  std::snprintf(line, sizeof line, "wall_s=%.3f max_rss_kb=%ld exit=%d user_s=%.3f sys_s=%.3f\n", wall, usage.ru_maxrss,
                code, secs(usage.ru_utime), secs(usage.ru_stime));
  std::fputs(line, stderr);
  if (report) {
    FILE* f = std::fopen(report, "w");
    if (!f || std::fputs(line, f) < 0 || std::fclose(f) != 0)
      die(std::string("measure: cannot write ") + report);
  }
  return code;
}
