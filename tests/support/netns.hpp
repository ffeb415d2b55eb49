// Several "hosts" on one machine for multi-host integration tests: one network namespace per host,
// each with its own address on a bridge in the root namespace, where the test (driver and master)
// sits at .254. Processes run in a host with `ip netns exec`. Everything is named after the test
// process's pid (emb<pid>-<i>, eb<pid>), removed by the destructor even when the test fails, and a
// run that was killed before its destructor ran is cleaned up by the next one (its pid is dead).
//
//     root ns: bridge eb<pid> 10.77.K.254/24 ── veth ── ns emb<pid>-1: 10.77.K.1/24 (h1)
//                                            ├─ veth ── ns emb<pid>-2: 10.77.K.2/24 (h2)
//                                            └─ veth ── ns emb<pid>-3: 10.77.K.3/24 (h3)
#pragma once

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/cluster.hpp"

namespace ember_test {

// Runs a command line, quietly; true on exit code 0.
inline bool netns_run(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0; }

inline std::string netns_output(const std::string& cmd) {
  std::string out;
  if (FILE* p = ::popen((cmd + " 2>/dev/null").c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0)
      out.append(buf, n);
    ::pclose(p);
  }
  return out;
}

// Why network namespaces cannot be used here, or nullopt if they can.
inline std::optional<std::string> netns_unavailable() {
  if (::geteuid() != 0)
    return "the three-host locality tests need root (ip netns, veth, bridge): run them as root, as CI does";
  if (!netns_run("ip -V"))
    return "the three-host locality tests need the `ip` command (iproute2)";
  auto probe = "embprobe" + std::to_string(::getpid());
  if (!netns_run("ip netns add " + probe))
    return "`ip netns add` failed: network namespaces are not available on this machine";
  netns_run("ip netns del " + probe);
  return std::nullopt;
}

class netns_hosts {
public:
  explicit netns_hosts(int hosts) : id_(std::to_string(::getpid())) {
    remove_stale();
    subnet_ = "10.77." + std::to_string(::getpid() % 250 + 1);
    bridge_ = "eb" + id_;
    ok_ = step("ip link add " + bridge_ + " type bridge") && step("ip addr add " + root_address() + "/24 dev " + bridge_)
          && step("ip link set " + bridge_ + " up");
    for (int i = 1; ok_ && i <= hosts; ++i) {
      auto ns = ns_name(i);
      auto outside = "ev" + id_ + "-" + std::to_string(i), inside = "en" + id_ + "-" + std::to_string(i);
      ok_ = step("ip netns add " + ns) && (namespaces_.push_back(ns), true)
            && step("ip link add " + outside + " type veth peer name " + inside)
            && step("ip link set " + outside + " master " + bridge_) && step("ip link set " + outside + " up")
            && step("ip link set " + inside + " netns " + ns)
            && step("ip -n " + ns + " addr add " + address(i) + "/24 dev " + inside)
            && step("ip -n " + ns + " link set " + inside + " up") && step("ip -n " + ns + " link set lo up");
    }
  }
  ~netns_hosts() { remove(); }
  netns_hosts(const netns_hosts&) = delete;
  netns_hosts& operator=(const netns_hosts&) = delete;

  // False if a setup step failed: `error()` names it.
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }

  std::string ns_name(int i) const { return "emb" + id_ + "-" + std::to_string(i); }
  std::string address(int i) const { return subnet_ + "." + std::to_string(i); }
  std::string root_address() const { return subnet_ + ".254"; }

  // argv running `argv` in host i. With `bind` = {source, target}: the process (and its children)
  // sees `source` mounted on `target`, which nobody outside that host sees (`ip netns exec` gives
  // the command a mount namespace of its own): a host-only directory on a shared filesystem.
  std::vector<std::string> in_host(int i, const std::vector<std::string>& argv,
                                   const std::vector<std::pair<std::string, std::string>>& binds = {}) const {
    std::vector<std::string> out{ip_path(), "netns", "exec", ns_name(i)};
    if (binds.empty()) {
      out.insert(out.end(), argv.begin(), argv.end());
      return out;
    }
    std::string script;
    for (auto& [from, to] : binds)
      script += "mount --bind '" + from + "' '" + to + "' && ";
    script += "exec \"$@\"";
    out.insert(out.end(), {"/bin/sh", "-c", script, "sh"});
    out.insert(out.end(), argv.begin(), argv.end());
    return out;
  }

private:
  static std::string ip_path() {
    for (auto p : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"})
      if (::access(p, X_OK) == 0)
        return p;
    return "ip";
  }

  bool step(const std::string& cmd) {
    if (netns_run(cmd))
      return true;
    error_ = "network setup failed: " + cmd;
    return false;
  }

  // Processes left in a namespace are killed before it goes (else they keep running unreachable).
  static void kill_in(const std::string& ns) {
    std::istringstream pids{netns_output("ip netns pids " + ns)};
    for (int pid; pids >> pid;)
      ::kill(pid, SIGKILL);
  }

  void remove() {
    for (auto& ns : namespaces_) {
      kill_in(ns);
      netns_run("ip netns del " + ns); // its veth end goes with it, and the peer with that
    }
    namespaces_.clear();
    netns_run("ip link del " + bridge_);
  }

  // Namespaces and bridges of earlier runs whose process is gone (killed before its destructor).
  static void remove_stale() {
    auto dead = [](const std::string& pid) { return ::kill(std::stoi(pid), 0) != 0 && errno == ESRCH; };
    std::regex ns_re{R"(^emb(\d+)-\d+)"}, br_re{R"(^\d+: eb(\d+)[:@])"};
    std::istringstream nss{netns_output("ip netns list")};
    for (std::string line; std::getline(nss, line);) {
      std::smatch m;
      if (std::regex_search(line, m, ns_re) && dead(m[1])) {
        auto ns = line.substr(0, line.find(' '));
        kill_in(ns);
        netns_run("ip netns del " + ns);
      }
    }
    std::istringstream links{netns_output("ip -o link show type bridge")};
    for (std::string line; std::getline(links, line);) {
      std::smatch m;
      if (std::regex_search(line, m, br_re) && dead(m[1]))
        netns_run("ip link del eb" + m[1].str());
    }
  }

  std::string id_, subnet_, bridge_;
  std::vector<std::string> namespaces_;
  bool ok_ = false;
  std::string error_;
};

// A master in the root namespace on the bridge and one worker per host, each in its namespace.
struct netns_worker {
  int cores = 2;
  std::vector<std::string> data_dirs;                           // --data-dir
  std::vector<std::pair<std::string, std::string>> binds;       // host-only mounts (netns_hosts::in_host)
};

class netns_cluster {
public:
  netns_cluster(const std::filesystem::path& dir, netns_hosts& hosts, const std::vector<netns_worker>& workers)
    : dir_(dir), hosts_(hosts) {
    port_ = free_port();
    url_ = "ember://" + hosts.root_address() + ":" + std::to_string(port_);
    master_ = std::make_unique<child>(std::vector<std::string>{bin_dir + "/ember", "master", "--host", hosts.root_address(),
                                                               "--port", std::to_string(port_)},
                                      dir / "master.log");
    REQUIRE_MESSAGE(eventually([&] { return slurp(dir / "master.log").find("listening on") != std::string::npos; }),
                    slurp(dir / "master.log"));
    for (size_t i = 0; i < workers.size(); ++i) {
      int h = static_cast<int>(i) + 1;
      auto name = "worker-h" + std::to_string(h);
      std::vector<std::string> argv{bin_dir + "/ember", "worker", url_, "--host", hosts.address(h), "--cores",
                                    std::to_string(workers[i].cores), "--memory", "2g", "--work-dir",
                                    (dir / name).string()};
      for (auto& d : workers[i].data_dirs) {
        argv.push_back("--data-dir");
        argv.push_back(d);
      }
      workers_.push_back(std::make_unique<child>(hosts.in_host(h, argv, workers[i].binds), dir / (name + ".log")));
    }
    REQUIRE_MESSAGE(eventually([&] { return state().value("aliveWorkers", 0) == static_cast<int>(workers.size()); }),
                    (state().dump() + "\n" + slurp(dir / "worker-h1.log") + slurp(dir / "master.log")));
  }
  ~netns_cluster() {
    for (auto& w : workers_)
      w->stop();
    master_->stop();
  }

  const std::string& url() const { return url_; }

  nlohmann::json state() const { return master_state(url_, dir_ / "status.json"); }

private:
  std::filesystem::path dir_;
  netns_hosts& hosts_;
  int port_ = 0;
  std::string url_;
  std::unique_ptr<child> master_;
  std::vector<std::unique_ptr<child>> workers_;
};

} // namespace ember_test
