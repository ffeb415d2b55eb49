// The fetching trigger: it fires at the first executorMetricsUpdate that lists a task of its stage
// with a remote shuffle fetch in flight (remoteFetchesInFlight > 0), and the kill_executor
// selection not_fetching picks an alive executor other than the one that reported it.
#include <doctest/doctest.h>

#include "chaos/events.hpp"

using namespace ember::chaos;

namespace {

// As the listener bus writes it (capnp::JsonCodec: 64-bit integers are strings).
std::string update(const std::string& executor, int stage, int in_flight, bool known = true) {
  return R"({"executorMetricsUpdate":{"executorId":")" + executor
         + R"(","time":"1795637570495","tasks":[{"taskId":"3","attempt":0,"stageId":0,"stageAttempt":0,)"
           R"("stageKnown":true,"runTimeMs":"12","cpuTimeMs":"2","remoteFetchesInFlight":0},)"
           R"({"taskId":"17","attempt":1,"stageId":)"
         + std::to_string(stage) + R"(,"stageAttempt":0,"stageKnown":)" + (known ? "true" : "false")
         + R"(,"runTimeMs":"1399","cpuTimeMs":"3","remoteFetchesInFlight":)" + std::to_string(in_flight) + "}]}}";
}

std::string added(const std::string& executor) {
  return R"({"executorAdded":{"executorId":")" + executor + R"(","host":"10.0.0.2","cores":1,"time":"1000"}})";
}

std::string removed(const std::string& executor) {
  return R"({"executorRemoved":{"executorId":")" + executor + R"(","cause":"exited","message":"m","time":"2000"}})";
}

std::vector<size_t> feed(trigger_engine& engine, const std::string& line) {
  auto e = parse_event(line);
  REQUIRE(e.has_value());
  return engine.on_event(*e);
}

} // namespace

TEST_CASE("an executorMetricsUpdate line lists each task's stage and fetches in flight") {
  auto e = parse_event(update("1", 2, 3));
  REQUIRE(e.has_value());
  CHECK(e->kind == "executorMetricsUpdate");
  CHECK(e->executor_id == "1");
  REQUIRE(e->tasks.size() == 2);
  CHECK(e->tasks[0].task_id == "3");
  CHECK(e->tasks[0].stage == 0);
  CHECK(e->tasks[0].fetches_in_flight == 0);
  CHECK(e->tasks[1].task_id == "17");
  CHECK(e->tasks[1].stage == 2);
  CHECK(e->tasks[1].fetches_in_flight == 3);

  auto unknown = parse_event(update("1", 2, 3, false));
  REQUIRE(unknown.has_value());
  REQUIRE(unknown->tasks.size() == 2);
  CHECK(unknown->tasks[1].stage == -1); // stageKnown false: its stageId means nothing

  // A log written before the field existed: no fetches in flight.
  auto old = parse_event(R"({"executorMetricsUpdate":{"executorId":"4","time":"1","tasks":[{"taskId":"9",)"
                         R"("attempt":0,"stageId":1,"stageAttempt":0,"stageKnown":true}]}})");
  REQUIRE(old.has_value());
  REQUIRE(old->tasks.size() == 1);
  CHECK(old->tasks[0].stage == 1);
  CHECK(old->tasks[0].fetches_in_flight == 0);
}

TEST_CASE("fetching fires once, at the first update with a task of its stage fetching") {
  std::vector<trigger> triggers(2);
  triggers[0].on = trigger::kind::fetching;
  triggers[0].stage = 1;
  triggers[1].on = trigger::kind::fetching;
  triggers[1].stage = 2;
  trigger_engine engine{triggers};
  CHECK(feed(engine, update("0", 1, 0)).empty());        // stage 1, nothing in flight
  CHECK(feed(engine, update("0", 3, 1)).empty());        // in flight, another stage
  CHECK(feed(engine, update("0", 1, 1, false)).empty()); // stage unknown at the driver
  CHECK(feed(engine, R"({"stageSubmitted":{"stageId":1,"attempt":0,"numTasks":4,"time":"5"}})").empty());
  CHECK_FALSE(engine.fired(0));
  CHECK(engine.last_fetching().empty());

  CHECK(feed(engine, update("1", 1, 1)) == std::vector<size_t>{0});
  CHECK(engine.fired(0));
  CHECK_FALSE(engine.fired(1));
  CHECK(engine.last_fetching() == "1");
  CHECK(feed(engine, update("0", 1, 2)).empty()); // fired already
  CHECK(engine.last_fetching() == "1");

  CHECK(feed(engine, update("0", 2, 2)) == std::vector<size_t>{1});
  CHECK(engine.last_fetching() == "0");
}

TEST_CASE("executors_other_than: alive executors but the named one, by number") {
  trigger_engine engine{{}};
  CHECK(engine.executors_other_than("").empty());
  for (auto id : {"10", "2", "1", "0"})
    feed(engine, added(id));
  CHECK(engine.executors_other_than("1") == std::vector<std::string>{"0", "2", "10"});
  feed(engine, removed("0"));
  CHECK(engine.executors_other_than("1") == std::vector<std::string>{"2", "10"});
  CHECK(engine.executors_other_than("") == std::vector<std::string>{"1", "2", "10"});
}
