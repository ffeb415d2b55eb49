// The chaos harness reads event logs that now hold executorMetricsUpdate lines (a heartbeat's
// running tasks, one per heartbeat interval per busy executor): it parses them as an event of
// that kind and nothing else — no trigger fires, no task starts or ends, no verdict count moves.
#include <doctest/doctest.h>

#include "chaos/events.hpp"
#include "chaos/verdict.hpp"

using namespace ember::chaos;

namespace {

// As the listener bus writes it (capnp::JsonCodec: 64-bit integers are strings).
const char* metrics_line =
  R"({"executorMetricsUpdate":{"executorId":"1","time":"1795637570495","tasks":[{"taskId":"7","attempt":0,)"
  R"("stageId":2,"stageAttempt":0,"stageKnown":true,"runTimeMs":"1399","cpuTimeMs":"3"}]}})";

const char* task_start_line =
  R"({"taskStart":{"taskId":"7","attempt":0,"stageId":2,"stageAttempt":0,"partition":0,"executorId":"1","launchTime":"1000"}})";

} // namespace

TEST_CASE("an executorMetricsUpdate line is parsed as its own kind with no task fields") {
  auto e = parse_event(metrics_line);
  REQUIRE(e.has_value());
  CHECK(e->kind == "executorMetricsUpdate");
  CHECK(e->executor_id == "1");
  CHECK(e->time_ms == 1795637570495);
  CHECK(e->task_id.empty()); // the tasks are inside its list, not task events
  CHECK(e->stage == -1);
  CHECK(e->state.empty());
}

TEST_CASE("executorMetricsUpdate events fire no trigger and change no verdict count") {
  std::vector<trigger> triggers(5);
  triggers[0].on = trigger::kind::stage_started;
  triggers[0].stage = 2;
  triggers[1].on = trigger::kind::tasks_finished;
  triggers[1].stage = 2;
  triggers[2].on = trigger::kind::executor_registered;
  triggers[3].on = trigger::kind::executor_removed;
  triggers[4].on = trigger::kind::after_ms;
  triggers[4].ms = 1'000'000;
  trigger_engine engine{triggers};
  CHECK(engine.on_event(*parse_event(task_start_line)).empty());
  for (int i = 0; i < 3; ++i)
    CHECK(engine.on_event(*parse_event(metrics_line)).empty());
  for (size_t i = 0; i < triggers.size(); ++i)
    CHECK_FALSE(engine.fired(i));
  CHECK(engine.executors_running(2) == std::vector<std::string>{"1"}); // the taskStart's, still running
  CHECK(engine.finished_tasks(2).empty());
  CHECK(engine.last_removed().empty());

  observed o;
  o.add(*parse_event(metrics_line));
  CHECK(o.events == 1);
  CHECK(o.executors_added == 0);
  CHECK(o.removed_times.empty());
  CHECK(o.tasks_failed == 0);
  CHECK(o.tasks_lost == 0);
  CHECK(o.jobs_ok == 0);
  CHECK(o.jobs_failed == 0);
  CHECK(o.last_job_end_ms == 0);
}
