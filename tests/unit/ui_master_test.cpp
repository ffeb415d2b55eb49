// The master UI's logic (ui/master_ui.hpp): Spark's master JSON from a MasterState, the
// ember_master_* metrics, and the kill requests' checks, against a fixed state and a fake master.
#include <doctest/doctest.h>

#include <memory>

#include <capnp/message.h>

#include "ui/master_ui.hpp"

using namespace ember;

namespace {

constexpr std::uint64_t gib = std::uint64_t{1} << 30;

// Two workers (one dead), a running and a killed application, a running and a finished driver.
void fill(proto::MasterState::Builder s) {
  s.setMasterUrl("ember://10.0.0.1:7077");
  auto ws = s.initWorkers(2);
  ws[0].setWorkerId("worker-a");
  ws[0].setHost("10.0.0.2");
  ws[0].setPort(4100);
  ws[0].setCores(8);
  ws[0].setCoresUsed(3);
  ws[0].setMemoryBytes(16 * gib);
  ws[0].setMemoryUsed(5 * gib);
  ws[0].setAlive(true);
  ws[0].setLastHeartbeatMs(1'700'000'000'000);
  ws[1].setWorkerId("worker-b");
  ws[1].setCores(4);
  ws[1].setMemoryBytes(4 * gib);
  ws[1].setAlive(false);
  auto as = s.initApps(2);
  as[0].setAppId("app-20261207213000-0000");
  as[0].setName("wordcount");
  as[0].setUser("alice");
  as[0].setState(proto::ApplicationState::RUNNING);
  as[0].setCoresGranted(2);
  as[0].setExecutorMemory(gib);
  as[0].setSubmitTimeMs(1'000'000);
  as[0].setAppUiUrl("http://10.0.0.9:4040");
  auto es = as[0].initExecutors(2);
  es[0].setExecutorId("0");
  es[0].setWorkerId("worker-a");
  es[0].setState(proto::ExecutorState::RUNNING);
  es[0].setCores(1);
  es[0].setMemoryBytes(gib);
  es[1].setExecutorId("1");
  es[1].setState(proto::ExecutorState::LAUNCHING);
  as[1].setAppId("app-20261207213000-0001");
  as[1].setName("sort");
  as[1].setState(proto::ApplicationState::KILLED);
  as[1].setSubmitTimeMs(2'000'000);
  as[1].setEndTimeMs(2'500'000);
  auto ds = s.initDrivers(2);
  ds[0].setDriverId("driver-20261207213000-0000");
  ds[0].setState(proto::DriverState::RUNNING);
  ds[0].setWorkerId("worker-a");
  ds[0].setCores(1);
  ds[0].setMemoryBytes(2 * gib);
  ds[0].setBinaryPath("/opt/app/pagerank");
  ds[0].setSubmitTimeMs(1'700'000'000'000);
  ds[1].setDriverId("driver-20261207213000-0001");
  ds[1].setState(proto::DriverState::FINISHED);
}

struct fake_master : ui::master_source {
  // (a pointer: the builder's destructor may throw, the interface's may not)
  std::unique_ptr<capnp::MallocMessageBuilder> message = std::make_unique<capnp::MallocMessageBuilder>();
  std::vector<std::tuple<ui::kill_target, std::string, std::string>> kills;
  ui::kill_outcome answer{ui::kill_outcome::result::killed, "killed"};

  fake_master() { fill(message->initRoot<proto::MasterState>()); }
  void read_state(const std::string&, const std::function<void(proto::MasterState::Reader)>& use) override {
    use(message->getRoot<proto::MasterState>().asReader());
  }
  ui::kill_outcome kill(ui::kill_target what, const std::string& id, const std::string& user) override {
    kills.emplace_back(what, id, user);
    return answer;
  }
};

ui::http_request post(std::string id, std::string user = "alice") {
  ui::http_request r;
  r.method = "POST";
  r.path = "/app/kill/";
  r.user = std::move(user);
  if (!id.empty())
    r.query.emplace("id", std::move(id));
  return r;
}

}  // namespace

TEST_CASE("master_json has Spark's fields and counts only alive workers' resources") {
  fake_master m;
  auto j = ui::master_json(m.message->getRoot<proto::MasterState>().asReader(), 1'600'000);
  CHECK(j["url"] == "ember://10.0.0.1:7077");
  CHECK(j["status"] == "ALIVE");
  CHECK(j["aliveworkers"] == 1);
  CHECK(j["cores"] == 8);
  CHECK(j["coresused"] == 3);
  CHECK(j["memory"] == 16 * 1024);  // MiB, as Spark
  CHECK(j["memoryused"] == 5 * 1024);
  REQUIRE(j["workers"].size() == 2);
  auto& w = j["workers"][0];
  CHECK(w["id"] == "worker-a");
  CHECK(w["host"] == "10.0.0.2");
  CHECK(w["port"] == 4100);
  CHECK(w["coresfree"] == 5);
  CHECK(w["memoryfree"] == 11 * 1024);
  CHECK(w["state"] == "ALIVE");
  CHECK(w["lastheartbeat"] == 1'700'000'000'000);
  CHECK(j["workers"][1]["state"] == "DEAD");

  REQUIRE(j["activeapps"].size() == 1);
  auto& a = j["activeapps"][0];
  CHECK(a["id"] == "app-20261207213000-0000");
  CHECK(a["name"] == "wordcount");
  CHECK(a["user"] == "alice");
  CHECK(a["cores"] == 2);
  CHECK(a["memoryperslave"] == 1024);
  CHECK(a["state"] == "RUNNING");
  CHECK(a["starttime"] == 1'000'000);
  CHECK(a["duration"] == 600'000);  // still running: until now
  CHECK(a["submitdate"] == "Thu Jan 01 00:16:40 UTC 1970");
  CHECK(a["appuiurl"] == "http://10.0.0.9:4040");
  REQUIRE(a["executors"].size() == 2);
  CHECK(a["executors"][0]["state"] == "RUNNING");
  REQUIRE(j["completedapps"].size() == 1);
  CHECK(j["completedapps"][0]["state"] == "KILLED");
  CHECK(j["completedapps"][0]["duration"] == 500'000);

  REQUIRE(j["activedrivers"].size() == 1);
  auto& d = j["activedrivers"][0];
  CHECK(d["id"] == "driver-20261207213000-0000");
  CHECK(d["state"] == "RUNNING");
  CHECK(d["worker"] == "worker-a");
  CHECK(d["cores"] == 1);
  CHECK(d["memory"] == 2048);
  CHECK(d["mainclass"] == "/opt/app/pagerank");
  CHECK(d["starttime"] == 1'700'000'000'000);
  REQUIRE(j["completeddrivers"].size() == 1);
  CHECK(j["completeddrivers"][0]["worker"] == "None");
}

TEST_CASE("master metrics count workers, resources, applications, drivers and executors") {
  fake_master m;
  ui::prometheus_writer out;
  ui::write_master_metrics(out, m.message->getRoot<proto::MasterState>().asReader());
  auto& t = out.text();
  for (const char* line : {"ember_master_workers{state=\"alive\"} 1\n", "ember_master_workers{state=\"dead\"} 1\n",
                           "ember_master_cores 8\n", "ember_master_cores_used 3\n",
                           "ember_master_memory_bytes 17179869184\n", "ember_master_memory_used_bytes 5368709120\n",
                           "ember_master_apps{state=\"running\"} 1\n", "ember_master_apps{state=\"waiting\"} 0\n",
                           "ember_master_apps{state=\"completed\"} 1\n", "ember_master_drivers{state=\"active\"} 1\n",
                           "ember_master_drivers{state=\"completed\"} 1\n", "ember_master_executors_running 1\n",
                           "# TYPE ember_master_cores gauge\n"})
    CHECK_MESSAGE(t.find(line) != std::string::npos, line, "\n", t);
}

TEST_CASE("valid_id admits the master's ids only") {
  CHECK(ui::valid_id("app-20261207213000-0001"));
  CHECK(ui::valid_id("driver-20261207213000-0000"));
  CHECK_FALSE(ui::valid_id(""));
  CHECK_FALSE(ui::valid_id(".."));
  CHECK_FALSE(ui::valid_id("../../etc/passwd"));
  CHECK_FALSE(ui::valid_id("a/b"));
  CHECK_FALSE(ui::valid_id("a b"));
  CHECK_FALSE(ui::valid_id(std::string("a\0b", 3)));
  CHECK_FALSE(ui::valid_id(std::string(129, 'a')));
}

TEST_CASE("kill requests are checked before the master hears of them") {
  fake_master m;
  ui::master_ui_options on;
  ui::master_ui_options off;
  off.kill_enabled = false;

  CHECK(ui::kill_request(m, ui::kill_target::application, post("app-1"), off).status == 403);
  CHECK(ui::kill_request(m, ui::kill_target::application, post(""), on).status == 400);
  CHECK(ui::kill_request(m, ui::kill_target::application, post("../../etc/passwd"), on).status == 400);
  auto two = post("app-1");
  two.query.emplace("id", "app-2");
  CHECK(ui::kill_request(m, ui::kill_target::application, two, on).status == 400);
  CHECK(m.kills.empty());

  auto ok = ui::kill_request(m, ui::kill_target::driver, post("driver-1", "bob"), on);
  CHECK(ok.status == 200);
  CHECK(nlohmann::json::parse(ok.body)["success"] == true);
  REQUIRE(m.kills.size() == 1);
  CHECK(std::get<0>(m.kills[0]) == ui::kill_target::driver);
  CHECK(std::get<1>(m.kills[0]) == "driver-1");
  CHECK(std::get<2>(m.kills[0]) == "bob");

  m.answer = {ui::kill_outcome::result::denied, "user 'bob' may not kill application app-1"};
  auto denied = ui::kill_request(m, ui::kill_target::application, post("app-1", "bob"), on);
  CHECK(denied.status == 403);
  CHECK(nlohmann::json::parse(denied.body)["error"] == "user 'bob' may not kill application app-1");
  m.answer = {ui::kill_outcome::result::not_found, "no"};
  CHECK(ui::kill_request(m, ui::kill_target::application, post("app-9"), on).status == 404);
}
