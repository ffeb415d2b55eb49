// libFuzzer target: the event-log reader `ember chaos` runs on a driver's log while the job runs
// (chaos/events.hpp): the input is the log file's content, read through log_follower (from a
// memfd, so no disk I/O per run), each line parsed by parse_event and fed to a trigger engine
// with one trigger of every kind and to the verdict's counters (chaos/verdict.hpp), as the runner
// does. A hostile or truncated log must only ever be skipped, never crash the harness.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "chaos/events.hpp"
#include "chaos/verdict.hpp"

using namespace ember::chaos;

namespace {

std::vector<trigger> every_trigger() {
  std::vector<trigger> ts;
  for (auto k : {trigger::kind::after_ms, trigger::kind::stage_started, trigger::kind::tasks_finished,
                 trigger::kind::executor_registered, trigger::kind::executor_removed, trigger::kind::fetching}) {
    trigger t;
    t.on = k;
    t.ms = 10;
    t.stage = 1;
    t.count = 2;
    ts.push_back(t);
  }
  return ts;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  int fd = ::memfd_create("event-log", MFD_CLOEXEC);
  if (fd < 0)
    std::abort();
  std::size_t written = 0;
  while (written < size) {
    auto n = ::write(fd, data + written, size - written);
    if (n <= 0)
      std::abort();
    written += static_cast<std::size_t>(n);
  }
  log_follower follower{"/proc/self/fd/" + std::to_string(fd)};
  trigger_engine engine{every_trigger()};
  observed seen;
  // Two polls: the second sees nothing new; a partial last line stays pending, as while the
  // driver still writes it.
  for (int round = 0; round < 2; ++round)
    for (auto& line : follower.poll()) {
      auto e = parse_event(line);
      if (!e)
        continue;
      engine.on_event(*e);
      seen.add(*e);
      engine.executors_running(e->stage);
      engine.finished_tasks(e->stage);
      engine.executors_other_than(e->executor_id);
    }
  engine.on_time(1000);
  seen.executors_lost();
  ::close(fd);
  return 0;
}
