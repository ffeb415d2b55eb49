#include "cli/worker_command.hpp"

#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/master.hpp"
#include "actors/remoting.hpp"
#include "actors/worker.hpp"
#include "cli/master_command.hpp"
#include "config/config.hpp"
#include "config/log.hpp"
#include "config/secure_fs.hpp"
#include "deploy/cluster_manager.hpp"
#include "protocol/wire.hpp"

namespace ember::cli {

namespace {

std::string this_host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0')
    return "127.0.0.1";
  return buf;
}

bool loopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
}

std::uint64_t default_memory() {
  auto pages = ::sysconf(_SC_PHYS_PAGES);
  auto page = ::sysconf(_SC_PAGESIZE);
  std::uint64_t total = pages > 0 && page > 0 ? std::uint64_t(pages) * std::uint64_t(page) : 0;
  constexpr std::uint64_t gib = std::uint64_t{1} << 30;
  return total > 2 * gib ? total - gib : std::max<std::uint64_t>(total / 2, 256ull << 20);
}

} // namespace

int run_worker(const config::config& c, const worker_command_options& options) {
  actors::worker_options opt;
  auto master = deploy::parse_standalone_master(options.master_url);
  if (!master) {
    std::cerr << "ember: bad master URL '" << options.master_url << "' (expected ember://host:port)\n";
    return 2;
  }
  opt.master_host = master->host;
  opt.master_port = master->port;
  std::uint64_t memory = default_memory();
  if (options.memory) {
    auto parsed = config::parse_size(*options.memory, config::mib);
    if (!parsed || *parsed.value <= 0) {
      std::cerr << "ember: bad --memory '" << *options.memory << "': "
                << (parsed ? std::string{"must be positive"} : parsed.error) << '\n';
      return 2;
    }
    memory = static_cast<std::uint64_t>(*parsed.value);
  }
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  if (options.cores) {
    if (*options.cores < 1) {
      std::cerr << "ember: bad --cores " << *options.cores << ": must be at least 1\n";
      return 2;
    }
    cores = static_cast<unsigned>(*options.cores);
  }
  std::error_code ec;
  auto work_dir = std::filesystem::absolute(options.work_dir, ec);
  if (ec) {
    std::cerr << "ember: cannot create work directory " << options.work_dir << ": " << ec.message() << '\n';
    return 2;
  }
  try {
    config::prepare_dir_setting(work_dir.string());  // created 0700 if missing
  } catch (const std::exception& e) {
    std::cerr << "ember: cannot create work directory " << options.work_dir << ": " << e.what() << '\n';
    return 2;
  }

  signal_waiter signals;
  log::configure(c);
  {
    auto from_conf = actors::worker_options::from(c);
    from_conf.master_host = opt.master_host;
    from_conf.master_port = opt.master_port;
    opt = std::move(from_conf);
  }
  opt.host = !options.host.empty() ? options.host : loopback(opt.master_host) ? "127.0.0.1" : this_host_name();
  opt.cores = cores;
  opt.memory = memory;
  opt.work_dir = work_dir;
  for (const auto& d : options.data_dirs) {
    auto abs = std::filesystem::absolute(d, ec);
    if (ec || !std::filesystem::is_directory(abs)) {
      std::cerr << "ember: --data-dir " << d << " is not a directory\n";
      return 2;
    }
    opt.data_dirs.push_back(abs.lexically_normal().string());
  }
  opt.on_registered = [](const std::string& id, const std::string& url) {
    std::cout << "ember worker " << id << " registered with " << url << std::endl;
  };
  caf::actor_system_config cfg;
  actors::configure_remoting(cfg, c, "worker");
  caf::actor_system sys{cfg};
  auto host = opt.host;
  auto worker = actors::spawn_worker(sys, std::move(opt));
  auto port = actors::publish(sys, worker, static_cast<std::uint16_t>(c.get(config::keys::worker_port)),
                                      host.c_str(), true);
  if (!port) {
    std::cerr << "ember: worker cannot listen on " << host << ": " << describe(port.error()) << '\n';
    caf::anon_send_exit(worker, caf::exit_reason::user_shutdown);
    return 1;
  }
  actors::warn_if_open(sys, "ember worker", host, *port);
  caf::anon_send(worker, actors::start_atom::value, *port);
  return serve_until_down(sys, worker, signals, [worker] { caf::anon_send(worker, actors::shutdown_atom::value); },
                          "worker");
}

} // namespace ember::cli
