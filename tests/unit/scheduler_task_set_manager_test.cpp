#include <doctest/doctest.h>

#include "scheduler/task_set_manager.hpp"

using namespace ember::scheduler;
using namespace std::chrono_literals;

namespace {

const clock_time t0{};

struct fixture {
  std::shared_ptr<executor_table> execs = std::make_shared<executor_table>();
  std::shared_ptr<task_id_allocator> ids = std::make_shared<task_id_allocator>();
  task_set_settings settings;

  void add(const std::string& id, const std::string& host, const std::string& rack = "") {
    execs->add({id, host, rack, 1, 1});
  }
  task_set_manager make(std::vector<uint32_t> partitions, std::vector<std::vector<std::string>> hosts = {},
                        std::vector<std::vector<std::string>> executors = {}, bool map_stage = false,
                        clock_time now = t0) {
    stage_submission sub;
    sub.stage_id = 1;
    sub.stage_attempt = 0;
    sub.is_map_stage = map_stage;
    sub.partitions = std::move(partitions);
    sub.preferred_hosts = std::move(hosts);
    sub.preferred_executors = std::move(executors);
    return task_set_manager(sub, settings, execs, ids, now);
  }
};

std::optional<task_launch> offer(task_set_manager& tsm, const std::string& exec, const std::string& host,
                                 clock_time now, const std::string& rack = "") {
  return tsm.resource_offer(exec, host, rack, locality_level::any, now);
}

} // namespace

TEST_CASE("a task failing max_task_failures times aborts the set with its last error") {
  fixture f;
  f.add("e1", "host-a");
  auto tsm = f.make({3});
  for (uint32_t attempt = 0; attempt < 3; ++attempt) {
    auto l = offer(tsm, "e1", "host-a", t0);
    REQUIRE(l);
    CHECK(l->attempt == attempt);
    CHECK(l->partition == 3);
    auto out = tsm.task_failed(l->task_id, l->attempt, "boom", true);
    CHECK(out.kind == task_event_kind::failed);
    CHECK(out.released);
  }
  // A failure that does not count (e.g. executor lost) does not bring the abort closer.
  auto l = offer(tsm, "e1", "host-a", t0);
  REQUIRE(l);
  CHECK(tsm.task_failed(l->task_id, l->attempt, "lost", false).kind == task_event_kind::failed);
  CHECK(tsm.failures(3) == 3);
  l = offer(tsm, "e1", "host-a", t0);
  REQUIRE(l);
  CHECK(l->attempt == 4);
  auto out = tsm.task_failed(l->task_id, l->attempt, "boom", true);
  CHECK(out.kind == task_event_kind::aborted);
  CHECK(out.message ==
        "Task 3 in stage 1.0 failed 4 times, most recent failure: Lost task 3.4 in stage 1.0 (TID 4) (host-a "
        "executor e1): boom");
  CHECK(tsm.is_zombie());
  CHECK(tsm.is_finished());
  CHECK(!offer(tsm, "e1", "host-a", t0));
}

TEST_CASE("a failed task is retried preferably on another executor") {
  fixture f;
  f.add("e1", "h1");
  f.add("e2", "h2");
  auto tsm = f.make({0, 1, 2});
  auto a = offer(tsm, "e1", "h1", t0);
  auto b = offer(tsm, "e2", "h2", t0);
  REQUIRE((a && b));
  CHECK(a->partition == 0);
  CHECK(b->partition == 1);
  tsm.task_failed(a->task_id, a->attempt, "oom", true);
  auto c = offer(tsm, "e1", "h1", t0);
  REQUIRE(c);
  CHECK(c->partition == 2); // partition 0 failed on e1: e1 takes other work first
  CHECK(tsm.task_succeeded(b->task_id, b->attempt, t0 + 1s).kind == task_event_kind::finished);
  auto d = offer(tsm, "e2", "h2", t0);
  REQUIRE(d);
  CHECK(d->partition == 0);
  CHECK(d->attempt == 1);
}

TEST_CASE("duplicate and late status updates are ignored by task id and attempt") {
  fixture f;
  f.add("e1", "h1");
  auto tsm = f.make({0, 1});
  auto a = offer(tsm, "e1", "h1", t0);
  REQUIRE(a);
  CHECK(tsm.task_succeeded(a->task_id, a->attempt + 1, t0).kind == task_event_kind::ignored); // wrong attempt
  CHECK(tsm.task_succeeded(999, 0, t0).kind == task_event_kind::ignored);                     // unknown task
  auto ok = tsm.task_succeeded(a->task_id, a->attempt, t0 + 1s);
  CHECK(ok.kind == task_event_kind::finished);
  CHECK(!ok.task_set_done);
  auto dup = tsm.task_succeeded(a->task_id, a->attempt, t0 + 2s);
  CHECK(dup.kind == task_event_kind::ignored);
  CHECK(!dup.released);
  CHECK(dup.message == "task 0 attempt 0 is not running");
  CHECK(tsm.task_failed(a->task_id, a->attempt, "late", true).kind == task_event_kind::ignored);
  CHECK(tsm.succeeded_tasks() == 1);
  CHECK(tsm.failures(0) == 0);
}

TEST_CASE("a lost executor's tasks are re-queued without counting; its map outputs rerun") {
  fixture f;
  f.add("e1", "h1");
  f.add("e2", "h2");
  auto tsm = f.make({0, 1, 2}, {}, {}, true);
  auto a = offer(tsm, "e1", "h1", t0);
  auto b = offer(tsm, "e2", "h2", t0);
  auto c = offer(tsm, "e1", "h1", t0);
  REQUIRE((a && b && c));
  tsm.task_succeeded(a->task_id, a->attempt, t0 + 1s); // map output 0 lives on e1
  f.execs->remove("e1");
  auto lost = tsm.executor_lost("e1", true);
  CHECK(lost.requeued_task_ids == std::vector<uint64_t>{c->task_id});
  CHECK(lost.resubmitted_partitions == std::vector<uint32_t>{0});
  CHECK(tsm.failures(2) == 0);
  CHECK(tsm.succeeded_tasks() == 0);
  CHECK(tsm.task_succeeded(c->task_id, c->attempt, t0 + 2s).kind == task_event_kind::ignored);
  auto d = offer(tsm, "e2", "h2", t0 + 2s);
  REQUIRE(d);
  CHECK(d->partition == 0);
  CHECK(d->attempt == 1);
}

TEST_CASE("delay scheduling walks PROCESS -> NODE -> RACK -> ANY without pile-up") {
  fixture f;
  f.add("e1", "hA", "r1"); // the preferred executor: busy, never offers in this test
  f.add("e4", "hA", "r1"); // same host
  f.add("e2", "hB", "r1"); // same rack
  f.add("e3", "hC", "r2"); // elsewhere
  std::vector<std::vector<std::string>> hosts(4, {"hA"}), execs(4, {"e1"});
  auto tsm = f.make({0, 1, 2, 3}, hosts, execs);
  CHECK(tsm.valid_levels() == std::vector<locality_level>{locality_level::process_local, locality_level::node_local,
                                                          locality_level::rack_local, locality_level::any});
  CHECK(!offer(tsm, "e4", "hA", t0, "r1"));
  CHECK(!offer(tsm, "e3", "hC", t0, "r2"));
  CHECK(tsm.next_timeout(t0) == t0 + 3s);
  CHECK(!offer(tsm, "e4", "hA", t0 + 2999ms, "r1"));

  auto a = offer(tsm, "e4", "hA", t0 + 3s, "r1");
  REQUIRE(a);
  CHECK(a->locality == locality_level::node_local);
  CHECK(!offer(tsm, "e2", "hB", t0 + 3s, "r1")); // turned down for locality...
  auto b = offer(tsm, "e4", "hA", t0 + 4s, "r1");
  REQUIRE(b);
  CHECK(b->locality == locality_level::node_local);
  // ...so the node-local launch at 4 s does not restart the wait: RACK opens at 6 s, not 7 s.
  CHECK(tsm.next_timeout(t0 + 4s) == t0 + 6s);
  auto c = offer(tsm, "e2", "hB", t0 + 6s, "r1");
  REQUIRE(c);
  CHECK(c->locality == locality_level::rack_local);
  CHECK(!offer(tsm, "e3", "hC", t0 + 8999ms, "r2"));
  auto d = offer(tsm, "e3", "hC", t0 + 9s, "r2");
  REQUIRE(d);
  CHECK(d->locality == locality_level::any);
  CHECK(tsm.allowed_locality(t0 + 9s) == locality_level::any);
  CHECK(!tsm.next_timeout(t0 + 9s));
}

TEST_CASE("a local launch at the current level restarts its wait when nothing was turned down") {
  fixture f;
  f.add("e1", "hA");
  f.add("e2", "hB");
  std::vector<std::vector<std::string>> hosts(3, {"hA"});
  auto tsm = f.make({0, 1, 2}, hosts);
  CHECK(tsm.valid_levels() == std::vector<locality_level>{locality_level::node_local, locality_level::any});
  auto a = offer(tsm, "e1", "hA", t0 + 2s);
  REQUIRE(a);
  CHECK(a->locality == locality_level::node_local);
  CHECK(tsm.next_timeout(t0 + 2s) == t0 + 5s);
}

TEST_CASE("levels without pending work for a live location are skipped at once") {
  fixture f;
  f.add("e1", "hA");
  f.add("e2", "hC");
  auto tsm = f.make({0, 1}, {{"hA"}, {"hB"}}); // nobody lives on hB
  CHECK(tsm.valid_levels() == std::vector<locality_level>{locality_level::node_local, locality_level::any});
  CHECK(!offer(tsm, "e2", "hC", t0)); // partition 0 still waits for hA
  auto a = offer(tsm, "e1", "hA", t0);
  REQUIRE(a);
  CHECK(a->partition == 0);
  auto b = offer(tsm, "e2", "hC", t0); // nothing left for NODE_LOCAL: no wait
  REQUIRE(b);
  CHECK(b->partition == 1);
  CHECK(b->locality == locality_level::any);
}

TEST_CASE("tasks without preferences run at once in the NO_PREF round") {
  fixture f;
  f.add("e1", "hA");
  f.add("e2", "hB");
  auto tsm = f.make({0, 1}, {{"hA"}, {}});
  CHECK(tsm.valid_levels() ==
        std::vector<locality_level>{locality_level::node_local, locality_level::no_pref, locality_level::any});
  auto a = tsm.resource_offer("e2", "hB", "", locality_level::no_pref, t0);
  REQUIRE(a);
  CHECK(a->partition == 1);
  CHECK(a->locality == locality_level::no_pref);
}

TEST_CASE("speculation copies the straggler elsewhere and the first finisher wins") {
  fixture f;
  f.settings.speculation = true;
  for (auto e : {"e1", "e2", "e3", "e4"})
    f.add(e, std::string("h-") + e);
  auto tsm = f.make({0, 1, 2, 3});
  std::vector<task_launch> l;
  for (auto e : {"e1", "e2", "e3", "e4"})
    l.push_back(*offer(tsm, e, std::string("h-") + e, t0));
  tsm.task_succeeded(l[0].task_id, 0, t0 + 1000ms);
  tsm.task_succeeded(l[1].task_id, 0, t0 + 1000ms);
  CHECK(tsm.speculatable_tasks(t0 + 1900ms).empty()); // 2 of 4 done: below the 0.75 quantile
  tsm.task_succeeded(l[2].task_id, 0, t0 + 2000ms);
  CHECK(tsm.speculatable_tasks(t0 + 1500ms).empty()); // median 1000 ms x 1.5: not beyond 1500 ms yet
  CHECK(tsm.speculatable_tasks(t0 + 1501ms) == std::vector<uint32_t>{3});
  CHECK(tsm.speculatable_tasks(t0 + 1600ms).empty()); // marked once
  CHECK(!offer(tsm, "e4", "h-e4", t0 + 1600ms)); // never on the executor already running it
  auto copy = offer(tsm, "e1", "h-e1", t0 + 1600ms);
  REQUIRE(copy);
  CHECK(copy->speculative);
  CHECK(copy->partition == 3);
  CHECK(copy->attempt == 1);
  auto win = tsm.task_succeeded(copy->task_id, 1, t0 + 1700ms);
  CHECK(win.kind == task_event_kind::finished);
  CHECK(win.task_set_done);
  REQUIRE(win.kills.size() == 1);
  CHECK(win.kills[0].task_id == l[3].task_id);
  CHECK(win.kills[0].executor_id == "e4");
  CHECK(win.kills[0].reason == "another attempt succeeded");
  auto killed = tsm.task_killed(l[3].task_id, 0, "another attempt succeeded");
  CHECK(killed.kind == task_event_kind::killed);
  CHECK(killed.released);
  CHECK(tsm.is_finished());
  CHECK(tsm.failures(3) == 0);
}

TEST_CASE("speculation respects the minimum runtime, and a late original is ignored") {
  fixture f;
  f.settings.speculation = true;
  f.settings.speculation_quantile = 0.5;
  f.add("e1", "h1");
  f.add("e2", "h2");
  auto tsm = f.make({0, 1});
  auto a = offer(tsm, "e1", "h1", t0);
  auto b = offer(tsm, "e2", "h2", t0);
  tsm.task_succeeded(a->task_id, 0, t0 + 10ms);
  CHECK(tsm.speculatable_tasks(t0 + 100ms).empty()); // 1.5 x 10 ms < min runtime 100 ms
  CHECK(tsm.speculatable_tasks(t0 + 101ms) == std::vector<uint32_t>{1});
  auto copy = offer(tsm, "e1", "h1", t0 + 101ms);
  REQUIRE(copy);
  CHECK(tsm.task_succeeded(b->task_id, 0, t0 + 150ms).kind == task_event_kind::finished);
  auto late = tsm.task_succeeded(copy->task_id, 1, t0 + 160ms);
  CHECK(late.kind == task_event_kind::ignored);
  CHECK(late.released);
  CHECK(late.message == "partition 1 of stage 1.0 already finished by another attempt");
}

TEST_CASE("exclusion keeps a task off an executor and aborts when it can run nowhere") {
  fixture f;
  f.settings.max_task_attempts_per_executor = 1;
  f.add("e1", "h1");
  auto tsm = f.make({0});
  auto a = offer(tsm, "e1", "h1", t0);
  tsm.task_failed(a->task_id, 0, "bad disk", true);
  CHECK(!offer(tsm, "e1", "h1", t0));
  auto msg = tsm.check_completely_excluded();
  REQUIRE(msg);
  CHECK(*msg == "Aborting stage 1.0 because task 0 cannot run anywhere due to node and executor exclusion after 1 "
                "failures");
}

TEST_CASE("stage exclusion: an executor where two different tasks failed gets no more tasks of the stage, then its host") {
  fixture f;
  f.settings.max_failed_tasks_per_executor = 2;
  f.settings.max_failed_executors_per_node = 2;
  f.add("e1", "h1");
  f.add("e2", "h1");
  f.add("e3", "h2");
  auto tsm = f.make({0, 1, 2, 3, 4, 5});
  // One failure on e1 excludes nothing; the second task failing there excludes e1 for the stage.
  auto a = offer(tsm, "e1", "h1", t0);
  tsm.task_failed(a->task_id, a->attempt, "disk full", true);
  CHECK(tsm.excluded_executors().empty());
  auto b = offer(tsm, "e1", "h1", t0);
  REQUIRE(b);
  CHECK(b->partition != a->partition); // a retry prefers another executor
  tsm.task_failed(b->task_id, b->attempt, "disk full", true);
  CHECK(tsm.excluded_executors() == std::set<std::string>{"e1"});
  CHECK(tsm.excluded_hosts().empty());
  CHECK(!offer(tsm, "e1", "h1", t0));
  // e2 on the same host fails twice too: the whole host is out for the stage.
  for (int i = 0; i < 2; ++i) {
    auto c = offer(tsm, "e2", "h1", t0);
    REQUIRE(c);
    tsm.task_failed(c->task_id, c->attempt, "disk full", true);
  }
  CHECK(tsm.excluded_hosts() == std::set<std::string>{"h1"});
  CHECK(!offer(tsm, "e2", "h1", t0));
  // e3 takes everything that is left, and nothing is aborted while it can.
  for (int i = 0; i < 6; ++i) {
    auto d = offer(tsm, "e3", "h2", t0);
    REQUIRE(d);
    CHECK(tsm.task_succeeded(d->task_id, d->attempt, t0).kind == task_event_kind::finished);
  }
  CHECK(!tsm.has_pending_tasks());
  CHECK(tsm.failed_tasks_by_executor().at("e1").size() == 2);
}

TEST_CASE("stage exclusion of every executor aborts the stage, naming why") {
  fixture f;
  f.settings.max_failed_tasks_per_executor = 1;
  f.add("e1", "h1");
  auto tsm = f.make({0, 1});
  auto a = offer(tsm, "e1", "h1", t0);
  tsm.task_failed(a->task_id, a->attempt, "disk full", true);
  CHECK(!offer(tsm, "e1", "h1", t0));
  auto msg = tsm.check_completely_excluded();
  REQUIRE(msg);
  CHECK(msg->find("cannot run anywhere due to node and executor exclusion") != std::string::npos);
}

TEST_CASE("kill_all stops the set and names its running attempts") {
  fixture f;
  f.add("e1", "h1");
  f.add("e2", "h2");
  auto tsm = f.make({0, 1, 2});
  offer(tsm, "e1", "h1", t0);
  offer(tsm, "e2", "h2", t0);
  auto kills = tsm.kill_all("job cancelled");
  REQUIRE(kills.size() == 2);
  CHECK(kills[0].task_id == 0);
  CHECK(kills[1].executor_id == "e2");
  CHECK(!offer(tsm, "e1", "h1", t0));
  CHECK(!tsm.is_finished());
  tsm.task_killed(0, 0, "job cancelled");
  tsm.task_killed(1, 0, "job cancelled");
  CHECK(tsm.is_finished());
}

TEST_CASE("a fetch failure makes the attempt a zombie") {
  fixture f;
  f.add("e1", "h1");
  auto tsm = f.make({0, 1});
  auto a = offer(tsm, "e1", "h1", t0);
  auto out = tsm.task_fetch_failed(a->task_id, 0, "shuffle_0_1_0 missing");
  CHECK(out.kind == task_event_kind::fetch_failed);
  CHECK(tsm.is_zombie());
  CHECK(tsm.is_finished());
  CHECK(!offer(tsm, "e1", "h1", t0));
}
