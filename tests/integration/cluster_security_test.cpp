// A secured standalone cluster (ember.authenticate with a secret file) as a user runs it: the word
// count is exact in client and cluster deploy mode; `ember status` without the secret or with
// another one fails with one line; a raw socket announcing a 1 GiB BASP message does not move the
// master's memory; no process holds the secret in its command line or environment; ACLs keep
// users apart; an insider with the secret still cannot give a worker or the master orders.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/remoting.hpp"
#include "config/config.hpp"
#include "protocol/deploy.capnp.h"
#include "protocol/wire.hpp"
#include "tests/support/cluster.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/files.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace ember_test;

namespace {

const std::string ember_bin = bin_dir + "/ember";

// A configuration directory (ember-defaults.conf) turning authentication on with `secret`.
// With `owner` (a uid), the directory and its files belong to that user.
fs::path conf_dir(const fs::path& dir, const std::string& name, const std::string& secret, uid_t owner = ::geteuid()) {
  auto d = dir / name;
  fs::create_directories(d);
  write_file(d / "secret", secret + "\n");
  REQUIRE(::chmod((d / "secret").c_str(), 0600) == 0);
  write_file(d / "ember-defaults.conf", "ember.authenticate true\nember.authenticate.secret.file " + (d / "secret").string()
                                            + "\nember.acls.enable true\nember.admin.acls root\n");
  for (auto p : {d, d / "secret", d / "ember-defaults.conf"})
    REQUIRE(::chown(p.c_str(), owner, owner) == 0);
  return d;
}

// Sets EMBER_CONF_DIR for this test process and every program it starts, restored at scope end.
struct conf_env {
  explicit conf_env(const fs::path& d) { ::setenv("EMBER_CONF_DIR", d.c_str(), 1); }
  ~conf_env() { ::unsetenv("EMBER_CONF_DIR"); }
};

// Word count by coreutils, the independent reference: "word\tcount" lines, sorted.
std::vector<std::string> reference_counts(const fs::path& input, const fs::path& dir) {
  auto r = sh("cat '" + input.string() + "'/* | tr -s '[:space:]' '\\n' | grep -v '^$' | sort | uniq -c"
              " | awk '{print $2 \"\\t\" $1}' | LC_ALL=C sort",
              dir);
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> lines;
  std::istringstream in{r.out};
  for (std::string l; std::getline(in, l);)
    lines.push_back(l);
  return lines;
}

std::vector<std::string> output_counts(const fs::path& out) {
  auto lines = part_file_lines(out);
  std::sort(lines.begin(), lines.end());
  return lines;
}

void write_input(const fs::path& dir) {
  fs::create_directories(dir);
  for (int f = 0; f < 3; ++f) {
    std::ofstream out{dir / ("in-" + std::to_string(f) + ".txt")};
    for (int k = 1; k <= 200; ++k)
      for (int i = 0; i < k; ++i)
        out << 'w' << (k * 7 + f) % 150 << ((i % 9 == 8) ? '\n' : ' ');
    out << '\n';
  }
}

long rss_kib(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  for (std::string line; std::getline(in, line);)
    if (line.starts_with("VmRSS:"))
      return std::stol(line.substr(6));
  return -1;
}

// NUL-separated /proc file of a process, "" when it is gone or unreadable.
std::string proc_file(const std::string& pid, const char* name) {
  std::ifstream in{"/proc/" + pid + "/" + name, std::ios::binary};
  return std::string{std::istreambuf_iterator<char>{in}, {}};
}

// Opens a TCP connection to 127.0.0.1:port and sends a CAF BASP header (32 bytes, network byte
// order) of a client handshake that declares a payload of `payload` bytes; returns the socket.
int send_basp_header(int port, std::uint32_t payload) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  std::array<unsigned char, 32> h{};
  h[0] = 0x01;  // client_handshake
  std::uint32_t len = htonl(payload);
  std::memcpy(&h[4], &len, 4);
  h[15] = 1;  // operation data: the BASP version
  REQUIRE(::send(fd, h.data(), h.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(h.size()));
  return fd;
}

// A test's directory, a fresh secret, and EMBER_CONF_DIR naming a conf dir that turns
// authentication on with it.
struct secured_dir {
  explicit secured_dir(const std::string& name)
    : dir{"ember-" + name}, root{fs::weakly_canonical(dir.path)},
      secret{name + "-" + std::to_string(::getpid()) + "-0123456789abcdef"}, conf{conf_dir(root, "conf", secret)},
      env{conf} {}
  temp_dir dir;
  fs::path root;
  std::string secret;
  fs::path conf;
  conf_env env;
};

}  // namespace

TEST_CASE("a secured cluster: exact results, outsiders refused, the secret nowhere to be seen") {
  secured_dir s{"secure"};
  auto& root = s.root;
  auto& secret = s.secret;
  auto& conf = s.conf;
  write_input(root / "input");
  auto ref = reference_counts(root / "input", root);
  REQUIRE(ref.size() == 150);

  local_cluster c{root, {{"127.0.0.1", 2, "1g"}, {"127.0.0.1", 2, "1g"}}};
  int port = std::stoi(c.url().substr(c.url().rfind(':') + 1));

  SUBCASE("client and cluster deploy mode count every word exactly") {
    auto client = sh("'" + ember_bin + "' submit --master " + c.url() + " --num-executors 2 --executor-cores 1 '"
                         + bin_dir + "/wordcount' '" + (root / "input").string() + "' '" + (root / "client-out").string()
                         + "'",
                     root);
    INFO("client stderr: " << client.err);
    REQUIRE(client.exit_code == 0);
    CHECK(output_counts(root / "client-out") == ref);

    auto cluster = sh("'" + ember_bin + "' submit --master " + c.url() + " --deploy-mode cluster '" + bin_dir
                          + "/wordcount' '" + (root / "input").string() + "' '" + (root / "cluster-out").string() + "'",
                      root);
    INFO("cluster stderr: " << cluster.err);
    REQUIRE(cluster.exit_code == 0);
    std::smatch m;
    REQUIRE(std::regex_search(cluster.out, m, std::regex{"Submitted driver (\\S+)"}));
    std::string id = m[1];
    CHECK(eventually(
        [&] {
          auto s = sh("'" + ember_bin + "' submit --master " + c.url() + " --status " + id, root);
          return s.out.find(" is FINISHED") != std::string::npos;
        },
        std::chrono::seconds{120}));
    CHECK(output_counts(root / "cluster-out") == ref);
  }

  SUBCASE("ember status without the secret, or with another one, is refused in one line") {
    auto ok = sh("'" + ember_bin + "' status --master " + c.url(), root);
    CHECK(ok.exit_code == 0);
    auto none = root / "no-conf";
    fs::create_directories(none);
    auto without = sh("EMBER_CONF_DIR='" + none.string() + "' '" + ember_bin + "' status --master " + c.url(), root);
    INFO("without: " << without.err);
    CHECK(without.exit_code != 0);
    CHECK(std::count(without.err.begin(), without.err.end(), '\n') == 1);
    CHECK(without.err.find("cannot reach the master at " + c.url()) != std::string::npos);
    CHECK(without.err.find("authentication") != std::string::npos);
    CHECK(without.out.empty());

    auto other = conf_dir(root, "other", "another-secret-0123456789");
    auto wrong = sh("EMBER_CONF_DIR='" + other.string() + "' '" + ember_bin + "' status --master " + c.url(), root);
    INFO("wrong: " << wrong.err);
    CHECK(wrong.exit_code != 0);
    CHECK(std::count(wrong.err.begin(), wrong.err.end(), '\n') == 1);
    CHECK(wrong.err.find("cannot reach the master at " + c.url()) != std::string::npos);
    CHECK(wrong.out.empty());

    auto submit = sh("EMBER_CONF_DIR='" + none.string() + "' '" + ember_bin + "' submit --master " + c.url()
                         + " --deploy-mode cluster /bin/echo hello",
                     root);
    CHECK(submit.exit_code != 0);
    CHECK(c.state(true)["drivers"].empty());  // nothing reached the master
  }

  SUBCASE("a BASP header announcing 1 GiB, before any handshake, does not grow the master") {
    auto before = rss_kib(c.master().pid);
    REQUIRE(before > 0);
    std::vector<int> fds;
    for (int i = 0; i < 3; ++i)
      fds.push_back(send_basp_header(port, 1u << 30));
    // The master answers garbage in place of a TLS handshake by closing the connection.
    for (int fd : fds) {
      timeval tv{10, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      char buf[512];
      ssize_t n;
      while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) {
      }
      INFO("recv: " << std::strerror(errno));
      CHECK((n == 0 || errno == ECONNRESET));  // closed by the master, not timed out
      ::close(fd);
    }
    auto after = rss_kib(c.master().pid);
    INFO("master RSS before " << before << " KiB, after " << after << " KiB");
    CHECK(after - before < 16 * 1024);
    CHECK(c.state().value("aliveWorkers", 0) == 2);  // still serving
    CHECK(slurp(root / "master.log").find("rejected a connection from 127.0.0.1:") != std::string::npos);
  }

  SUBCASE("ACLs: another user may neither see nor kill a driver they do not own") {
    if (::geteuid() != 0)
      return;  // needs a second user (nobody), so root
    fs::permissions(root, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec
                              | fs::perms::others_read | fs::perms::others_exec);
    auto theirs = conf_dir(root, "nobody-conf", secret, 65534);
    auto as_nobody = "runuser -u nobody -- env EMBER_CONF_DIR='" + theirs.string() + "' '" + ember_bin + "' ";
    auto go = root / "go-acl";
    auto sub = sh("'" + ember_bin + "' submit --master " + c.url() + " --deploy-mode cluster '" + bin_dir
                      + "/cluster_probe' alloc 2 1 '" + go.string() + "'",
                  root);
    INFO("submit: " << sub.err);
    std::smatch m;
    REQUIRE(std::regex_search(sub.out, m, std::regex{"Submitted driver (\\S+)"}));
    std::string id = m[1];

    auto seen = sh(as_nobody + "status --json --all --master " + c.url(), root);
    INFO("nobody's status: " << seen.err);
    REQUIRE(seen.exit_code == 0);
    auto state = nlohmann::json::parse(seen.out);
    CHECK(state["drivers"].empty());
    CHECK(state.value("aliveWorkers", 0) == 2);
    CHECK(c.state(true)["drivers"].size() == 1);  // root, an admin, sees it

    auto kill = sh(as_nobody + "submit --master " + c.url() + " --kill " + id, root);
    CHECK(kill.exit_code == 1);
    CHECK(kill.out == "Driver " + id + " not killed: user 'nobody' may not kill driver " + id + " (ember.modify.acls)\n");
    auto own = sh("'" + ember_bin + "' submit --master " + c.url() + " --kill " + id, root);
    CHECK(own.exit_code == 0);
    CHECK(eventually([&] {
      auto s = sh("'" + ember_bin + "' submit --master " + c.url() + " --status " + id, root);
      return s.out.find(" is KILLED") != std::string::npos;
    }));
  }

  SUBCASE("no process holds the secret in its command line or environment") {
    auto go = root / "go";
    spawn_options o;
    o.log = root / "probe.log";
    o.pipe_stdout = true;
    child app{{bin_dir + "/cluster_probe", "--master", c.url(), "--conf", "ember.executor.instances=2",
               "--conf", "ember.executor.cores=1", "alloc", "4", "1", go.string()},
              o};
    auto line = app.line(std::chrono::seconds{60});
    REQUIRE(line);
    CHECK(*line == "count 4");
    int executors = 0, checked = 0;
    for (auto& p : fs::directory_iterator("/proc")) {
      auto pid = p.path().filename().string();
      if (!std::all_of(pid.begin(), pid.end(), ::isdigit))
        continue;
      auto cmdline = proc_file(pid, "cmdline");
      auto environ = proc_file(pid, "environ");
      if (cmdline.empty())
        continue;
      ++checked;
      // Executors of this cluster (other tests may run clusters of their own meanwhile).
      if (cmdline.find("--ember-executor") != std::string::npos
          && environ.find("EMBER_CONF_DIR=" + conf.string() + '\0') != std::string::npos)
        ++executors;
      INFO("pid " << pid << ": " << cmdline);
      CHECK(cmdline.find(secret) == std::string::npos);
      CHECK(environ.find(secret) == std::string::npos);
    }
    CHECK(executors == 2);
    CHECK(checked > 4);
    write_file(go, "");
    CHECK(app.wait() == 0);
  }
}

// An insider: a CAF node that holds the secret, so TLS lets it in. Each authorization rule must
// still hold against it.
TEST_CASE("an insider holding the secret still cannot order a worker or the master about") {
  secured_dir s{"insider"};
  auto& root = s.root;
  local_cluster c{root, {{"127.0.0.1", 1, "1g"}}};
  auto state = c.state();
  REQUIRE(state["workers"].size() == 1);
  auto worker_port = state["workers"][0]["port"].get<std::uint16_t>();
  auto master_port = static_cast<std::uint16_t>(std::stoi(c.url().substr(c.url().rfind(':') + 1)));

  ember::config::load_options o;  // reads EMBER_CONF_DIR: authentication on, the same secret
  caf::actor_system_config cfg;
  ember::actors::configure_remoting(cfg, ember::config::load(o), "client");
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};

  auto worker = ember::actors::remote_actor(sys, "127.0.0.1", worker_port);
  REQUIRE_MESSAGE(worker, sys.render(worker.error()));
  auto evil = root / "evil";
  self->send(*worker, ember::make_wire<ember::proto::LaunchExecutor>([&](auto b) {
    b.setAppId("../../../../" + evil.string());
    b.setExecutorId("0");
    b.setCores(1);
    b.setMemoryBytes(1 << 20);
    auto bin = b.initBinary();
    bin.setPath("/bin/sh");
    bin.setContentHash(std::string(64, 'a'));
  }));
  CHECK(eventually([&] {
    return slurp(root / "worker-0.log").find("dropped LaunchExecutor: not sent by this worker's master")
           != std::string::npos;
  }));
  CHECK_FALSE(fs::exists(evil));

  auto master = ember::actors::remote_actor(sys, "127.0.0.1", master_port);
  REQUIRE(master);
  self->send(*master, caf::atom_constant<caf::atom("masterurl")>::value, std::string{"ember://evil:1"});
  CHECK(eventually([&] { return slurp(root / "master.log").find("ignored its URL") != std::string::npos; }));
  CHECK(c.state()["masterUrl"] == c.url());
}

// A site with its own PKI: certificates made by the openssl command line tool, ember.ssl.*.
TEST_CASE("ember.ssl.enabled: certificates of the site's CA let a job run, others are refused") {
  temp_dir dir{"ember-pki"};
  auto root = fs::weakly_canonical(dir.path);
  auto make_ca = [&](const std::string& name) {
    auto r = sh("cd '" + root.string() + "' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + name
                    + ".key -out " + name + ".pem -subj /CN=" + name + " -days 2 2>&1",
                root);
    REQUIRE_MESSAGE(r.exit_code == 0, r.out);
  };
  auto make_node = [&](const std::string& ca, const std::string& name) {
    auto r = sh("cd '" + root.string() + "' && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + name + ".key -out "
                    + name + ".csr -subj /CN=" + name + " 2>&1 && openssl x509 -req -in " + name + ".csr -CA " + ca
                    + ".pem -CAkey " + ca + ".key -CAcreateserial -out " + name + ".pem -days 2 2>&1",
                root);
    REQUIRE_MESSAGE(r.exit_code == 0, r.out);
    auto d = root / (name + "-conf");
    fs::create_directories(d);
    write_file(d / "ember-defaults.conf", "ember.ssl.enabled true\nember.ssl.certificate " + (root / (name + ".pem")).string()
                                              + "\nember.ssl.key " + (root / (name + ".key")).string()
                                              + "\nember.ssl.caFile " + (root / (ca + ".pem")).string() + "\n");
    return d;
  };
  make_ca("site-ca");
  make_ca("other-ca");
  auto node = make_node("site-ca", "node");
  auto stranger = make_node("other-ca", "stranger");
  conf_env env{node};
  write_input(root / "input");
  auto ref = reference_counts(root / "input", root);
  local_cluster c{root, {{"127.0.0.1", 2, "1g"}}};

  auto wc = sh("'" + ember_bin + "' submit --master " + c.url() + " --num-executors 2 --executor-cores 1 '" + bin_dir
                   + "/wordcount' '" + (root / "input").string() + "' '" + (root / "out").string() + "'",
               root);
  INFO("wordcount: " << wc.err);
  REQUIRE(wc.exit_code == 0);
  CHECK(output_counts(root / "out") == ref);

  auto other = sh("EMBER_CONF_DIR='" + stranger.string() + "' '" + ember_bin + "' status --master " + c.url(), root);
  CHECK(other.exit_code != 0);
  CHECK(other.err.find("cannot reach the master at " + c.url()) != std::string::npos);
  auto none = root / "none";
  fs::create_directories(none);
  auto plain = sh("EMBER_CONF_DIR='" + none.string() + "' '" + ember_bin + "' status --master " + c.url(), root);
  CHECK(plain.exit_code != 0);
}

// ember.authenticate.secret given as a value (Spark's way): it must still stay out of every
// command line, the application's shipped configuration, the master's recovery files and logs.
TEST_CASE("a secret given as a value reaches no command line, log or recovery file") {
  temp_dir dir{"ember-secret-value"};
  auto root = fs::weakly_canonical(dir.path);
  const std::string secret = "value-" + std::to_string(::getpid()) + "-0123456789abcdef";
  auto conf = root / "conf";
  fs::create_directories(conf);
  write_file(conf / "ember-defaults.conf", "ember.deploy.recoveryMode FILESYSTEM\nember.deploy.recoveryDirectory "
                                               + (root / "recovery").string() + "\nember.eventLog.enabled true\n"
                                               + "ember.eventLog.dir " + (root / "events").string() + "\n");
  conf_env env{conf};
  // The cluster holds the same secret in its file, as an operator runs it; only the application
  // passes the value on its command line.
  write_file(root / "secret", secret);
  REQUIRE(::chmod((root / "secret").c_str(), 0600) == 0);
  write_file(conf / "ember-defaults.conf", slurp(conf / "ember-defaults.conf") + "ember.authenticate true\n"
                                               + "ember.authenticate.secret.file " + (root / "secret").string() + "\n");
  local_cluster c{root, {{"127.0.0.1", 2, "1g"}}};
  write_input(root / "input");

  auto go = root / "go";
  spawn_options o;
  o.log = root / "submit.log";
  o.pipe_stdout = true;
  // Submit with the value: `ember submit` execs the driver, which gets it through a descriptor.
  child app{{ember_bin, "submit", "--master", c.url(), "--conf", "ember.authenticate.secret=" + secret, "--conf",
             "ember.executor.instances=2", "--conf", "ember.executor.cores=1", bin_dir + "/cluster_probe", "alloc", "4",
             "1", go.string()},
            o};
  auto line = app.line(std::chrono::seconds{60});
  REQUIRE(line);
  CHECK(*line == "count 4");
  CHECK(proc_file(std::to_string(app.pid), "cmdline").find(secret) == std::string::npos);  // the exec'd driver
  CHECK(proc_file(std::to_string(app.pid), "environ").find(secret) == std::string::npos);
  write_file(go, "");
  CHECK(app.wait() == 0);
  // Every file the cluster and the application wrote: logs, event logs, recovery files, work dirs.
  int files = 0;
  // find(1), not a directory iterator: the worker may still be removing the application's
  // executor dirs, and find goes on past an entry that vanishes under it.
  auto listing = sh("{ find '" + root.string() + "' -type f 2>/dev/null; true; }", root);
  std::istringstream paths{listing.out};
  for (std::string path; std::getline(paths, path);) {
    if (path == (root / "secret").string())
      continue;
    ++files;
    INFO(path);
    CHECK(slurp(path).find(secret) == std::string::npos);
  }
  CHECK(files > 10);
  CHECK(fs::exists(root / "recovery"));
}
