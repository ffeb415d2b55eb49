// The listener bus end to end: a context with the event log on runs a shuffle job and a job whose
// task always throws; the JSON lines read back must hold the application, both jobs, every stage
// and every task attempt (retries included) in causal order. Also the bus on its own:
// subscribers, flush, close.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <set>
#include <stdexcept>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/listener_bus.hpp"
#include "api/ember.hpp"
#include "tests/integration/engine_test_util.hpp"
#include "protocol/register_types.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using ember_test::make_context;
using ember_test::temp_dir;

namespace {

// One parsed line: its kind (the single key) and the event's fields.
struct event {
  std::string kind;
  json body;
};

std::vector<event> read_log(const fs::path& file) {
  std::ifstream in{file};
  std::vector<event> out;
  for (std::string line; std::getline(in, line);) {
    auto j = json::parse(line);
    REQUIRE(j.is_object());
    REQUIRE(j.size() == 1); // {"<kind>": {...}}
    out.push_back({j.begin().key(), j.begin().value()});
  }
  return out;
}

std::vector<event> of_kind(const std::vector<event>& events, const std::string& kind) {
  std::vector<event> out;
  std::copy_if(events.begin(), events.end(), std::back_inserter(out), [&](const event& e) { return e.kind == kind; });
  return out;
}

// Cap'n Proto's JSON writes 64-bit integers as strings (JSON numbers are doubles).
uint64_t u64(const json& j) {
  REQUIRE(j.is_string());
  return std::stoull(j.get<std::string>());
}

std::vector<uint32_t> u32s(const json& j) { return j.get<std::vector<uint32_t>>(); }

} // namespace

TEST_CASE("the event log holds the application, its jobs, stages and every task attempt") {
  temp_dir tmp;
  auto dir = tmp.path / "events" / "nested"; // created by the bus
  {
    auto ctx = make_context("local[2]", {"ember.eventLog.enabled=true", "ember.eventLog.dir=" + dir.string(),
                                         "ember.task.maxFailures=2"});
    // Job 0: 4 map tasks, a shuffle, 3 reduce tasks.
    std::vector<int> xs(40);
    std::iota(xs.begin(), xs.end(), 0);
    auto sums = ctx.parallelize(xs, 4)
                  .map([](int x) { return std::pair{x % 5, int64_t{x}}; })
                  .reduce_by_key([](int64_t a, int64_t b) { return a + b; }, 3)
                  .collect();
    std::map<int, int64_t> got(sums.begin(), sums.end());
    CHECK(got == std::map<int, int64_t>{{0, 140}, {1, 148}, {2, 156}, {3, 164}, {4, 172}});
    // Job 1: its only task throws every time: two attempts, then the job fails.
    auto bad = ctx.parallelize(std::vector<int>{3}, 1).map([](int x) {
      if (x == 3)
        throw std::runtime_error("bad record 3");
      return x;
    });
    CHECK_THROWS_AS(bad.collect(), ember::detail::job_error);
    ctx.stop();
  }

  std::vector<fs::path> files;
  for (auto& f : fs::directory_iterator{dir})
    files.push_back(f.path());
  REQUIRE(files.size() == 1);
  CHECK(files[0].extension() == ".jsonl");
  auto events = read_log(files[0]);
  REQUIRE(events.size() >= 2);

  // -- application and executor --------------------------------------------------------------
  CHECK(events.front().kind == "applicationStart");
  CHECK(events.back().kind == "applicationEnd");
  CHECK(of_kind(events, "applicationStart").size() == 1);
  CHECK(of_kind(events, "applicationEnd").size() == 1);
  auto app_id = events.front().body.at("appId").get<std::string>();
  CHECK(files[0].stem() == app_id);
  CHECK(events.back().body.at("appId") == app_id);
  uint64_t app_start = u64(events.front().body.at("time"));
  uint64_t app_end = u64(events.back().body.at("time"));
  CHECK(app_start <= app_end);

  auto added = of_kind(events, "executorAdded");
  REQUIRE(added.size() == 1);
  CHECK(added[0].body.at("executorId") == "driver");
  CHECK(added[0].body.at("cores") == 2);
  CHECK(of_kind(events, "executorRemoved").empty());

  // -- jobs ------------------------------------------------------------------------------------
  auto job_starts = of_kind(events, "jobStart");
  auto job_ends = of_kind(events, "jobEnd");
  REQUIRE(job_starts.size() == 2);
  REQUIRE(job_ends.size() == 2);
  CHECK(job_starts[0].body.at("jobId") == 0);
  CHECK(job_starts[1].body.at("jobId") == 1);
  CHECK(job_starts[0].body.at("description").get<std::string>() != "");
  auto job0_stages = u32s(job_starts[0].body.at("stageIds"));
  auto job1_stages = u32s(job_starts[1].body.at("stageIds"));
  REQUIRE(job0_stages.size() == 2);
  REQUIRE(job1_stages.size() == 1);
  for (auto& j : job_starts) {
    uint64_t t = u64(j.body.at("time"));
    CHECK(app_start <= t);
    CHECK(t <= app_end);
  }
  CHECK(job_ends[0].body.at("jobId") == 0);
  CHECK(job_ends[0].body.at("result") == json{{"ok", nullptr}});
  CHECK(job_ends[1].body.at("jobId") == 1);
  auto job1_error = job_ends[1].body.at("result").at("error").get<std::string>();
  CAPTURE(job1_error);
  CHECK(job1_error.find("Job 1 aborted due to stage failure") == 0);
  CHECK(job1_error.find("failed 2 times") != std::string::npos);
  CHECK(job1_error.find("bad record 3") != std::string::npos);

  // -- stages ----------------------------------------------------------------------------------
  auto submitted = of_kind(events, "stageSubmitted");
  auto completed = of_kind(events, "stageCompleted");
  REQUIRE(submitted.size() == 3);
  REQUIRE(completed.size() == 3);
  // Job 0: the map stage (no parents, 4 tasks), then the reduce stage reading it (3 tasks).
  uint32_t map_stage = submitted[0].body.at("stageId");
  uint32_t reduce_stage = submitted[1].body.at("stageId");
  uint32_t failing_stage = submitted[2].body.at("stageId");
  CHECK(std::set<uint32_t>(job0_stages.begin(), job0_stages.end()) == std::set<uint32_t>{map_stage, reduce_stage});
  CHECK(job1_stages == std::vector<uint32_t>{failing_stage});
  CHECK(submitted[0].body.at("numTasks") == 4);
  CHECK(submitted[0].body.at("parentIds").empty());
  CHECK(submitted[1].body.at("numTasks") == 3);
  CHECK(u32s(submitted[1].body.at("parentIds")) == std::vector<uint32_t>{map_stage});
  CHECK(submitted[2].body.at("numTasks") == 1);
  for (auto& s : submitted)
    CHECK(s.body.at("attempt") == 0);
  CHECK(completed[0].body.at("stageId") == map_stage);
  CHECK(completed[0].body.at("failureReason") == "");
  CHECK(completed[1].body.at("stageId") == reduce_stage);
  CHECK(completed[1].body.at("failureReason") == "");
  CHECK(completed[1].body.at("numTasks") == 3);
  CHECK(completed[2].body.at("stageId") == failing_stage);
  auto stage_failure = completed[2].body.at("failureReason").get<std::string>();
  CHECK(stage_failure.find("bad record 3") != std::string::npos);
  for (auto& c : completed)
    CHECK(u64(c.body.at("submissionTime")) <= u64(c.body.at("completionTime")));

  // -- tasks: one start and one end per attempt, the end after the start -------------------
  auto starts = of_kind(events, "taskStart");
  auto ends = of_kind(events, "taskEnd");
  CHECK(starts.size() == 4 + 3 + 2);
  CHECK(ends.size() == 4 + 3 + 2);
  std::map<uint64_t, size_t> start_pos; // task id -> line
  for (size_t i = 0; i < events.size(); ++i)
    if (events[i].kind == "taskStart")
      CHECK(start_pos.emplace(u64(events[i].body.at("taskId")), i).second); // task ids never reused
  std::map<uint32_t, std::multiset<std::pair<uint32_t, uint32_t>>> attempts; // stage -> (partition, attempt)
  std::vector<std::string> failure_reasons;
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].kind != "taskEnd")
      continue;
    auto& e = events[i].body;
    auto s = start_pos.find(u64(e.at("taskId")));
    REQUIRE(s != start_pos.end());
    CHECK(s->second < i);
    auto& start = events[s->second].body;
    for (auto key : {"attempt", "stageId", "stageAttempt", "partition", "executorId", "host", "locality", "launchTime"})
      CHECK(start.at(key) == e.at(key));
    CHECK(e.at("executorId") == "driver");
    CHECK(u64(e.at("launchTime")) <= u64(e.at("finishTime")));
    CHECK(e.at("metrics").is_object());
    uint32_t stage = e.at("stageId");
    attempts[stage].emplace(e.at("partition").get<uint32_t>(), e.at("attempt").get<uint32_t>());
    if (stage == failing_stage) {
      CHECK(e.at("state") == "failed");
      CHECK(e.at("error").at("message") == "bad record 3");
      failure_reasons.push_back(e.at("reason").get<std::string>());
    } else {
      CHECK(e.at("state") == "finished");
      CHECK(e.at("reason") == "");
    }
  }
  using attempt_set = std::multiset<std::pair<uint32_t, uint32_t>>;
  CHECK(attempts[map_stage] == attempt_set{{0, 0}, {1, 0}, {2, 0}, {3, 0}});
  CHECK(attempts[reduce_stage] == attempt_set{{0, 0}, {1, 0}, {2, 0}});
  CHECK(attempts[failing_stage] == attempt_set{{0, 0}, {0, 1}});
  REQUIRE(failure_reasons.size() == 2);
  for (auto& r : failure_reasons)
    CHECK(r == "std::runtime_error: bad record 3");

  // -- causal order ----------------------------------------------------------------------------
  auto pos = [&](const std::string& kind, const std::string& key, uint32_t value) {
    for (size_t i = 0; i < events.size(); ++i)
      if (events[i].kind == kind && events[i].body.at(key) == value)
        return i;
    FAIL("no " << kind << " with " << key << " = " << value);
    return size_t{0};
  };
  CHECK(pos("jobStart", "jobId", 0) < pos("stageSubmitted", "stageId", map_stage));
  CHECK(pos("stageCompleted", "stageId", map_stage) < pos("stageSubmitted", "stageId", reduce_stage));
  CHECK(pos("stageCompleted", "stageId", reduce_stage) < pos("jobEnd", "jobId", 0));
  CHECK(pos("jobEnd", "jobId", 0) < pos("jobStart", "jobId", 1));
  CHECK(pos("stageCompleted", "stageId", failing_stage) < pos("jobEnd", "jobId", 1));
  for (auto& [id, p] : start_pos) {
    CHECK(pos("stageSubmitted", "stageId", events[p].body.at("stageId")) < p);
    CHECK(p < pos("stageCompleted", "stageId", events[p].body.at("stageId")));
  }
}

// An actor system for the bus on its own: Ember's types, CAF's log off.
struct quiet_system {
  static caf::actor_system_config& configured(caf::actor_system_config& cfg) {
    ember::register_types(cfg);
    cfg.set("logger.verbosity", caf::atom("quiet"));
    return cfg;
  }
  caf::actor_system_config cfg;
  caf::actor_system sys{configured(cfg)};
};

// A bus of application "app-test" writing its event log under `dir`.
ember::actors::listener_bus_config event_log_config(const std::filesystem::path& dir) {
  ember::actors::listener_bus_config bc;
  bc.app_id = "app-test";
  bc.event_log = true;
  bc.event_log_dir = dir.string();
  return bc;
}

TEST_CASE("the listener bus forwards every event to subscribers and writes the log on flush") {
  temp_dir tmp;
  quiet_system qs;
  auto& sys = qs.sys;
  auto bc = event_log_config(tmp.path);
  auto bus = ember::actors::spawn_listener_bus(sys, bc);
  auto path = ember::actors::event_log_path(tmp.path.string(), "app-test");
  CHECK(path == (tmp.path / "app-test.jsonl").string());

  caf::scoped_actor sub{sys};
  caf::scoped_actor other{sys};
  sub->send(bus, caf::subscribe_atom::value, caf::actor{sub});
  sub->send(bus, caf::subscribe_atom::value, caf::actor{sub}); // twice: still one copy per event
  other->send(bus, caf::subscribe_atom::value, caf::actor{other});
  other->send(bus, caf::unsubscribe_atom::value, caf::actor{other});
  // The bus has handled both of `other`'s messages once it answers `other`'s flush.
  other->request(bus, caf::infinite, caf::flush_atom::value).receive([](caf::flush_atom) {}, [](const caf::error& err) {
    FAIL(caf::to_string(err));
  });
  for (uint32_t job = 0; job < 3; ++job)
    sub->send(bus, ember::make_wire<ember::proto::ListenerEvent>([&](ember::proto::ListenerEvent::Builder e) {
      auto b = e.initJobStart();
      b.setJobId(job);
      b.setDescription("collect at test");
    }));
  std::vector<uint32_t> seen;
  for (int i = 0; i < 3; ++i)
    sub->receive([&](const ember::wire<ember::proto::ListenerEvent>& ev) {
      CHECK(ember::actors::event_kind(ev.reader()) == "jobStart");
      seen.push_back(ev.reader().getJobStart().getJobId());
    });
  CHECK(seen == std::vector<uint32_t>{0, 1, 2});

  // Nothing is forced to disk per event; flush writes what the bus holds.
  sub->request(bus, caf::infinite, caf::flush_atom::value).receive([](caf::flush_atom) {}, [](const caf::error& err) {
    FAIL(caf::to_string(err));
  });
  auto events = read_log(path);
  REQUIRE(events.size() == 3);
  CHECK(events[2].kind == "jobStart");
  CHECK(events[2].body.at("jobId") == 2);
  CHECK(events[2].body.at("description") == "collect at test");

  // The unsubscribed actor got nothing: its mailbox holds no event.
  bool got_any = false;
  other->receive([&](const ember::wire<ember::proto::ListenerEvent>&) { got_any = true; },
                 caf::after(std::chrono::milliseconds{0}) >> [] {});
  CHECK_FALSE(got_any);

  sub->request(bus, caf::infinite, caf::close_atom::value).receive([](caf::close_atom) {}, [](const caf::error& err) {
    FAIL(caf::to_string(err));
  });
  sub->wait_for(bus);
}

TEST_CASE("the bus tells the task scheduler to post task events once it has a subscriber") {
  quiet_system qs;
  auto& sys = qs.sys;
  ember::actors::listener_bus_config bc; // no log, no progress bar: task events are off at first
  bc.app_id = "app-test";
  auto bus = ember::actors::spawn_listener_bus(sys, bc);
  caf::scoped_actor source{sys}; // stands in for the task scheduler
  caf::scoped_actor sub{sys};
  source->send(bus, caf::join_atom::value, caf::actor{source});
  // The flush reply comes after anything the bus sent `source` while handling the join.
  source->request(bus, caf::infinite, caf::flush_atom::value).receive([](caf::flush_atom) {}, [](const caf::error& err) {
    FAIL(caf::to_string(err));
  });
  bool told = false;
  source->receive([&](caf::subscribe_atom) { told = true; }, caf::after(std::chrono::milliseconds{0}) >> [] {});
  CHECK_FALSE(told); // nobody listens yet
  sub->send(bus, caf::subscribe_atom::value, caf::actor{sub});
  source->receive([&](caf::subscribe_atom) { told = true; },
                  caf::after(std::chrono::seconds{10}) >> [] { FAIL("the bus never asked for task events"); });
  CHECK(told);
  sub->request(bus, caf::infinite, caf::close_atom::value).receive([](caf::close_atom) {}, [](const caf::error&) {});
  sub->wait_for(bus);
}

TEST_CASE("an event log directory that cannot be created fails the bus at start-up") {
  temp_dir tmp;
  auto blocker = tmp.path / "file";
  std::ofstream{blocker} << "x";
  quiet_system qs;
  auto& sys = qs.sys;
  ember::actors::listener_bus_config bc;
  bc.app_id = "app-test";
  bc.event_log = true;
  bc.event_log_dir = (blocker / "sub").string();
  CHECK_THROWS_WITH_AS(ember::actors::spawn_listener_bus(sys, bc), doctest::Contains("ember.eventLog.dir: cannot create"),
                       std::runtime_error);
}

TEST_CASE("a symlink at the event log's path fails the bus at start-up; nothing is written through it") {
  temp_dir tmp;
  auto target = tmp.path / "target";
  std::filesystem::create_symlink(target, ember::actors::event_log_path(tmp.path.string(), "app-test"));
  quiet_system qs;
  auto& sys = qs.sys;
  auto bc = event_log_config(tmp.path);
  CHECK_THROWS_WITH_AS(ember::actors::spawn_listener_bus(sys, bc),
                       ("ember.eventLog.dir: refusing to open event log '"
                        + ember::actors::event_log_path(tmp.path.string(), "app-test") + "': it is a symbolic link")
                         .c_str(),
                       std::runtime_error);
  CHECK_FALSE(std::filesystem::exists(target));
}
