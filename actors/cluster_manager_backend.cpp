#include "actors/cluster_manager_backend.hpp"

#include <thread>

#include <caf/all.hpp>

#include "actors/local_backend.hpp"
#include "actors/conversions.hpp"
#include "actors/deploy_conversions.hpp"
#include "actors/standalone_backend.hpp"
#include "actors/task_scheduler_actor.hpp"
#include "protocol/deploy.capnp.h"
#include "protocol/executor.capnp.h"

namespace ember::actors {

const deploy::cluster_manager_registry& cluster_managers() {
  static const deploy::cluster_manager_registry registry = [] {
    auto local = deploy::local_cluster_manager(std::thread::hardware_concurrency());
    local.create = make_local_backend;
    auto standalone = deploy::standalone_cluster_manager();
    standalone.create = make_standalone_backend;
    return deploy::cluster_manager_registry{{std::move(local), std::move(standalone)}};
  }();
  return registry;
}

namespace {

using app_started_atom = caf::atom_constant<caf::atom("appstarted")>;
using start_failed_atom = caf::atom_constant<caf::atom("startfail")>;
using stopped_atom = caf::atom_constant<caf::atom("cmstopped")>;

// The events sink a backend gets: each event becomes a message to the backend actor, so a backend
// may report from its own actor or thread. Holds the actor weakly: events after its end are dropped.
class posting_events : public deploy::cluster_manager_events {
public:
  explicit posting_events(caf::actor_addr backend_actor) : actor_(std::move(backend_actor)) {}

  void application_started(const std::string& app_id) override { post(app_started_atom::value, app_id); }
  void start_failed(const std::string& reason) override { post(start_failed_atom::value, reason); }
  void executor_granted(const deploy::executor_grant& g) override {
    post(make_wire<proto::ExecutorAdded>([&](proto::ExecutorAdded::Builder b) {
      b.setExecutorId(g.executor_id);
      b.setHost(g.host);
      b.setCores(g.cores);
      b.setMemoryBytes(g.memory_bytes);
    }));
  }
  void executor_lost(const deploy::executor_loss& l) override {
    post(make_wire<proto::ExecutorLost>([&](proto::ExecutorLost::Builder b) {
      b.setExecutorId(l.executor_id);
      b.setCause(to_proto(l.cause));
      b.setExitCode(l.exit_code);
      b.setSignal(l.signal);
      b.setMessage(l.message);
      b.setWorkerView(true); // the manager saw the process end: its exit status is authoritative
    }));
  }
  void application_removed(const std::string& reason) override {
    post(make_wire<proto::ApplicationRemoved>([&](proto::ApplicationRemoved::Builder b) { b.setReason(reason); }));
  }
  void stopped() override { post(stopped_atom::value); }

private:
  template <class... Ts>
  void post(Ts&&... xs) {
    if (auto a = caf::actor_cast<caf::actor>(actor_))
      caf::anon_send(a, std::forward<Ts>(xs)...);
  }
  caf::actor_addr actor_;
};

// A class rather than a function-based actor: spawn hands it the backend by move, and on_exit
// destroys the backend when the actor ends (an in-process executor ends with it).
class backend_actor : public caf::event_based_actor {
public:
  backend_actor(caf::actor_config& cfg, std::unique_ptr<deploy::cluster_manager_backend> backend,
                deploy::app_description app, caf::actor tasks, caf::actor dag)
    : caf::event_based_actor(cfg), backend_(std::move(backend)), app_(std::move(app)), tasks_(std::move(tasks)),
      dag_(std::move(dag)) {}

  const char* name() const override { return "cluster_manager_backend"; }

  caf::behavior make_behavior() override {
    link_to(tasks_); // the application ends with its schedulers
    return {
      [this](register_atom) { return start(); },
      [this](app_started_atom, const std::string& id) {
        app_id_ = id;
        if (started_.pending())
          started_.deliver(id);
      },
      [this](start_failed_atom, const std::string& reason) {
        if (started_.pending())
          started_.deliver(caf::make_error(caf::sec::runtime_error, reason));
      },
      // Once every granted executor has registered, the first tasks need not wait for the rest.
      [this](const wire<proto::ExecutorAdded>& msg) { send(tasks_, granted_atom::value, msg.reader().getCores()); },
      [this](const wire<proto::ExecutorLost>& msg) { send(tasks_, msg); },
      // Running and future jobs fail with the manager's reason instead of waiting for executors.
      [this](const wire<proto::ApplicationRemoved>& msg) {
        send(dag_, make_wire<proto::ApplicationRemoved>([&](proto::ApplicationRemoved::Builder b) {
          b.setAppId(app_id_);
          b.setReason(msg.reader().getReason());
        }));
      },
      [this](const wire<proto::RequestExecutors>& msg) {
        backend_->request_total_executors(msg.reader().getRequestedTotal());
      },
      [this](const wire<proto::KillExecutors>& msg) {
        std::vector<std::string> ids;
        for (auto id : msg.reader().getExecutorIds())
          ids.push_back(str(id));
        backend_->kill_executors(ids);
      },
      [this](caf::close_atom) { return stop(); },
      [this](stopped_atom) {
        if (stopped_.pending())
          stopped_.deliver(caf::close_atom::value);
      },
    };
  }

  void on_exit() override { backend_.reset(); }

private:
  caf::result<std::string> start() {
    started_ = make_response_promise();
    backend_->start(app_, std::make_shared<posting_events>(address()));
    return started_;
  }

  caf::result<caf::close_atom> stop() {
    stopped_ = make_response_promise();
    backend_->stop();
    return stopped_;
  }

  std::unique_ptr<deploy::cluster_manager_backend> backend_;
  deploy::app_description app_;
  caf::actor tasks_, dag_;
  std::string app_id_; // as the manager named the application
  caf::response_promise started_, stopped_;
};

} // namespace

caf::actor spawn_cluster_manager_backend(caf::actor_system& sys, std::unique_ptr<deploy::cluster_manager_backend> backend,
                                         deploy::app_description app, caf::actor task_scheduler,
                                         caf::actor dag_scheduler) {
  return sys.spawn<backend_actor>(std::move(backend), std::move(app), std::move(task_scheduler),
                                  std::move(dag_scheduler));
}

} // namespace ember::actors
