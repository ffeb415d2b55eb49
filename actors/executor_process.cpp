#include "actors/executor_process.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/block_manager_actor.hpp"
#include "actors/block_server.hpp"
#include "actors/broadcast_driver.hpp"
#include "actors/broadcast_executor.hpp"
#include "actors/executor.hpp"
#include "actors/conversions.hpp"
#include "actors/remoting.hpp"
#include "actors/settings_wiring.hpp"
#include "config/config.hpp"
#include "config/fault_injector.hpp"
#include "config/log.hpp"
#include "config/secure_fs.hpp"
#include "executor/fetch_limiter.hpp"

namespace ember::actors {

namespace {

// The flags a worker puts in front of the application's own arguments (docs/cluster.md).
struct executor_args {
  std::string driver_host;
  uint16_t driver_port = 0;
  std::string app_id, executor_id, worker_id, host, work_dir;
  uint32_t cores = 1;
  uint64_t memory = 0;
  std::vector<std::string> rest; // argv[0], --conf pairs and the application's arguments
};

[[noreturn]] void usage_error(const std::string& what) {
  std::fprintf(stderr, "ember executor: %s\n", what.c_str());
  std::exit(2);
}

executor_args parse(int argc, char** argv) {
  executor_args a;
  std::map<std::string, std::string> v;
  a.rest.emplace_back(argc > 0 ? argv[0] : "executor");
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--ember-executor")
      continue;
    if (arg.starts_with("--ember-")) {
      if (i + 1 >= argc)
        usage_error(arg + " needs a value");
      v[arg.substr(8)] = argv[++i];
      continue;
    }
    a.rest.push_back(arg);
  }
  auto need = [&](const char* name) -> std::string {
    auto i = v.find(name);
    if (i == v.end() || i->second.empty())
      usage_error(std::string{"missing --ember-"} + name);
    return i->second;
  };
  auto number = [&](const char* name) -> uint64_t {
    auto text = need(name);
    try {
      size_t used = 0;
      auto n = std::stoull(text, &used);
      if (used == text.size())
        return n;
    } catch (const std::exception&) {
    }
    usage_error(std::string{"--ember-"} + name + ": '" + text + "' is not a number");
  };
  auto driver = need("driver");
  auto colon = driver.rfind(':');
  if (colon == std::string::npos)
    usage_error("--ember-driver: '" + driver + "' is not HOST:PORT");
  a.driver_host = driver.substr(0, colon);
  try {
    auto port = std::stoul(driver.substr(colon + 1));
    if (port == 0 || port > 65535)
      throw std::out_of_range("port");
    a.driver_port = static_cast<uint16_t>(port);
  } catch (const std::exception&) {
    usage_error("--ember-driver: '" + driver + "' has no valid port");
  }
  a.app_id = need("app-id");
  a.executor_id = need("executor-id");
  a.host = need("host");
  a.cores = static_cast<uint32_t>(std::max<uint64_t>(1, number("cores")));
  a.memory = number("memory");
  if (auto w = v.find("worker-id"); w != v.end())
    a.worker_id = w->second;
  if (auto w = v.find("work-dir"); w != v.end())
    a.work_dir = w->second;
  return a;
}

// Resident set size of this process (/proc/self/statm), for the heartbeat's metrics.
uint64_t resident_bytes() {
  unsigned long pages_total = 0, pages_resident = 0;
  if (auto* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%lu %lu", &pages_total, &pages_resident) != 2)
      pages_resident = 0;
    std::fclose(f);
  }
  return static_cast<uint64_t>(pages_resident) * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

using beat_atom = caf::atom_constant<caf::atom("beat")>;
using beat_now_atom = caf::atom_constant<caf::atom("beatnow")>; // an injected delay's end

// Sends Heartbeat to the driver every ember.executor.heartbeatInterval, with the resident memory
// and every task attempt running on a task thread (`running`: run and CPU time so far). A
// detached actor (a thread of its own): task threads running user code, or CAF's scheduler
// threads busy with the executor, cannot hold it back, so a busy executor is never taken for a
// dead one. Told that the driver no longer knows this executor (declared lost: its tasks were
// resubmitted, its outputs written off, its kill requested), it quits with heartbeat_lost_reason
// and the process exits with executor_heartbeat_exit_code instead of registering again.
const caf::error heartbeat_lost_reason = caf::make_error(caf::sec::runtime_error, "declared lost by the driver");

caf::behavior heartbeater(caf::event_based_actor* self, caf::actor driver, std::string executor_id,
                          std::chrono::milliseconds interval, std::chrono::milliseconds timeout,
                          std::shared_ptr<config::fault_injector> faults, std::shared_ptr<executor::running_tasks> running) {
  auto log = log::get("executor");
  auto beat = [=] {
    self->request(driver, timeout, make_wire<proto::Heartbeat>([&](proto::Heartbeat::Builder b) {
          b.setExecutorId(executor_id);
          b.setMemoryUsedBytes(resident_bytes());
          auto now = std::chrono::steady_clock::now();
          auto tasks = running->snapshot(now);
          auto list = b.initTasks(static_cast<unsigned>(tasks.size()));
          for (unsigned i = 0; i < tasks.size(); ++i) {
            list[i].setTaskId(tasks[i].task_id);
            list[i].setAttempt(tasks[i].attempt);
            auto m = list[i].initMetrics();
            m.setExecutorRunTimeNs(static_cast<uint64_t>(tasks[i].run_time.count()));
            m.setExecutorCpuTimeNs(static_cast<uint64_t>(tasks[i].cpu_time.count()));
            list[i].setRemoteFetchesInFlight(tasks[i].remote_fetches_in_flight);
          }
        }))
      .then(
        [=](const wire<proto::HeartbeatResponse>& r) {
          if (!r.reader().getReregister())
            return;
          log->error("executor {}: the driver declared this executor lost (no heartbeat within "
                     "ember.network.timeout); it exits",
                     executor_id);
          self->quit(heartbeat_lost_reason);
        },
        // No answer: the connection's down message (the executor monitors the driver) ends
        // the process if the driver is gone; otherwise the next beat tries again.
        [=](const caf::error& err) { log->warn("executor {}: heartbeat unanswered: {}", executor_id, describe(err)); });
  };
  self->delayed_send(self, interval, beat_atom::value);
  return {
    [=](beat_atom) {
      self->delayed_send(self, interval, beat_atom::value);
      if (!faults->enabled()) {
        beat();
        return;
      }
      // The Heartbeat send point with injected faults (docs/chaos.md): dropped, doubled, delayed.
      auto d = faults->decide(config::fault_kind::heartbeat);
      for (unsigned copy = 0; copy < d.copies; ++copy) {
        if (d.delay.count() > 0)
          self->delayed_send(self, d.delay, beat_now_atom::value);
        else
          beat();
      }
    },
    [=](beat_now_atom) { beat(); },
  };
}

} // namespace

bool is_executor_role(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--ember-executor") == 0)
      return true;
  return false;
}

namespace {

// An executor ends by SIGTERM when its worker kills it (the application finished, the driver
// released it or declared it lost) or dies (PR_SET_PDEATHSIG). Nothing of it is wanted then, but
// its local dir must go: SIGTERM is blocked in every thread (this runs before any other thread
// starts) and one thread waits for it, deletes the dir and ends the process by that signal.
void remove_local_dir_on_sigterm(std::filesystem::path dir, std::shared_ptr<spdlog::logger> log) {
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, nullptr);
  std::thread{[term, dir = std::move(dir), log = std::move(log)] {
    int sig = 0;
    while (sigwait(&term, &sig) != 0) {
    }
    std::error_code ignore;
    // Task threads still run: a file one creates after remove_all listed the dir keeps the dir
    // (its rmdir fails, silently). Remove until the dir stays gone.
    for (int i = 0; i < 100 && std::filesystem::exists(dir, ignore); ++i)
      std::filesystem::remove_all(dir, ignore);
    std::filesystem::remove(dir.parent_path(), ignore); // the application's dir, unless shared
    log->info("SIGTERM: local dir removed; executor exits");
    log->flush();
    // Die by the signal itself, so that the worker reports "signal 15 (SIGTERM)" as before.
    ::signal(SIGTERM, SIG_DFL);
    pthread_sigmask(SIG_UNBLOCK, &term, nullptr);
    ::raise(SIGTERM);
    std::_Exit(128 + SIGTERM);
  }}.detach();
}

} // namespace

void run_executor_process(int argc, char** argv) {
  auto args = parse(argc, argv);
  config::config conf;
  try {
    std::vector<const char*> cargv;
    for (auto& s : args.rest)
      cargv.push_back(s.c_str());
    std::vector<std::string> ignored; // the application's own arguments
    conf = config::from_args(static_cast<int>(cargv.size()), cargv.data(), ignored);
  } catch (const config::config_error& e) {
    usage_error(e.what());
  }
  log::configure(conf);
  auto log = log::get("executor");
  const auto ask_timeout = conf.get(config::keys::rpc_ask_timeout);
  const auto network_timeout = conf.get(config::keys::network_timeout);
  const auto heartbeat_interval = conf.get(config::keys::executor_heartbeat_interval);
  const auto max_chunk_size = static_cast<size_t>(conf.get(config::keys::network_max_chunk_size));
  const auto fetch_retry_wait = conf.get(config::keys::shuffle_io_retry_wait);
  // The driver's port in the name too: app ids are unique per master only, and two masters
  // started in the same second (tests, two clusters on one host) hand out the same one.
  std::filesystem::path root;
  try {
    root = config::local_dirs(conf).at(0);
  } catch (const std::exception& e) {
    log->error("executor {}: ember.local.dir: {}", args.executor_id, e.what());
    log->flush();
    std::exit(1);
  }
  const auto app_dir = root / ("ember-" + args.app_id + "-" + std::to_string(args.driver_port));
  const auto dir = app_dir / args.executor_id;
  remove_local_dir_on_sigterm(dir, log);

  caf::actor_system_config cfg;
  configure_remoting(cfg, conf, "executor");
  cfg.set("scheduler.max-threads", size_t{2});
  int code = 0;
  {
    caf::actor_system sys{cfg};
    auto driver = remote_actor(sys, args.driver_host, args.driver_port);
    if (!driver) {
      log->error("executor {}: cannot reach the driver at {}:{}: {}", args.executor_id, args.driver_host,
                 args.driver_port, describe(driver.error()));
      log->flush();
      std::_Exit(1); // the actor system's threads are running: skip exit handlers and destructors
    }
    auto outputs = std::make_shared<map_output_index>();
    auto broadcast_pieces = std::make_shared<storage::broadcast_store>(); // fetched once, served to peers
    // Cached partitions: unified memory = ember.executor.memory * ember.memory.fraction; the
    // block server serves them to executors that need a partition cached here.
    auto blocks = std::make_shared<storage::block_manager>(
      memory_settings_from(conf, static_cast<std::int64_t>(args.memory)),
      dir / "blocks");
    auto server = spawn_block_server(
        sys, outputs, max_chunk_size,
        static_cast<std::size_t>(conf.get(config::keys::block_manager_max_blocks_per_request)), broadcast_pieces,
        blocks);
    auto port = publish(sys, server, 0, args.host.c_str(), true);
    if (!port) {
      log->error("executor {}: cannot serve blocks on {}: {}", args.executor_id, args.host, describe(port.error()));
      log->flush();
      std::_Exit(1);
    }
    executor_config ec;
    ec.executor_id = args.executor_id;
    ec.host = args.host;
    ec.cores = args.cores;
    ec.app_dir = app_dir.string();
    ec.task_memory =
      static_cast<size_t>(static_cast<double>(args.memory) * conf.get(config::keys::memory_fraction) / args.cores);
    ec.compress = conf.get(config::keys::shuffle_compress);
    ec.block_size = static_cast<size_t>(conf.get(config::keys::io_compression_lz4_block_size));
    ec.ask_timeout = ask_timeout;
    ec.process_mode = true;
    ec.blocks = blocks;
    ec.worker_id = args.worker_id;
    ec.block_port = *port;
    ec.max_chunk_size = max_chunk_size;
    ec.fetch_timeout = network_timeout;
    ec.fetch_retry_wait = fetch_retry_wait;
    ec.fetches = std::make_shared<executor::fetch_limiter>(
      static_cast<size_t>(conf.get(config::keys::reducer_max_reqs_in_flight)),
      static_cast<uint64_t>(conf.get(config::keys::reducer_max_size_in_flight)));
    auto faults = std::make_shared<config::fault_injector>(config::fault_settings::from(conf), args.executor_id);
    if (faults->enabled())
      log->warn("executor {}: injecting message faults (ember.test.faults.*, seed {})", args.executor_id,
                conf.get(config::keys::test_faults_seed));
    ec.faults = faults;
    ec.resend_interval = heartbeat_interval;
    ec.running = std::make_shared<executor::running_tasks>(); // the heartbeater reports them
    ec.short_task_threshold = conf.get(config::keys::executor_short_task_threshold);
    ec.stop_grace = conf.get(config::keys::executor_stop_grace_period);
    // Reports cached blocks and broadcast pieces to the driver, which removes them through it.
    block_manager_actor_config bmc;
    bmc.executor_id = args.executor_id;
    bmc.host = args.host;
    bmc.block_port = *port;
    bmc.max_chunk_size = ec.max_chunk_size;
    bmc.replication_threads = static_cast<std::size_t>(conf.get(config::keys::storage_replication_threads));
    bmc.max_pending_replications = static_cast<std::size_t>(conf.get(config::keys::storage_replication_max_pending));
    bmc.ask_timeout = ec.ask_timeout;
    bmc.fetch_timeout = ec.fetch_timeout;
    bmc.fetch_retry_wait = ec.fetch_retry_wait;
    ec.block_manager = spawn_block_manager_actor(sys, bmc, blocks, broadcast_pieces, *driver, *driver);
    executor_broadcast_config bc;
    bc.executor_id = args.executor_id;
    bc.host = args.host;
    bc.block_port = *port;
    bc.settings = broadcast_settings_from(conf);
    bc.max_chunk_size = max_chunk_size;
    bc.ask_timeout = ask_timeout;
    bc.fetch_timeout = network_timeout;
    bc.retry_wait = fetch_retry_wait;
    ec.broadcasts = std::make_shared<executor_broadcast_source>(sys, bc, broadcast_pieces, *driver, ec.block_manager);
    log->info("executor {} of {} on {} ({} cores) connecting to the driver at {}:{}", args.executor_id, args.app_id,
              args.host, args.cores, args.driver_host, args.driver_port);
    auto exec_actor = spawn_executor(sys, ec, *driver, *driver, outputs);
    // Its first beat comes one interval after the executor's registration was sent.
    auto beats = sys.spawn<caf::detached>(heartbeater, *driver, args.executor_id, heartbeat_interval,
                                          network_timeout, faults, ec.running);
    caf::scoped_actor self{sys};
    self->monitor(exec_actor);
    self->monitor(beats);
    for (bool running = true; running;)
      self->receive([&](const caf::down_msg& dm) {
      if (dm.source == beats.address()) {
        if (dm.reason != heartbeat_lost_reason)
          return; // the heartbeat ended otherwise: the connection's end decides
        // Declared lost: every task here was resubmitted elsewhere; nothing of this process is
        // wanted. Running task threads may hold user code: no orderly shutdown is waited for.
        std::error_code ignore;
        std::filesystem::remove_all(dir, ignore);
        log->flush();
        std::_Exit(executor_heartbeat_exit_code);
      }
      running = false;
      if (dm.reason && dm.reason != caf::exit_reason::normal && dm.reason != caf::exit_reason::user_shutdown)
        code = 1;
    });
    caf::anon_send_exit(beats, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(server, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(ec.block_manager, caf::exit_reason::user_shutdown);
    std::error_code ignore;
    std::filesystem::remove_all(dir, ignore);
    std::filesystem::remove(app_dir, ignore);
  }
  log->info("executor {} exits ({})", args.executor_id, code);
  log->flush();
  if (executor_abandoned_tasks())
    std::_Exit(code);
  std::exit(code);
}

} // namespace ember::actors
