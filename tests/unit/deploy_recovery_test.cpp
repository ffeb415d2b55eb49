// Master recovery without CAF: the filesystem persistence engine (one file per entity, atomic
// writes, removal, corrupt files reported by name) and master_logic's RECOVERING state (recovered
// workers and applications wait for their answer, executors and drivers re-adopted from worker
// reports, unknown ones killed, completion removes the silent ones and resumes scheduling).
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "deploy/master_logic.hpp"
#include "deploy/persistence.hpp"
#include "tests/unit/deploy_test_util.hpp"
#include "tests/support/temp_dir.hpp"

using namespace ember::deploy;
using ember_test::only;
namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t gib = std::uint64_t{1} << 30;
const time_point t0{};

worker_description worker(std::string id, std::uint16_t port, std::uint32_t cores) {
  return {std::move(id), "10.0.0.1", port, cores, 8 * gib};
}

app_description app(std::uint32_t initial) {
  app_description a;
  a.name = "wordcount";
  a.user = "ann";
  a.executor_cores = 1;
  a.executor_memory = gib;
  a.initial_executors = initial;
  a.binary = {"/bin/wc", "xxh64:0123456789abcdef", 4242};
  a.args = {"in.txt", "out dir"};
  a.conf = {{"ember.executor.cores", "1"}, {"ember.app.name", "wordcount"}};
  a.driver_host = "10.0.0.9";
  a.driver_port = 4040;
  return a;
}

driver_description driver(bool supervise) {
  driver_description d;
  d.binary = {"/opt/app", "xxh64:fedcba9876543210", 7};
  d.args = {"--master", "ember://m:7077", "x"};
  d.conf = {{"k", "v"}};
  d.cores = 1;
  d.memory = gib;
  d.supervise = supervise;
  return d;
}


std::vector<std::string> files(const fs::path& dir) {
  std::vector<std::string> r;
  for (auto& e : fs::directory_iterator(dir))
    r.push_back(e.path().filename().string());
  std::sort(r.begin(), r.end());
  return r;
}

executor_report running(std::string app_id, std::string id) {
  return {std::move(app_id), std::move(id), 1, gib, executor_state::running};
}

} // namespace

TEST_CASE("filesystem persistence: one file per entity, read back field by field, removed with the entity") {
  ember_test::temp_dir tmp;
  filesystem_persistence engine{tmp.path / "recovery"};
  master_logic m{master_settings{}};
  m.set_persistence(&engine);
  REQUIRE(m.register_worker(worker("w1", 1, 2), t0).accepted);
  REQUIRE(m.register_worker(worker("w2", 2, 2), t0).accepted);
  auto launched = m.register_application("app-1", app(3), 1234);
  CHECK(only<launch_executor>(launched).size() == 3);
  m.submit_driver("driver-1", driver(true));
  CHECK(files(engine.dir()) == std::vector<std::string>{"app_app-1", "driver_driver-1", "worker_w1", "worker_w2"});
  CHECK(m.take_persistence_errors().empty());

  auto r = engine.read();
  CHECK(r.errors.empty());
  REQUIRE(r.workers.size() == 2);
  CHECK(r.workers[0].id == "w1");
  CHECK(r.workers[0].host == "10.0.0.1");
  CHECK(r.workers[0].port == 1);
  CHECK(r.workers[0].cores == 2);
  CHECK(r.workers[0].memory == 8 * gib);
  REQUIRE(r.apps.size() == 1);
  auto& a = r.apps[0];
  CHECK(a.id == "app-1");
  CHECK(a.submit_time_ms == 1234);
  CHECK(a.next_executor_id == 3);  // persisted after the allocation: ids are never reused
  REQUIRE(a.executor_limit.has_value());
  CHECK(*a.executor_limit == 3);
  CHECK(a.executors.empty());
  CHECK(a.desc.name == "wordcount");
  CHECK(a.desc.user == "ann");
  CHECK(a.desc.executor_memory == gib);
  CHECK(a.desc.binary.path == "/bin/wc");
  CHECK(a.desc.binary.content_hash == "xxh64:0123456789abcdef");
  CHECK(a.desc.binary.size == 4242);
  CHECK(a.desc.args == std::vector<std::string>{"in.txt", "out dir"});
  CHECK(a.desc.conf == app(3).conf);
  CHECK(a.desc.driver_host == "10.0.0.9");
  CHECK(a.desc.driver_port == 4040);
  REQUIRE(r.drivers.size() == 1);
  CHECK(r.drivers[0].id == "driver-1");
  CHECK(r.drivers[0].state == driver_state::running);  // placed on a worker at once
  CHECK(r.drivers[0].desc.supervise);
  CHECK(r.drivers[0].desc.args == driver(true).args);
  CHECK(r.drivers[0].desc.memory == gib);

  // The app ends, the driver finishes, a worker is lost: their files go.
  m.finish_application("app-1", app_state::finished, "done");
  m.driver_state_changed("driver-1", driver_state::finished, 0, 0, "", 0);
  m.worker_lost("w2", "connection lost");
  CHECK(files(engine.dir()) == std::vector<std::string>{"worker_w1"});
}

TEST_CASE("filesystem persistence: a corrupt or foreign file is one error naming it, the rest is recovered") {
  ember_test::temp_dir tmp;
  filesystem_persistence engine{tmp.path};
  engine.persist_worker(worker("w1", 1, 2));
  engine.persist_worker(worker("w2", 2, 2));
  std::ofstream{tmp.path / "worker_w2", std::ios::trunc} << "{\"id\":\"w2\",\"host\":";  // torn write
  std::ofstream{tmp.path / "app_x"} << "{\"id\":\"y\"}";                                 // wrong entity
  std::ofstream{tmp.path / ".tmp-worker_w3"} << "half";                                  // unfinished temp
  auto r = engine.read();
  REQUIRE(r.workers.size() == 1);
  CHECK(r.workers[0].id == "w1");
  CHECK(r.apps.empty());
  REQUIRE(r.errors.size() == 2);
  CHECK(r.errors[0].starts_with("recovery file " + (tmp.path / "app_x").string() + " is corrupt, app not recovered"));
  CHECK(r.errors[1].starts_with("recovery file " + (tmp.path / "worker_w2").string()
                                + " is corrupt, worker not recovered"));
  CHECK(!fs::exists(tmp.path / ".tmp-worker_w3"));
}

TEST_CASE("filesystem persistence: an unwritable directory is reported by the logic, which goes on") {
  ember_test::temp_dir tmp;
  filesystem_persistence engine{tmp.path / "r"};
  fs::remove_all(tmp.path / "r");
  master_logic m{master_settings{}};
  m.set_persistence(&engine);
  CHECK(m.register_worker(worker("w1", 1, 2), t0).accepted);
  auto errors = m.take_persistence_errors();
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].starts_with("recovery file " + (tmp.path / "r" / "worker_w1").string() + ": cannot create"));
  CHECK(m.take_persistence_errors().empty());
}

TEST_CASE("recovery: workers re-adopt their executors and drivers, the app reconnects, scheduling resumes") {
  ember_test::temp_dir tmp;
  filesystem_persistence engine{tmp.path};
  {
    master_logic before{master_settings{}};
    before.set_persistence(&engine);
    before.register_worker(worker("w1", 1, 2), t0);
    before.register_worker(worker("w2", 2, 2), t0);
    before.register_application("app-1", app(2), 10);  // executors 0 (w1) and 1 (w2)
    before.submit_driver("driver-1", driver(false));   // on w1 (round-robin starts there)
    REQUIRE(before.driver("driver-1")->worker_id == "w1");
  }
  master_logic m{master_settings{}};
  m.set_persistence(&engine);
  REQUIRE(m.begin_recovery(engine.read(), t0));
  CHECK(m.recovering());
  CHECK(!m.workers().at("w1").alive);
  CHECK(m.workers().at("w1").recovering);
  CHECK(m.app("app-1")->recovering);
  CHECK(!m.all_recovered());

  // While recovering nothing is scheduled: a new application waits.
  CHECK(m.register_application("app-2", app(1), 20).empty());

  worker_report r1{{running("app-1", "0")}, {"driver-1"}};
  auto [found1, out1] = m.worker_recovered("w1", r1, t0);
  CHECK(found1);
  CHECK(out1.empty());
  // w2 registers by itself (it lost the master) before answering MasterChanged; it also runs an
  // executor of an application nobody knows any more: that one is killed.
  worker_report r2{{running("app-1", "1"), running("app-0", "5")}, {}};
  auto reg = m.register_worker(worker("w2", 2, 2), t0, &r2);
  CHECK(reg.accepted);
  CHECK(reg.duplicate);
  auto kills = only<kill_executor>(reg.out);
  REQUIRE(kills.size() == 1);
  CHECK(kills[0].worker_id == "w2");
  CHECK(kills[0].app_id == "app-0");
  CHECK(kills[0].executor_id == "5");
  CHECK(!m.all_recovered());  // app-1's driver has not reconnected

  CHECK(!m.application_reconnected("app-unknown"));
  CHECK(m.application_reconnected("app-1"));
  CHECK(m.all_recovered());
  auto done = m.complete_recovery();
  CHECK(!m.recovering());
  // app-2 gets the free cores now: one executor (w1 and w2 have one core each left... w1 also
  // holds the driver, so w2).
  auto launches = only<launch_executor>(done);
  REQUIRE(launches.size() == 1);
  CHECK(launches[0].app_id == "app-2");
  CHECK(launches[0].worker_id == "w2");
  CHECK(only<application_finished>(done).empty());

  auto* a = m.app("app-1");
  REQUIRE(a);
  CHECK(a->executors.size() == 2);
  CHECK(a->executors.at("0").worker_id == "w1");
  CHECK(a->executors.at("1").worker_id == "w2");
  CHECK(a->next_executor_id == 2);
  CHECK(a->state == app_state::running);
  CHECK(m.workers().at("w1").cores_used == 2);  // executor 0 + driver-1
  CHECK(m.workers().at("w1").alive);
  CHECK(m.driver("driver-1")->worker_id == "w1");
  CHECK(m.driver("driver-1")->state == driver_state::running);

  // A new executor of app-1 gets a fresh id (the persisted next id, never a reused one).
  m.worker_lost("w2", "gone");
  auto more = m.register_worker(worker("w3", 3, 4), t0);
  auto l = only<launch_executor>(more.out);
  bool fresh = std::any_of(l.begin(), l.end(), [](auto& x) { return x.app_id == "app-1" && x.executor_id == "2"; });
  CHECK(fresh);
}

TEST_CASE("recovery completion: silent workers removed, silent apps finished, unclaimed drivers relaunched or failed") {
  master_logic m{master_settings{}};
  recovered_state s;
  s.workers = {worker("w1", 1, 2), worker("w2", 2, 2)};
  app_record a;
  a.id = "app-1";
  a.desc = app(1);
  a.next_executor_id = 4;
  s.apps.push_back(a);
  driver_record sup;
  sup.id = "driver-1";
  sup.desc = driver(true);
  sup.state = driver_state::running;
  driver_record plain = sup;
  plain.id = "driver-2";
  plain.desc.supervise = false;
  s.drivers = {sup, plain};
  REQUIRE(m.begin_recovery(s, t0));

  auto [found, out] = m.worker_recovered("w1", worker_report{}, t0);
  CHECK(found);
  CHECK(!m.worker_recovered("w9", worker_report{}, t0).first);
  // A new worker process on w2's host:port: w2 is gone, the newcomer is accepted.
  auto replaced = m.register_worker(worker("w2-new", 2, 2), t0);
  CHECK(replaced.accepted);
  CHECK(m.workers().count("w2") == 0);
  CHECK(!m.all_recovered());
  CHECK(!m.all_recovered());  // app-1 still silent
  auto done = m.complete_recovery();
  CHECK(m.workers().size() == 2);
  CHECK(m.workers().count("w1") == 1);
  CHECK(m.workers().count("w2-new") == 1);
  auto finished = only<application_finished>(done);
  REQUIRE(finished.size() == 1);
  CHECK(finished[0].app_id == "app-1");
  REQUIRE(m.app("app-1"));
  CHECK(m.app("app-1")->state == app_state::failed);
  CHECK(m.app("app-1")->end_reason == "application app-1: its driver did not reconnect to the recovered master");
  // The supervised driver is relaunched on the worker that answered; the other ends in error.
  auto launches = only<launch_driver>(done);
  REQUIRE(launches.size() == 1);
  CHECK(launches[0].driver_id == "driver-1");
  CHECK(launches[0].worker_id == "w1");
  CHECK(m.driver("driver-1")->restarts == 1);
  CHECK(m.driver("driver-2")->state == driver_state::error);
  CHECK(m.driver("driver-2")->message == "no worker reported it after master recovery");
}

TEST_CASE("no recovery (NONE): a re-registering worker's executors and drivers of unknown apps are killed") {
  master_logic m{master_settings{}};
  CHECK(!m.begin_recovery(recovered_state{}, t0));
  CHECK(!m.recovering());
  worker_report r{{running("app-old", "0"), {"app-old", "1", 1, gib, executor_state::exited}}, {"driver-old"}};
  auto reg = m.register_worker(worker("w1", 1, 2), t0, &r);
  REQUIRE(reg.accepted);
  auto kills = only<kill_executor>(reg.out);
  REQUIRE(kills.size() == 1);  // the exited one needs nothing
  CHECK(kills[0].executor_id == "0");
  CHECK(kills[0].reason == "executor app-old/0 is unknown to the master");
  auto dk = only<kill_driver>(reg.out);
  REQUIRE(dk.size() == 1);
  CHECK(dk[0].driver_id == "driver-old");
  CHECK(m.workers().at("w1").cores_used == 0);
  CHECK(!m.application_reconnected("app-old"));
}

TEST_CASE("filesystem persistence: private dir and files; a name that is not UTF-8 is stored, not an error") {
  ember_test::temp_dir tmp;
  filesystem_persistence engine{tmp.path / "recovery"};
  app_record a;
  a.id = "app-1";
  a.desc = app(1);
  a.desc.name = "bad\xff" "name";
  engine.persist_app(a);
  struct stat st{};
  REQUIRE(::stat((tmp.path / "recovery").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  REQUIRE(::stat((tmp.path / "recovery" / "app_app-1").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto r = engine.read();
  REQUIRE(r.apps.size() == 1);
  CHECK(r.apps[0].desc.name == "bad\xEF\xBF\xBDname");
  CHECK(r.errors.empty());
}
