#include "cli/history_command.hpp"

#include <condition_variable>
#include <filesystem>
#include <iostream>
#include <mutex>

#include "cli/master_command.hpp"
#include "config/config.hpp"
#include "config/log.hpp"
#include "ui/app_routes.hpp"
#include "ui/history.hpp"
#include "ui/pages.hpp"
#include "ui/ui_settings.hpp"

namespace ember::cli {

int run_history_server(const config::config& c, const history_command_options& options) {
  signal_waiter signals;
  log::configure(c);
  ui::history_settings hs;
  hs.log_directory = options.dir.empty() ? c.get(config::keys::history_fs_log_directory) : options.dir;
  hs.update_interval = c.get(config::keys::history_fs_update_interval);
  hs.limits = ui::retention_from(c);
  std::error_code ec;
  if (!std::filesystem::is_directory(hs.log_directory, ec)) {
    std::cerr << "ember history-server: ember.history.fs.logDirectory '" << hs.log_directory
              << "' is not a directory\n";
    return 2;
  }
  auto apps = std::make_shared<ui::history_provider>(hs);
  std::vector<std::string> warnings;
  // No owner: with ACLs on, only users of ember.ui.view.acls and ember.admin.acls see the history.
  auto settings = ui::settings_from(c, "ember.history.ui",
                                    options.port ? *options.port : static_cast<int>(c.get(config::keys::history_ui_port)),
                                    options.host.empty() ? c.get(config::keys::ui_host) : options.host, "", warnings);
  for (const auto& w : warnings)
    log::get("history")->warn("{}", w);
  ui::http_server server{std::move(settings)};
  ui::mount_rest_api(server, apps);
  ui::mount_pages(server, ui::page_layout::history);
  try {
    server.start();
  } catch (const std::exception& e) {
    std::cerr << "ember history-server: " << e.what() << '\n';
    return 1;
  }
  std::cout << "ember history server at " << server.url() << std::endl;

  std::mutex m;
  std::condition_variable cv;
  bool stop = false;
  signals.start([&](int) {
    std::lock_guard lock{m};
    stop = true;
    cv.notify_all();
  });
  {
    std::unique_lock lock{m};
    cv.wait(lock, [&] { return stop; });
  }
  signals.stop();
  server.stop();
  return 0;
}

} // namespace ember::cli
