// cluster_manager_backend actor with a fake deploy::cluster_manager_backend: the schedulers'
// requests become backend calls, the backend's events become the schedulers' messages (granted
// cores and losses to the task scheduler, removal to the dag scheduler), start and stop answer
// once the backend reported, and the backend goes when the task scheduler does.
#define CAF_SUITE cluster_manager_backend
#include "tests/actor/actor_fixture.hpp"

#include "actors/cluster_manager_backend.hpp"
#include "actors/deploy_conversions.hpp"
#include "actors/conversions.hpp"
#include "actors/task_scheduler_actor.hpp"
#include "protocol/deploy.capnp.h"
#include "protocol/executor.capnp.h"

using namespace ember;
using namespace ember::actors;
using ember::actor_test::recorder;

namespace {

// What the fake saw; shared with the test, which outlives the fake.
struct fake_log {
  std::vector<std::string> calls;
  deploy::app_description app;
  std::shared_ptr<deploy::cluster_manager_events> events;
  bool destroyed = false;
};

class fake_backend : public deploy::cluster_manager_backend {
public:
  explicit fake_backend(std::shared_ptr<fake_log> log) : log_(std::move(log)) {}
  ~fake_backend() override { log_->destroyed = true; }
  void start(const deploy::app_description& app, std::shared_ptr<deploy::cluster_manager_events> events) override {
    log_->calls.push_back("start");
    log_->app = app;
    log_->events = std::move(events);
  }
  void request_total_executors(std::uint32_t total) override {
    log_->calls.push_back("request " + std::to_string(total));
  }
  void kill_executors(const std::vector<std::string>& ids) override {
    std::string s = "kill";
    for (auto& id : ids)
      s += " " + id;
    log_->calls.push_back(s);
  }
  void stop() override { log_->calls.push_back("stop"); }

private:
  std::shared_ptr<fake_log> log_;
};

struct backend_fixture : actor_test::fixture {
  recorder tasks = stand_in();
  recorder dag = stand_in();
  std::shared_ptr<fake_log> log = std::make_shared<fake_log>();
  caf::actor backend;

  backend_fixture() {
    deploy::app_description app;
    app.name = "wordcount";
    app.driver_port = 7078;
    backend = started(spawn_cluster_manager_backend(sys, std::make_unique<fake_backend>(log), app, tasks.handle,
                                                    dag.handle));
    sched.run();
  }

  // The runtime's start: the answer, or the error's text.
  template <class Report>
  std::string start(Report report) {
    auto answer = self->request(backend, caf::infinite, register_atom::value);
    sched.run();
    CAF_REQUIRE(log->events != nullptr);
    report(*log->events);
    sched.run();
    std::string out;
    answer.receive([&](const std::string& id) { out = id; }, [&](const caf::error& err) { out = "error: " + describe(err); });
    return out;
  }

  void start_as(const std::string& id) {
    CAF_REQUIRE_EQUAL(start([&](deploy::cluster_manager_events& e) { e.application_started(id); }), id);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(cluster_manager_backend_tests, backend_fixture)

CAF_TEST(start answers with the id the backend reports) {
  auto id = start([&](deploy::cluster_manager_events& e) {
    CAF_REQUIRE_EQUAL(log->calls, std::vector<std::string>{"start"});
    CAF_CHECK_EQUAL(log->app.name, "wordcount");
    CAF_CHECK_EQUAL(log->app.driver_port, 7078);
    e.application_started("app-20261207-0001");
  });
  CAF_CHECK_EQUAL(id, "app-20261207-0001");
}

CAF_TEST(a failed start answers with the reason the backend gives) {
  auto answer = start([](deploy::cluster_manager_events& e) { e.start_failed("the master refused the application: no workers"); });
  auto expected = caf::make_error(caf::sec::runtime_error, "the master refused the application: no workers");
  CAF_CHECK_EQUAL(answer, "error: " + describe(expected));
}

CAF_TEST(scheduler requests become backend calls) {
  start_as("app-1");
  caf::send_as(tasks.handle, backend, make_wire<proto::RequestExecutors>([](proto::RequestExecutors::Builder b) {
                 b.setAppId("app-1");
                 b.setRequestedTotal(3);
               }));
  caf::send_as(tasks.handle, backend, make_wire<proto::KillExecutors>([](proto::KillExecutors::Builder b) {
                 b.setAppId("app-1");
                 auto ids = b.initExecutorIds(2);
                 ids.set(0, "4");
                 ids.set(1, "7");
               }));
  sched.run();
  CAF_CHECK_EQUAL(log->calls, (std::vector<std::string>{"start", "request 3", "kill 4 7"}));
  CAF_CHECK_EQUAL(tasks.size(), 0u);
}

CAF_TEST(backend events reach the schedulers) {
  start_as("app-1");
  log->events->executor_granted({"3", "h1", 4, 1 << 30});
  log->events->executor_lost({"3", deploy::executor_loss_cause::memory_limit, 52, 0, "executor 3 exceeded ember.executor.memory"});
  log->events->application_removed("too many executor failures");
  sched.run();
  CAF_REQUIRE_EQUAL(tasks.size(), 2u);
  CAF_REQUIRE(tasks.log->at(0).match_elements<granted_atom, uint32_t>());
  CAF_CHECK_EQUAL(tasks.log->at(0).get_as<uint32_t>(1), 4u);
  auto lost = tasks.all<proto::ExecutorLost>();
  CAF_REQUIRE_EQUAL(lost.size(), 1u);
  auto l = lost[0].reader();
  CAF_CHECK_EQUAL(str(l.getExecutorId()), "3");
  CAF_CHECK(l.getCause() == proto::ExecutorLossCause::MEMORY_LIMIT);
  CAF_CHECK_EQUAL(l.getExitCode(), 52);
  CAF_CHECK_EQUAL(l.getSignal(), 0);
  CAF_CHECK_EQUAL(str(l.getMessage()), "executor 3 exceeded ember.executor.memory");
  CAF_CHECK(l.getWorkerView());
  auto removed = dag.all<proto::ApplicationRemoved>();
  CAF_REQUIRE_EQUAL(removed.size(), 1u);
  CAF_CHECK_EQUAL(str(removed[0].reader().getAppId()), "app-1");
  CAF_CHECK_EQUAL(str(removed[0].reader().getReason()), "too many executor failures");
  CAF_CHECK_EQUAL(dag.size(), 1u);
}

CAF_TEST(stop answers once the backend reported stopped) {
  start_as("app-1");
  bool closed = false;
  auto answer = self->request(backend, caf::infinite, caf::close_atom::value);
  sched.run();
  CAF_CHECK_EQUAL(log->calls.back(), "stop");
  log->events->stopped();
  sched.run();
  answer.receive([&](caf::close_atom) { closed = true; }, [](const caf::error&) {});
  CAF_CHECK(closed);
}

CAF_TEST(the backend ends with the task scheduler) {
  start_as("app-1");
  CAF_CHECK(!log->destroyed);
  caf::anon_send_exit(tasks.handle, caf::exit_reason::user_shutdown);
  sched.run();
  CAF_CHECK(log->destroyed);
  log->events->executor_granted({"5", "h2", 1, 0}); // after the end: dropped, no crash
  sched.run();
}

CAF_TEST(loss causes convert both ways) {
  using c = deploy::executor_loss_cause;
  for (auto cause : {c::exit_code, c::signal, c::memory_limit, c::heartbeat_timeout, c::connection_lost,
                     c::killed_by_driver, c::worker_lost})
    CAF_CHECK(from_proto(to_proto(cause)) == cause);
  CAF_CHECK(to_proto(c::worker_lost) == proto::ExecutorLossCause::WORKER_LOST);
  CAF_CHECK(to_proto(c::killed_by_driver) == proto::ExecutorLossCause::KILLED_BY_DRIVER);
}

CAF_TEST_FIXTURE_SCOPE_END()
