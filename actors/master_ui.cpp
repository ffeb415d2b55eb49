#include "actors/master_ui.hpp"

#include <stdexcept>

#include <caf/scoped_actor.hpp>

#include "config/config.hpp"
#include "config/log.hpp"
#include "protocol/deploy.capnp.h"
#include "protocol/wire.hpp"
#include "security/secret.hpp"
#include "ui/master_ui.hpp"
#include "ui/ui_settings.hpp"

namespace ember::actors {

namespace {

class actor_master_source : public ui::master_source {
public:
  actor_master_source(caf::actor_system& sys, caf::actor master, caf::timespan timeout)
    : sys_(sys), master_(std::move(master)), timeout_(timeout) {}

  void read_state(const std::string& user, const std::function<void(proto::MasterState::Reader)>& use) override {
    auto state = ask<proto::MasterState>(make_wire<proto::RequestMasterState>([&](proto::RequestMasterState::Builder b) {
      b.setIncludeFinished(true);
      b.setUser(user);
    }));
    use(state.reader());
  }

  ui::kill_outcome kill(ui::kill_target what, const std::string& id, const std::string& user) override {
    ui::kill_outcome out;
    auto take = [&](bool success, bool denied, std::string message) {
      using r = ui::kill_outcome::result;
      out.what = success ? r::killed : denied ? r::denied : r::not_found;
      out.message = std::move(message);
    };
    if (what == ui::kill_target::application) {
      auto resp = ask<proto::KillApplicationResponse>(
          make_wire<proto::RequestKillApplication>([&](proto::RequestKillApplication::Builder b) {
            b.setAppId(id);
            b.setUser(user);
          }));
      auto r = resp.reader();
      take(r.getSuccess(), r.getDenied(), r.getMessage().cStr());
    } else {
      auto resp = ask<proto::KillDriverResponse>(
          make_wire<proto::RequestKillDriver>([&](proto::RequestKillDriver::Builder b) {
            b.setDriverId(id);
            b.setUser(user);
          }));
      auto r = resp.reader();
      take(r.getSuccess(), r.getDenied(), r.getMessage().cStr());
    }
    return out;
  }

private:
  template <class Resp, class Req>
  wire<Resp> ask(const wire<Req>& req) {
    caf::scoped_actor self{sys_};
    wire<Resp> result;
    std::string failure;
    self->request(master_, timeout_, req)
        .receive([&](const wire<Resp>& resp) { result = resp; },
                 [&](const caf::error& err) { failure = describe(err); });
    if (!failure.empty())
      throw std::runtime_error("the master did not answer " + wire_name<Req>() + " (ember.ui.timeout): " + failure);
    return result;
  }

  caf::actor_system& sys_;
  caf::actor master_;
  caf::timespan timeout_;
};

}  // namespace

std::unique_ptr<ui::http_server> start_master_ui(caf::actor_system& sys, caf::actor master, const config::config& c,
                                                 const std::string& host) {
  std::vector<std::string> warnings;
  auto settings = ui::settings_from(c, "ember.master.ui", static_cast<int>(c.get(config::keys::master_ui_port)), host,
                                    security::os_user(), warnings);
  for (const auto& w : warnings)
    log::get("ui")->warn("{}", w);
  // Everyone the cluster security lets in sees the master's page: the master itself leaves out
  // the applications and drivers a user may not view (ember.acls.enable), as `ember status` does.
  settings.may_view = nullptr;
  auto server = std::make_unique<ui::http_server>(std::move(settings));
  ui::master_ui_options options;
  options.kill_enabled = c.get(config::keys::ui_kill_enabled);
  ui::mount_master_ui(*server, std::make_shared<actor_master_source>(sys, std::move(master),
                                                                      caf::timespan{c.get(config::keys::ui_timeout)}),
                      options);
  server->start();
  return server;
}

}  // namespace ember::actors
