// The standalone master's web UI (ember.master.ui.port): /json in the shape of Spark's master
// JSON (JsonProtocol.writeMasterState), /metrics/prometheus (ember_master_*), the page at "/" and
// the kill buttons (POST /app/kill/?id=, /driver/kill/?id=). Plain logic over a master_source: the
// master command implements it by asking the master actor (actors/master_ui.hpp), the unit tests
// with a fixed state. CAF-free.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "protocol/deploy.capnp.h"
#include "ui/http_server.hpp"
#include "ui/prometheus.hpp"

namespace ember::ui {

enum class kill_target { application, driver };

struct kill_outcome {
  enum class result { killed, not_found, denied };
  result what = result::not_found;
  std::string message;
};

// What the master UI asks of the master. Called on the HTTP server's threads; each call may block
// up to the UI's timeout and throws std::runtime_error when the master does not answer.
class master_source {
public:
  virtual ~master_source() = default;
  // The cluster as `user` may see it (ember.acls.enable), finished applications and drivers too.
  virtual void read_state(const std::string& user, const std::function<void(proto::MasterState::Reader)>& use) = 0;
  virtual kill_outcome kill(kill_target what, const std::string& id, const std::string& user) = 0;
};

struct master_ui_options {
  bool kill_enabled = true;  // ember.ui.killEnabled
};

// Spark's master JSON; `now_ms` (wall clock) gives running applications their duration.
nlohmann::json master_json(proto::MasterState::Reader state, std::uint64_t now_ms);

// ember_master_* gauges: workers, cores, memory, applications, drivers, executors.
void write_master_metrics(prometheus_writer& out, proto::MasterState::Reader state);

// An application or driver id as the master makes them ("app-20261207213000-0001"): letters,
// digits, '-', '_' and '.', at most 128 characters, never "." or "..". Anything else is refused
// before it reaches the master.
bool valid_id(std::string_view id);

// POST /app/kill/?id= and /driver/kill/?id=: 403 unless `options.kill_enabled` and the master
// lets `req.user` modify it (it judges ember.modify.acls), 400 for a missing or malformed id, 404
// for an unknown one, else 200 {"success": true, "message": ...}.
http_reply kill_request(master_source& master, kill_target what, const http_request& req,
                        const master_ui_options& options);

// Every route above, on `server`; GET of a kill path answers 405.
void mount_master_ui(http_server& server, std::shared_ptr<master_source> master, master_ui_options options);

}  // namespace ember::ui
