#include "cli/master_command.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <iostream>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/master.hpp"
#include "actors/master_ui.hpp"
#include "actors/remoting.hpp"
#include "config/config.hpp"
#include "config/log.hpp"
#include "protocol/wire.hpp"

namespace ember::cli {

// -- shared by master and worker ---------------------------------------------------------------

struct signal_waiter::impl {
  sigset_t set;
  std::thread thread;
  std::atomic<bool> done{false};
};

signal_waiter::signal_waiter() : impl_(std::make_unique<impl>()) {
  sigemptyset(&impl_->set);
  sigaddset(&impl_->set, SIGTERM);
  sigaddset(&impl_->set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &impl_->set, nullptr);
}

void signal_waiter::start(std::function<void(int)> on_signal) {
  impl_->thread = std::thread([this, on_signal = std::move(on_signal)] {
    int sig = 0;
    sigwait(&impl_->set, &sig);
    if (!impl_->done.load())
      on_signal(sig);
  });
}

void signal_waiter::stop() {
  if (!impl_->thread.joinable())
    return;
  impl_->done = true;
  pthread_kill(impl_->thread.native_handle(), SIGTERM);  // wakes sigwait (blocked, so only pending)
  impl_->thread.join();
}

signal_waiter::~signal_waiter() {
  stop();
}

// -- ember master --------------------------------------------------------------------------------

namespace {

std::string this_host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0')
    return "127.0.0.1";
  return buf;
}

} // namespace

int run_master(const config::config& c, const master_command_options& options) {
  signal_waiter signals;
  log::configure(c);
  caf::actor_system_config cfg;
  actors::configure_remoting(cfg, c, "master");
  caf::actor_system sys{cfg};
  auto opts = actors::master_options::from(c);
  opts.host = options.host;
  opts.advertised_host = options.host.empty() ? this_host_name() : options.host;
  if (options.port)
    opts.port = static_cast<std::uint16_t>(*options.port);
  try {
    opts.make_persistence();
  } catch (const std::exception& e) {
    std::cerr << "ember master: " << e.what() << '\n';
    return 2;
  }
  auto started = actors::start_master(sys, opts);
  if (!started) {
    std::cerr << "ember: cannot listen on " << (options.host.empty() ? "*" : options.host) << ":" << opts.port
              << ": " << describe(started.error()) << '\n';
    return 1;
  }
  std::cout << "ember master listening on " << started->url << std::endl;
  actors::warn_if_open(sys, "ember master", options.host, started->port);
  auto master = started->actor;
  std::unique_ptr<ui::http_server> web_ui;
  try {
    web_ui = actors::start_master_ui(sys, master, c, c.get(config::keys::ui_host));
  } catch (const std::exception& e) {
    std::cerr << "ember master: " << e.what() << '\n';
    caf::anon_send_exit(master, caf::exit_reason::user_shutdown);
    return 1;
  }
  std::cout << "ember master UI at " << web_ui->url() << std::endl;
  int code = serve_until_down(sys, master, signals,
                              [master] { caf::anon_send_exit(master, caf::exit_reason::user_shutdown); }, "master");
  web_ui->stop();  // its threads ask the master's actor system, which goes next
  if (opts.binary_dir_is_scratch) {  // this process's own store: nothing else will read it
    std::error_code ec;
    std::filesystem::remove_all(opts.binary_dir.parent_path(), ec);
  }
  return code;
}

int serve_until_down(caf::actor_system& sys, const caf::actor& service, signal_waiter& signals,
                     std::function<void()> stop, const std::string& what) {
  signals.start([stop = std::move(stop), what](int sig) {
    log::get(what)->info("signal {}: stopping", sig);
    stop();
  });
  caf::error reason;
  {
    caf::scoped_actor self{sys};
    self->monitor(service);
    self->receive([&](caf::down_msg& dm) { reason = dm.reason; });
  }
  signals.stop();
  if (reason && reason != caf::exit_reason::user_shutdown && reason != caf::exit_reason::normal) {
    std::cerr << "ember: " << what << " stopped: " << describe(reason) << '\n';
    return 1;
  }
  return 0;
}

} // namespace ember::cli
