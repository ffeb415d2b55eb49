// A UI's HTTP settings from the configuration: port and host keys of its own (the driver's
// ember.ui.*, the master's ember.master.ui.*, ...), and who may talk to it from the cluster's
// security settings (docs/monitoring.md, "Who may see a UI").
#pragma once

#include <string>
#include <vector>

#include "config/config.hpp"
#include "ui/app_store.hpp"
#include "ui/http_server.hpp"

namespace ember::ui {

// `what` names the UI in errors ("ember.ui"); `owner` is whose application or cluster it shows
// (ACLs let the owner in). Warnings (a secret in the configuration, a host narrowed to loopback)
// go to `warnings`. Throws config::config_error as security::resolve does.
// ember.ui.retainedJobs, retainedStages, retainedTasks.
retention retention_from(const config::config& c);

http_settings settings_from(const config::config& c, std::string what, int port, const std::string& host,
                            const std::string& owner, std::vector<std::string>& warnings);

}  // namespace ember::ui
