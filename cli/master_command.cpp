#include "cli/master_command.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <iostream>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/master.hpp"
#include "config/config.hpp"
#include "config/log.hpp"
#include "protocol/register_types.hpp"
#include "protocol/wire.hpp"

namespace ember::cli {

// -- shared by master and worker ---------------------------------------------------------------

void configure_cluster_system(caf::actor_system_config& cfg, const config::config& c) {
  register_types(cfg);
  cfg.load<caf::io::middleman>();
  auto timeout = c.get_duration("ember.network.timeout");
  cfg.set("middleman.heartbeat-interval", caf::timespan{std::chrono::duration_cast<caf::timespan>(timeout / 4)});
  cfg.set("middleman.connection-timeout", caf::timespan{std::chrono::duration_cast<caf::timespan>(timeout)});
  cfg.set("logger.verbosity", caf::atom("quiet"));
}

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
  auto logger = log::get("master");
  caf::actor_system_config cfg;
  configure_cluster_system(cfg, c);
  caf::actor_system sys{cfg};
  auto opts = actors::master_options::from(c);
  opts.host = options.host;
  opts.advertised_host = options.host.empty() ? this_host_name() : options.host;
  if (options.port)
    opts.port = static_cast<std::uint16_t>(*options.port);
  auto started = actors::start_master(sys, opts);
  if (!started) {
    std::cerr << "ember: cannot listen on " << (options.host.empty() ? "*" : options.host) << ":" << opts.port
              << ": " << describe(started.error()) << '\n';
    return 1;
  }
  std::cout << "ember master listening on " << started->url << std::endl;
  auto master = started->actor;
  signals.start([master, logger](int sig) {
    logger->info("signal {}: stopping", sig);
    caf::anon_send_exit(master, caf::exit_reason::user_shutdown);
  });
  caf::error reason;
  {
    caf::scoped_actor self{sys};
    self->monitor(master);
    self->receive([&](caf::down_msg& dm) { reason = dm.reason; });
  }
  signals.stop();
  sys.middleman().unpublish(master, started->port);
  if (reason && reason != caf::exit_reason::user_shutdown) {
    std::cerr << "ember: master stopped: " << describe(reason) << '\n';
    return 1;
  }
  return 0;
}

} // namespace ember::cli
