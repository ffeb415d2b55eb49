// `ember status`: asks the standalone master for its state (RequestMasterState → MasterState) and
// prints workers, applications with their executors, and drivers, as text or one JSON object (the
// cluster launcher and the tests read the JSON). Also the master client `ember submit` uses.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/expected.hpp>
#include <caf/scoped_actor.hpp>
#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "protocol/deploy.capnp.h"
#include "protocol/wire.hpp"

namespace ember::cli {

// -- master client ---------------------------------------------------------------------------

// ember://host:port, split. parse_master_url throws config::config_error for anything else.
struct master_url {
  std::string host;
  std::uint16_t port = 0;
  std::string text;  // "ember://host:port"
};
master_url parse_master_url(std::string_view url);

// The master could not be reached or did not answer: one line for the user (exit 1).
class master_unreachable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A blocking connection to the master for command-line tools (no actor waits on it, so blocking
// is fine). Every request waits at most ember.rpc.askTimeout.
class master_client {
 public:
  // Connects (CAF remote_actor); throws master_unreachable.
  master_client(const master_url& url, const config::config& conf);
  ~master_client();
  master_client(const master_client&) = delete;
  master_client& operator=(const master_client&) = delete;

  // Sends `req` and waits for the master's reply of type Resp; throws master_unreachable on a
  // timeout, a lost connection or an unexpected reply.
  template <class Resp, class Req>
  wire<Resp> ask(const wire<Req>& req) {
    caf::scoped_actor self{*sys_};
    wire<Resp> result;
    std::string failure;
    self->request(master_, timeout_, req)
        .receive([&](const wire<Resp>& resp) { result = resp; },
                 [&](const caf::error& err) { failure = describe(err); });
    if (!failure.empty())
      throw master_unreachable("no answer from the master at " + url_.text + " to " + wire_name<Req>()
                               + ": " + failure);
    return result;
  }

  caf::actor_system& system() { return *sys_; }
  const caf::actor& master() const { return master_; }
  const master_url& url() const { return url_; }

 private:
  master_url url_;
  caf::timespan timeout_;
  std::unique_ptr<caf::actor_system_config> cfg_;
  std::unique_ptr<caf::actor_system> sys_;
  caf::actor master_;
};

// -- status ------------------------------------------------------------------------------------

// The state as JSON: {"masterUrl", "aliveWorkers", "workers": [...], "apps": [{..., "executors":
// [...]}], "drivers": [...]} (field names as in protocol/deploy.capnp, enums as lowercase text).
nlohmann::json to_json(proto::MasterState::Reader state);
// to_json as one line of text; bytes that are not UTF-8 (a name a client chose) become U+FFFD.
std::string to_json_text(proto::MasterState::Reader state);

// The state as text tables (workers, applications with executors, drivers).
std::string to_text(proto::MasterState::Reader state);

// Runs `ember status ARGS...` (--master ember://H:P, --json, --all, --conf k=v, --properties-file).
// Exit codes: 0 ok, 1 master unreachable, 2 usage or configuration.
int run_status(const std::vector<std::string>& args);

}  // namespace ember::cli
