// `ember master` and two `ember worker`s as real processes on loopback, with a fake driver in
// this test process: registration (MasterState), an application whose executors (this very test
// binary, fetched by the workers with FetchBinary since its path does not exist) run with the
// contract's command line, executors that exit 52 (memory message, app removed after
// maxExecutorRetries), application end (executors killed, work dirs removed), a worker killed
// with SIGKILL (master marks it dead, driver told workerLost), SIGTERM leaving no process.
//
//   test process                          ember master          ember worker x2
//   fake_driver (published) --Register--> master ---Launch----> worker --fork/exec--> this binary
//        ^  FetchBinary <------------------------------------- worker      --ember-executor ...
//        +-- ExecutorAdded/Updated, ApplicationRemoved ---- master
#include <doctest/doctest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/binary_store.hpp"
#include "actors/conversions.hpp"
#include "deploy/binary_cache.hpp"
#include "protocol/deploy.capnp.h"
#include "protocol/register_types.hpp"
#include "protocol/wire.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/files.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

using namespace ember;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

// -- the executor role of this binary ----------------------------------------------------------
// Started by a worker as `<binary> --ember-executor ... --behave wait|oom`: runs before main (and
// before doctest), so the test binary doubles as the application binary.

namespace {

std::vector<std::string> own_cmdline() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string all{std::istreambuf_iterator<char>(in), {}};
  std::vector<std::string> args;
  std::size_t start = 0;
  for (std::size_t i = 0; i < all.size(); ++i)
    if (all[i] == '\0') {
      args.push_back(all.substr(start, i - start));
      start = i + 1;
    }
  return args;
}

[[gnu::constructor]] void executor_role() {
  auto args = own_cmdline();
  if (args.size() < 2 || args[1] != "--ember-executor")
    return;
  std::string behave = args.size() >= 2 ? args[args.size() - 1] : "";
  if (behave == "oom")
    ::_exit(52);
  ::pause();  // until the worker's SIGTERM
  ::_exit(0);
}

// -- child processes -----------------------------------------------------------------------------

using ember_test::alive;
using ember_test::child;
using ember_test::eventually;

// stdout readable line by line (the "listening on" line), stderr appended to `err_file`.
ember_test::spawn_options piped(const fs::path& err_file) {
  ember_test::spawn_options o;
  o.log = err_file;
  o.pipe_stdout = true;
  o.own_group = false;
  return o;
}

// The wait status after the process exits by itself, -1 if it still runs after 30 s.
int exit_status(child& c) { return c.wait_for(30s).value_or(-1); }

// -- the fake driver -----------------------------------------------------------------------------

struct fake_app {
  std::string behave;
  std::uint32_t initial_executors = 0;
};

// Registers an application with the master, forwards what the master sends to `owner`, serves
// FetchBinary from this test binary.
using go_atom = caf::atom_constant<caf::atom("go")>;

caf::behavior fake_driver(caf::event_based_actor* self, caf::actor owner, caf::actor master, fake_app app,
                          std::string exe, std::string hash, std::uint64_t size) {
  return {
    // Sent by the test once this actor is published: register with the master.
    [=](go_atom, std::uint16_t own_port) {
      self->send(master, make_wire<proto::RegisterApplication>([&](proto::RegisterApplication::Builder b) {
                   b.setName("fake-" + app.behave);
                   b.setExecutorCores(1);
                   b.setExecutorMemory(64 << 20);
                   auto bin = b.initBinary();
                   bin.setPath("/nonexistent/ember-test-app");  // forces FetchBinary
                   bin.setContentHash(hash);
                   bin.setSize(size);
                   auto args = b.initArgs(2);
                   args.set(0, "--behave");
                   args.set(1, app.behave);
                   auto conf = b.initConf(1);
                   conf[0].setKey("ember.app.name");
                   conf[0].setValue("fake");
                   b.setDriverHost("127.0.0.1");
                   b.setDriverPort(own_port);
                   b.setInitialExecutors(app.initial_executors);
                 }));
    },
    [=](const wire<proto::UnregisterApplication>& m) { self->send(master, m); },
    [owner](const wire<proto::RegisteredApplication>& m) { caf::anon_send(owner, m); },
    [owner](const wire<proto::ExecutorAdded>& m) { caf::anon_send(owner, m); },
    [owner](const wire<proto::ExecutorUpdated>& m) { caf::anon_send(owner, m); },
    [owner](const wire<proto::ApplicationRemoved>& m) { caf::anon_send(owner, m); },
    [exe](const wire<proto::FetchBinary>& m) {
      auto r = m.reader();
      auto c = deploy::read_chunk(exe, r.getOffset(), r.getMaxChunkSize());
      return make_wire<proto::BinaryChunk>([&](proto::BinaryChunk::Builder b) {
        b.setContentHash(r.getContentHash());
        b.setOffset(c.offset);
        b.setTotalSize(c.total_size);
        b.setData(actors::bytes(c.data));
        b.setChecksum(c.checksum);
        b.setLast(c.last);
      });
    },
  };
}

struct cluster_fixture {
  ember_test::temp_dir tmp{"ember-cluster"};
  fs::path dir = tmp.path;
  child master, w1, w2;
  std::string url;
  std::uint16_t master_port = 0;
};

wire<proto::MasterState> master_state(caf::scoped_actor& self, const caf::actor& master, bool finished = false) {
  wire<proto::MasterState> result;
  self->request(master, 10s, make_wire<proto::RequestMasterState>([&](auto b) { b.setIncludeFinished(finished); }))
      .receive([&](const wire<proto::MasterState>& s) { result = s; },
               [&](caf::error& err) { FAIL("RequestMasterState failed: " << describe(err)); });
  return result;
}

using ember_test::slurp;

} // namespace

TEST_CASE("master and two workers: registration, executors, memory failures, worker loss, clean stop") {
  cluster_fixture fx;
  const std::string ember = std::string{EMBER_BIN_DIR} + "/ember";
  fx.master.start({ember, "master", "--host", "127.0.0.1", "--port", "0", "--conf", "ember.master.workerCheckInterval=100ms",
         "--conf", "ember.deploy.maxExecutorRetries=2"}, piped(fx.dir / "master.err"));
  auto listening = fx.master.line();
  REQUIRE(listening);
  const std::string prefix = "ember master listening on ";
  REQUIRE(listening->rfind(prefix, 0) == 0);
  fx.url = listening->substr(prefix.size());
  fx.master_port = static_cast<std::uint16_t>(std::stoi(fx.url.substr(fx.url.rfind(':') + 1)));
  CHECK(fx.url == "ember://127.0.0.1:" + std::to_string(fx.master_port));

  auto start_worker = [&](child& c, const char* name) {
    c.start({ember, "worker", fx.url, "--host", "127.0.0.1", "--cores", "2", "--memory", "1g", "--work-dir",
           (fx.dir / name).string(), "--conf", "ember.worker.heartbeatInterval=200ms", "--conf",
           "ember.worker.killGracePeriod=2s"}, piped(fx.dir / (std::string{name} + ".err")));
    auto line = c.line();
    REQUIRE_MESSAGE(line, slurp(fx.dir / (std::string{name} + ".err")));
    CHECK(line->rfind("ember worker worker-", 0) == 0);
    CHECK(line->find(" registered with " + fx.url) != std::string::npos);
  };
  start_worker(fx.w1, "w1");
  start_worker(fx.w2, "w2");

  caf::actor_system_config cfg;
  register_types(cfg);
  cfg.load<caf::io::middleman>();
  cfg.set("middleman.heartbeat-interval", caf::timespan{200ms});
  cfg.set("logger.verbosity", caf::atom("quiet"));
  caf::actor_system sys{cfg};
  auto master = sys.middleman().remote_actor("127.0.0.1", fx.master_port);
  REQUIRE(master);
  caf::scoped_actor self{sys};

  // -- both workers registered with their cores and memory --
  {
    auto st = master_state(self, *master);
    auto r = st.reader();
    CHECK(actors::str(r.getMasterUrl()) == fx.url);
    REQUIRE(r.getWorkers().size() == 2);
    for (auto w : r.getWorkers()) {
      CHECK(w.getAlive());
      CHECK(w.getCores() == 2);
      CHECK(w.getMemoryBytes() == (std::uint64_t{1} << 30));
      CHECK(actors::str(w.getHost()) == "127.0.0.1");
    }
  }

  const auto exe = fs::read_symlink("/proc/self/exe").string();
  const auto hash = deploy::content_hash(exe);
  const auto size = static_cast<std::uint64_t>(fs::file_size(exe));
  auto start_driver = [&](fake_app app) {
    auto d = sys.spawn(fake_driver, caf::actor{self}, *master, app, exe, hash, size);
    auto port = sys.middleman().publish(d, 0, "127.0.0.1", true);
    REQUIRE(port);
    self->send(d, go_atom::value, *port);
    std::string app_id;
    self->receive([&](const wire<proto::RegisteredApplication>& m) { app_id = actors::str(m.reader().getAppId()); },
                  caf::after(30s) >> [] { FAIL("no RegisteredApplication"); });
    CHECK(app_id.rfind("app-", 0) == 0);
    CHECK(app_id.size() == std::string{"app-20261125213000-0000"}.size());
    return std::make_tuple(d, app_id, *port);
  };
  // Receives the driver-bound messages until `done` says so.
  auto collect = [&](auto done) {
    std::vector<std::string> seen;  // "added 0 on w", "updated 0 state code", "removed ..."
    std::vector<std::string> messages;
    while (!done(seen)) {
      bool got = true;
      self->receive(
          [&](const wire<proto::ExecutorAdded>& m) {
            seen.push_back("added " + actors::str(m.reader().getExecutorId()));
          },
          [&](const wire<proto::ExecutorUpdated>& m) {
            auto r = m.reader();
            seen.push_back("updated " + actors::str(r.getExecutorId()) + " " + std::to_string(int(r.getState())) + " "
                           + std::to_string(r.getExitCode()) + (r.getWorkerLost() ? " workerLost" : ""));
            messages.push_back(actors::str(r.getMessage()));
          },
          [&](const wire<proto::ApplicationRemoved>& m) {
            seen.push_back("removed");
            messages.push_back(actors::str(m.reader().getReason()));
          },
          caf::after(30s) >> [&] { got = false; });
      REQUIRE_MESSAGE(got, "timed out; seen so far: " << seen.size());
    }
    return std::make_pair(seen, messages);
  };
  auto count = [](const std::vector<std::string>& xs, const std::string& prefix) {
    return std::count_if(xs.begin(), xs.end(), [&](auto& x) { return x.rfind(prefix, 0) == 0; });
  };
  const int running = int(proto::ExecutorState::RUNNING);
  const int failed = int(proto::ExecutorState::FAILED);
  const int lost = int(proto::ExecutorState::LOST);

  // -- application 1: two waiting executors, one per worker (spread out), binary fetched --
  auto [driver1, app1, driver1_port] = start_driver({"wait", 2});
  {
    auto [seen, msgs] = collect([&](auto& s) { return count(s, "updated") == 2; });
    CHECK(count(seen, "added") == 2);
    CHECK(count(seen, "updated 0 " + std::to_string(running)) == 1);
    CHECK(count(seen, "updated 1 " + std::to_string(running)) == 1);
  }
  std::vector<std::pair<std::string, pid_t>> app1_pids;  // (worker id, pid)
  {
    auto st = master_state(self, *master);
    auto apps = st.reader().getApps();
    REQUIRE(apps.size() == 1);
    CHECK(actors::str(apps[0].getAppId()) == app1);
    CHECK(apps[0].getState() == proto::ApplicationState::RUNNING);
    CHECK(apps[0].getCoresGranted() == 2);
    REQUIRE(apps[0].getExecutors().size() == 2);
    CHECK(apps[0].getExecutors()[0].getWorkerId() != apps[0].getExecutors()[1].getWorkerId());
    for (auto e : apps[0].getExecutors()) {
      CHECK(e.getState() == proto::ExecutorState::RUNNING);
      REQUIRE(e.getPid() != 0);
      app1_pids.emplace_back(actors::str(e.getWorkerId()), static_cast<pid_t>(e.getPid()));
      CHECK(alive(static_cast<pid_t>(e.getPid())));
      // The contract's command line, exactly.
      auto args = [&] {
        std::ifstream in("/proc/" + std::to_string(e.getPid()) + "/cmdline", std::ios::binary);
        std::string all{std::istreambuf_iterator<char>(in), {}};
        std::vector<std::string> v;
        std::size_t start = 0;
        for (std::size_t i = 0; i < all.size(); ++i)
          if (all[i] == '\0') {
            v.push_back(all.substr(start, i - start));
            start = i + 1;
          }
        return v;
      }();
      auto id = actors::str(e.getExecutorId());
      REQUIRE(args.size() == 20);
      CHECK(fs::path(args[0]).filename() == hash);  // the cached copy, fetched from the driver
      std::vector<std::string> expected{"--ember-executor", "--ember-driver", "127.0.0.1:" + std::to_string(driver1_port),
                                        "--ember-app-id", app1, "--ember-executor-id", id, "--ember-worker-id",
                                        actors::str(e.getWorkerId()), "--ember-host", "127.0.0.1", "--ember-cores",
                                        "1", "--ember-memory", std::to_string(64 << 20), "--conf",
                                        "ember.app.name=fake", "--behave", "wait"};
      CHECK(std::vector<std::string>(args.begin() + 1, args.end()) == expected);
      auto cwd = fs::read_symlink("/proc/" + std::to_string(e.getPid()) + "/cwd");
      CHECK(cwd.filename() == id);
      CHECK(cwd.parent_path().filename() == app1);
    }
  }

  // -- application 2: executors exit 52; after 2 in a row the master removes the app --
  auto [driver2, app2, driver2_port] = start_driver({"oom", 1});
  {
    auto [seen, msgs] = collect([&](auto& s) { return count(s, "removed") == 1; });
    CHECK(count(seen, "updated 0 " + std::to_string(failed) + " 52") == 1);
    CHECK(count(seen, "updated 1 " + std::to_string(failed) + " 52") == 1);
    CHECK(count(seen, "added") == 2);
    CHECK(std::count(msgs.begin(), msgs.end(),
                     "executor 1 on host 127.0.0.1 killed: exceeded ember.executor.memory (64m)") >= 1);
    CHECK(msgs.back() == "application " + app2 + " removed: 2 executors failed in a row; the last one: "
                             "executor 1 on host 127.0.0.1 killed: exceeded ember.executor.memory (64m)");
  }
  {
    auto st = master_state(self, *master);
    CHECK(st.reader().getApps().size() == 1);
    auto all = [&] {
      wire<proto::MasterState> r;
      self->request(*master, 10s, make_wire<proto::RequestMasterState>([](auto b) { b.setIncludeFinished(true); }))
          .receive([&](const wire<proto::MasterState>& s) { r = s; }, [](caf::error&) { FAIL("no state"); });
      return r;
    }();
    REQUIRE(all.reader().getApps().size() == 2);
    CHECK(all.reader().getApps()[1].getState() == proto::ApplicationState::FAILED);
  }

  // -- application 1 ends: its executors are killed and its work directories removed --
  self->send(driver1, make_wire<proto::UnregisterApplication>([&](auto b) { b.setAppId(app1); }));
  for (auto& [w, pid] : app1_pids)
    CHECK_MESSAGE(eventually([pid = pid] { return !alive(pid); }), "executor pid " << pid << " still alive");
  CHECK(eventually([&] { return !fs::exists(fx.dir / "w1" / app1) && !fs::exists(fx.dir / "w2" / app1); }));
  CHECK(fs::exists(fx.dir / "w1" / "binaries" / hash) != fs::exists(fx.dir / "w1" / "binaries" / (hash + ".part")));

  // -- application 3, then worker 2 killed with SIGKILL: master marks it dead, driver told --
  auto [driver3, app3, driver3_port] = start_driver({"wait", 2});
  collect([&](auto& s) { return count(s, "updated") == 2; });
  std::vector<pid_t> app3_pids;
  for (auto e : master_state(self, *master).reader().getApps()[0].getExecutors())
    app3_pids.push_back(static_cast<pid_t>(e.getPid()));
  REQUIRE(app3_pids.size() == 2);
  ::kill(fx.w2.pid, SIGKILL);
  CHECK(exit_status(fx.w2) != -1);
  {
    // Lost with workerLost, and replaced on worker 1 (it has a free core): executor 2.
    auto [seen, msgs] = collect([&](auto& s) {
      return count(s, "updated 2 " + std::to_string(running)) == 1 && count(s, "updated 0 " + std::to_string(lost)) + count(s, "updated 1 " + std::to_string(lost)) == 1;
    });
    auto lost_update = std::find_if(seen.begin(), seen.end(), [&](auto& x) { return x.find(" workerLost") != std::string::npos; });
    REQUIRE(lost_update != seen.end());
    CHECK(lost_update->ends_with(" " + std::to_string(lost) + " 0 workerLost"));
    CHECK(msgs[static_cast<std::size_t>(lost_update - seen.begin()) - count(std::vector<std::string>(seen.begin(), lost_update), "added")].find(" lost: connection lost") != std::string::npos);
  }
  std::string w1_id;
  {
    auto st = master_state(self, *master);
    int dead = 0;
    for (auto w : st.reader().getWorkers()) {
      dead += w.getAlive() ? 0 : 1;
      if (w.getAlive())
        w1_id = actors::str(w.getWorkerId());
    }
    CHECK(dead == 1);
    REQUIRE(st.reader().getApps().size() == 1);
    auto execs = st.reader().getApps()[0].getExecutors();
    REQUIRE(execs.size() == 2);
    for (auto e : execs) {
      CHECK(actors::str(e.getWorkerId()) == w1_id);
      if (std::find(app3_pids.begin(), app3_pids.end(), static_cast<pid_t>(e.getPid())) == app3_pids.end())
        app3_pids.push_back(static_cast<pid_t>(e.getPid()));
    }
  }
  REQUIRE(app3_pids.size() == 3);
  // The killed worker's executor died with it (PR_SET_PDEATHSIG).
  CHECK(eventually([&] { return !alive(app3_pids[0]) || !alive(app3_pids[1]); }));

  // -- SIGTERM: worker 1 kills its executors; master stops; nothing is left --
  ::kill(fx.w1.pid, SIGTERM);
  int status = exit_status(fx.w1);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  for (auto pid : app3_pids)
    CHECK(eventually([pid] { return !alive(pid); }));
  ::kill(fx.master.pid, SIGTERM);
  status = exit_status(fx.master);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  for (auto d : {driver1, driver2, driver3})
    caf::anon_send_exit(d, caf::exit_reason::user_shutdown);
  (void)driver2_port;
  (void)driver3_port;
}

TEST_CASE("ember worker: a bad master URL is one line and exit code 2") {
  const std::string ember = std::string{EMBER_BIN_DIR} + "/ember";
  ember_test::temp_dir tmp{"ember-cluster"};
  const fs::path& dir = tmp.path;
  child c;
  c.start({ember, "worker", "spark://nowhere", "--work-dir", (dir / "w").string()}, piped(dir / "err"));
  int status = exit_status(c);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 2);
  CHECK(slurp(dir / "err") == "ember: bad master URL 'spark://nowhere' (expected ember://host:port)\n");
}

TEST_CASE("cluster-mode drivers: run, exit code, missing binary, supervise and kill, SIGTERM") {
  cluster_fixture fx;
  const std::string ember = std::string{EMBER_BIN_DIR} + "/ember";
  fx.master.start({ember, "master", "--host", "127.0.0.1", "--port", "0"}, piped(fx.dir / "master.err"));
  auto listening = fx.master.line();
  REQUIRE(listening);
  fx.url = listening->substr(listening->rfind(' ') + 1);
  fx.master_port = static_cast<std::uint16_t>(std::stoi(fx.url.substr(fx.url.rfind(':') + 1)));
  fx.w1.start({ember, "worker", fx.url, "--host", "127.0.0.1", "--cores", "4", "--memory", "1g", "--work-dir",
         (fx.dir / "w1").string(), "--conf", "ember.worker.driverRestartBackoff=20ms", "--conf",
         "ember.worker.killGracePeriod=2s"}, piped(fx.dir / "w1.err"));
  REQUIRE(fx.w1.line());

  caf::actor_system_config cfg;
  register_types(cfg);
  cfg.load<caf::io::middleman>();
  cfg.set("logger.verbosity", caf::atom("quiet"));
  caf::actor_system sys{cfg};
  auto master = sys.middleman().remote_actor("127.0.0.1", fx.master_port);
  REQUIRE(master);
  caf::scoped_actor self{sys};

  const std::string sh = fs::canonical("/bin/sh").string();
  const auto sh_hash = deploy::content_hash(sh);
  // As ember submit does: from an actor that serves the binary to the master's store meanwhile.
  // Returns the driver id, or the master's refusal.
  struct submitted {
    std::string id, refusal;
  };
  auto try_submit = [&](std::string path, std::string hash, std::string script, bool supervise) {
    submitted out;
    auto submitter = actors::spawn_binary_submitter(sys, *master, path, hash, 1 << 20, 10s);
    self->request(submitter, 10s, make_wire<proto::RequestSubmitDriver>([&](proto::RequestSubmitDriver::Builder b) {
          auto d = b.initDescription();
          d.initBinary().setPath(path);
          d.getBinary().setContentHash(hash);
          if (std::error_code ec; fs::exists(path, ec))
            d.getBinary().setSize(fs::file_size(path));
          auto args = d.initArgs(2);
          args.set(0, "-c");
          args.set(1, script);
          d.setCores(1);
          d.setMemoryBytes(64 << 20);
          d.setSupervise(supervise);
        }))
        .receive(
            [&](const wire<proto::SubmitDriverResponse>& r) {
              if (!r.reader().getSuccess()) {
                out.refusal = actors::str(r.reader().getMessage());
                return;
              }
              out.id = actors::str(r.reader().getDriverId());
              CHECK(actors::str(r.reader().getMessage()) == "Driver successfully submitted as " + out.id);
            },
            [](caf::error& e) { FAIL(describe(e)); });
    self->send_exit(submitter, caf::exit_reason::user_shutdown);
    return out;
  };
  auto submit = [&](std::string path, std::string hash, std::string script, bool supervise) {
    auto r = try_submit(path, hash, script, supervise);
    INFO("refused: " << r.refusal);
    CHECK(r.id.rfind("driver-", 0) == 0);
    return r.id;
  };
  auto status = [&](const std::string& id) {
    std::pair<proto::DriverState, std::string> out{proto::DriverState::UNKNOWN, ""};
    self->request(*master, 10s, make_wire<proto::RequestDriverStatus>([&](auto b) { b.setDriverId(id); }))
        .receive(
            [&](const wire<proto::DriverStatusResponse>& r) {
              REQUIRE(r.reader().getFound());
              out = {r.reader().getState(), actors::str(r.reader().getMessage())};
            },
            [](caf::error& e) { FAIL(describe(e)); });
    return out;
  };

  // Runs in <work-dir>/<driverId>/ with stdout there; exit 3 without supervise = failed.
  auto d1 = submit(sh, sh_hash, "pwd; exit 3", false);
  CHECK(eventually([&] { return status(d1).first == proto::DriverState::FAILED; }));
  CHECK(status(d1).second == "driver " + d1 + " ended with exit code 3");
  CHECK(slurp(fx.dir / "w1" / d1 / "stdout") == (fx.dir / "w1" / d1).string() + "\n");

  // A binary the submitter cannot hand over, or one named without a SHA-256 digest, makes no
  // driver: the master refuses the submission in one line.
  const std::string absent_hash(64, '0');
  auto absent = try_submit("/nonexistent/app", absent_hash, "exit 0", false);
  CHECK(absent.id.empty());
  CHECK(absent.refusal.find("binary /nonexistent/app: ") == 0);
  CHECK(absent.refusal.find("cannot read binary " + absent_hash) != std::string::npos);
  auto undigested = try_submit(sh, "xxh64:0123456789abcdef", "exit 0", false);
  CHECK(undigested.id.empty());
  CHECK(undigested.refusal.find("'xxh64:0123456789abcdef' is not a SHA-256 digest") != std::string::npos);
  // A submitter that serves other bytes than the digest it names: the store's check fails.
  auto forged = try_submit(sh, std::string(64, 'a'), "exit 0", false);
  CHECK(forged.id.empty());
  CHECK(forged.refusal.find("fetched binary has SHA-256 " + sh_hash + ", expected " + std::string(64, 'a')) != std::string::npos);
  CHECK(master_state(self, *master, true).reader().getDrivers().size() == 1);  // d1 only

  // Supervised and failing: restarted by the worker, until killed.
  auto d3 = submit(sh, sh_hash, "exit 1", true);
  CHECK(eventually([&] {
    auto st = master_state(self, *master);
    for (auto d : st.reader().getDrivers())
      if (actors::str(d.getDriverId()) == d3)
        return d.getRestarts() >= 2;
    return false;
  }));
  self->request(*master, 10s, make_wire<proto::RequestKillDriver>([&](auto b) { b.setDriverId(d3); }))
      .receive([&](const wire<proto::KillDriverResponse>& r) { CHECK(r.reader().getSuccess()); },
               [](caf::error& e) { FAIL(describe(e)); });
  CHECK(eventually([&] { return status(d3).first == proto::DriverState::KILLED; }));

  // A long-running driver: the worker's SIGTERM takes it down with the worker.
  auto d4 = submit(sh, sh_hash, "echo $$ > pid; exec sleep 300", false);
  CHECK(eventually([&] { return fs::exists(fx.dir / "w1" / d4 / "pid") && !slurp(fx.dir / "w1" / d4 / "pid").empty(); }));
  auto pid = static_cast<pid_t>(std::stoi(slurp(fx.dir / "w1" / d4 / "pid")));
  CHECK(alive(pid));
  ::kill(fx.w1.pid, SIGTERM);
  int st = exit_status(fx.w1);
  CHECK(WIFEXITED(st));
  CHECK(WEXITSTATUS(st) == 0);
  CHECK_FALSE(alive(pid));  // reaped by the worker before it exited
  ::kill(fx.master.pid, SIGTERM);
  CHECK(exit_status(fx.master) != -1);
}
