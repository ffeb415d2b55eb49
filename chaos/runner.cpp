#include "chaos/runner.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "chaos/events.hpp"

namespace ember::chaos {

namespace {

namespace fs = std::filesystem;
using steady = std::chrono::steady_clock;

constexpr const char* marker_var = "EMBER_CHAOS_RUN";
// How often the run loop looks at the event log and the processes. A poll interval, not a
// synchronisation: every wait below is for a condition, bounded by a deadline.
constexpr auto poll_interval = std::chrono::milliseconds{10};
// How often a cluster-mode driver's state is asked of the master (`ember status`, a process).
constexpr auto status_interval = std::chrono::milliseconds{250};

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
    .count();
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string tail(const std::string& s, size_t n) { return s.size() <= n ? s : "..." + s.substr(s.size() - n); }

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

// "{dir}" in a configuration value stands for the scenario's temp dir (e.g. a recovery directory).
std::string expand(std::string v, const std::string& dir) {
  for (auto at = v.find("{dir}"); at != std::string::npos; at = v.find("{dir}", at + dir.size()))
    v.replace(at, 5, dir);
  return v;
}

int exit_code_of(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

// -- processes ----------------------------------------------------------------------------------

// A process the harness started, in its own process group, carrying the run's marker variable
// (inherited by everything it starts: the worker's executors too), output in files.
struct proc {
  std::string name;
  std::vector<std::string> argv;
  fs::path out, err;
  pid_t pid = -1;
  std::optional<int> status;  // set once reaped

  bool alive() const { return pid > 0 && !status; }
};

class process_table {
public:
  explicit process_table(std::string marker) : marker_(std::move(marker)) {
    // Orphans of the run (executors of a killed worker) are reparented to us and reaped here,
    // instead of lingering as zombies nobody collects.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  }

  // `netns`: the name of a network namespace (ip netns) the process runs in; empty = ours.
  proc& start(const std::string& name, std::vector<std::string> argv, const fs::path& out, const fs::path& err,
              const fs::path& cwd, const std::string& netns = "") {
    auto p = std::make_unique<proc>();
    p->name = name;
    p->argv = std::move(argv);
    p->out = out;
    p->err = err;
    std::vector<char*> args;
    for (auto& a : p->argv)
      args.push_back(a.data());
    args.push_back(nullptr);
    auto ns_path = netns.empty() ? std::string{} : "/var/run/netns/" + netns; // no allocation after fork
    pid_t pid = ::fork();
    if (pid == 0) {
      ::setpgid(0, 0);
      int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int e = out == err ? o : ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int in = ::open("/dev/null", O_RDONLY);
      if (o < 0 || e < 0 || in < 0 || ::chdir(cwd.c_str()) != 0)
        std::_Exit(126);
      ::dup2(in, 0);
      ::dup2(o, 1);
      ::dup2(e, 2);
      // If the harness dies (kill -9), what it started dies too; a worker's executors follow it.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (!ns_path.empty()) {
        int ns = ::open(ns_path.c_str(), O_RDONLY | O_CLOEXEC);
        if (ns < 0 || ::setns(ns, CLONE_NEWNET) != 0)
          std::_Exit(125);
        ::close(ns);
      }
      ::setenv(marker_var, marker_.c_str(), 1);
      ::execv(args[0], args.data());
      std::_Exit(127);
    }
    if (pid > 0)
      ::setpgid(pid, pid);  // also here: no race with a signal sent right after start
    p->pid = pid;
    if (pid < 0)
      p->status = 127 << 8;
    procs_.push_back(std::move(p));
    return *procs_.back();
  }

  // Collects every ended child (ours, and orphans handed to us as subreaper).
  void reap() {
    int status = 0;
    for (pid_t pid; (pid = ::waitpid(-1, &status, WNOHANG)) > 0;)
      for (auto& p : procs_)
        if (p->pid == pid && !p->status)
          p->status = status;
  }

  // Waits for p to end, up to `limit`; true when it did.
  bool wait(proc& p, std::chrono::milliseconds limit) {
    auto deadline = steady::now() + limit;
    for (;;) {
      reap();
      if (!p.alive())
        return true;
      if (steady::now() >= deadline)
        return false;
      std::this_thread::sleep_for(poll_interval);
    }
  }

  // Runs a program to its end (bounded by `limit`): its exit code, -1 if it had to be killed.
  int run(const std::string& name, std::vector<std::string> argv, const fs::path& out, const fs::path& err,
          const fs::path& cwd, std::chrono::milliseconds limit) {
    auto& p = start(name, std::move(argv), out, err, cwd);
    if (!wait(p, limit)) {
      ::kill(-p.pid, SIGKILL);
      wait(p, std::chrono::seconds{10});
      return -1;
    }
    return exit_code_of(*p.status);
  }

private:
  std::string marker_;
  std::vector<std::unique_ptr<proc>> procs_;
};

// A live process of this run found in /proc: its pid and command line (NULs as spaces).
struct found_process {
  pid_t pid;
  std::vector<std::string> args;
  std::string line() const {
    std::string s = "pid " + std::to_string(pid) + ":";
    for (auto& a : args)
      s += " " + a;
    return s.size() > 200 ? s.substr(0, 200) + "..." : s;
  }
};

std::vector<std::string> split_nul(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i)
    if (s[i] == '\0') {
      out.emplace_back(s, start, i - start);
      start = i + 1;
    }
  if (start < s.size())
    out.emplace_back(s, start);
  return out;
}

// Every process (not a zombie) whose environment carries the run's marker.
std::vector<found_process> marked_processes(const std::string& marker) {
  std::vector<found_process> out;
  auto want = std::string(marker_var) + "=" + marker;
  DIR* d = ::opendir("/proc");
  if (!d)
    return out;
  while (auto* ent = ::readdir(d)) {
    char* end = nullptr;
    long pid = std::strtol(ent->d_name, &end, 10);
    if (pid <= 0 || *end != '\0' || pid == ::getpid())
      continue;
    auto base = fs::path("/proc") / ent->d_name;
    auto stat = slurp(base / "stat");
    auto paren = stat.rfind(')');
    if (paren == std::string::npos || paren + 2 >= stat.size() || stat[paren + 2] == 'Z' || stat[paren + 2] == 'X')
      continue;
    auto env = split_nul(slurp(base / "environ"));
    if (std::find(env.begin(), env.end(), want) == env.end())
      continue;
    out.push_back({static_cast<pid_t>(pid), split_nul(slurp(base / "cmdline"))});
  }
  ::closedir(d);
  return out;
}

bool has_args(const found_process& p, const std::string& a, const std::string& b) {
  for (size_t i = 0; i + 1 < p.args.size(); ++i)
    if (p.args[i] == a && p.args[i + 1] == b)
      return true;
  return false;
}

bool is_executor(const found_process& p) {
  return std::find(p.args.begin(), p.args.end(), "--ember-executor") != p.args.end();
}

std::vector<std::string> files_under(const fs::path& root) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::exists(root, ec))
    return out;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec))
    if (!it->is_directory(ec))
      out.push_back(it->path().string());
  std::sort(out.begin(), out.end());
  return out;
}

// -- hosts in network namespaces -------------------------------------------------------------------

// The first of these that exists: ip and tc live in /usr/sbin on Debian 12, /sbin on older ones.
std::string system_tool(const std::string& name) {
  for (auto dir : {"/usr/sbin/", "/sbin/", "/usr/bin/", "/bin/"})
    if (::access((dir + name).c_str(), X_OK) == 0)
      return dir + name;
  return name;
}

// Workers on hosts of their own: namespace i has address 10.A.B.(i+1)/24 on eth0, a veth whose
// other end is on a bridge holding 10.A.B.254 in the harness's namespace, where the master and
// the driver listen. A/B come from the harness's pid and a counter, so concurrent runs do not
// collide. Partitioning a host sets its bridge-side link down: packets vanish without a reset, as
// when a cable is pulled, so only heartbeats and timeouts can tell.
class host_network {
public:
  using runner = std::function<void(const std::vector<std::string>&)>;

  host_network(int hosts, runner run) : run_(std::move(run)) {
    static std::atomic<int> counter{0};
    int id = static_cast<int>(::getpid() % 10000) * 10 + counter++ % 10;
    tag_ = std::to_string(id);
    subnet_ = "10." + std::to_string(200 + id % 50) + "." + std::to_string(id / 50 % 250) + ".";
    bridge_ = "ecb" + tag_;
    ip_ = system_tool("ip");
    try {
      build_(hosts);
    } catch (...) {
      teardown_(); // a constructor that throws gets no destructor call
      throw;
    }
  }

  ~host_network() { teardown_(); }

  host_network(const host_network&) = delete;
  host_network& operator=(const host_network&) = delete;

  std::string address() const { return subnet_ + "254"; }
  std::string address(int i) const { return subnet_ + std::to_string(i + 1); }
  std::string netns(int i) const { return "ember-chaos-" + tag_ + "-" + std::to_string(i); }

  void partition(int i) { run_({ip_, "link", "set", link(i), "down"}); }
  void heal(int i) { run_({ip_, "link", "set", link(i), "up"}); }

  // Delay and loss on both directions of host i's link.
  void netem(int i, int delay_ms, double loss_percent) {
    std::ostringstream loss;
    loss << loss_percent << "%";
    std::vector<std::string> qdisc{"root", "netem", "delay", std::to_string(delay_ms) + "ms", "loss", loss.str()};
    auto tc = system_tool("tc");
    std::vector<std::string> ours{tc, "qdisc", "replace", "dev", link(i)};
    ours.insert(ours.end(), qdisc.begin(), qdisc.end());
    run_(ours);
    std::vector<std::string> theirs{ip_, "netns", "exec", netns(i), tc, "qdisc", "replace", "dev", "eth0"};
    theirs.insert(theirs.end(), qdisc.begin(), qdisc.end());
    run_(theirs);
  }

private:
  void build_(int hosts) {
    run_({ip_, "link", "add", bridge_, "type", "bridge"});
    created_bridge_ = true;
    run_({ip_, "addr", "add", address() + "/24", "dev", bridge_});
    run_({ip_, "link", "set", bridge_, "up"});
    for (int i = 0; i < hosts; ++i) {
      auto ns = netns(i);
      run_({ip_, "netns", "add", ns});
      namespaces_.push_back(ns);
      run_({ip_, "link", "add", link(i), "type", "veth", "peer", "name", "ecn" + tag_ + "h" + std::to_string(i)});
      run_({ip_, "link", "set", "ecn" + tag_ + "h" + std::to_string(i), "netns", ns, "name", "eth0"});
      run_({ip_, "link", "set", link(i), "master", bridge_, "up"});
      run_({ip_, "-n", ns, "addr", "add", address(i) + "/24", "dev", "eth0"});
      run_({ip_, "-n", ns, "link", "set", "eth0", "up"});
      run_({ip_, "-n", ns, "link", "set", "lo", "up"});
    }
  }

  void teardown_() {
    // Deleting a namespace deletes its end of the veth, and with it ours.
    for (auto& ns : namespaces_)
      quietly({ip_, "netns", "del", ns});
    namespaces_.clear();
    if (created_bridge_)
      quietly({ip_, "link", "del", bridge_});
    created_bridge_ = false;
  }

  std::string link(int i) const { return "ecb" + tag_ + "h" + std::to_string(i); }

  void quietly(const std::vector<std::string>& argv) {
    try {
      run_(argv);
    } catch (const std::exception&) {
      // teardown of something already gone
    }
  }

  runner run_;
  std::string tag_, subnet_, bridge_, ip_;
  bool created_bridge_ = false;
  std::vector<std::string> namespaces_;
};

// -- one run ----------------------------------------------------------------------------------------

class scenario_run {
public:
  scenario_run(const scenario& s, const runner_options& o, fs::path dir)
    : s_(s), o_(o), dir_(std::move(dir)), marker_(dir_.string()), procs_(marker_),
      seed_(o.seed ? *o.seed : s.seed), engine_(triggers_of(s)) {
    for (auto& f : s.faults) {
      fault_record r;
      r.name = f.name;
      r.what = describe(f.when) + " -> " + describe(f.act);
      records_.push_back(std::move(r));
    }
  }

  scenario_result run() {
    auto start = steady::now();
    scenario_result r;
    r.name = s_.name;
    r.file = s_.file;
    r.expect_success = s_.expect.success;
    r.seed = seed_;
    r.work_dir = dir_.string();
    try {
      prepare();
      start_cluster();
      run_job();
    } catch (const std::exception& e) {
      facts_.setup_error = e.what();
    }
    shut_down();
    if (s_.cluster.secure)  // the next scenario may not be secured
      restore_conf_dir();
    time_faults(records_, seen_);
    r.seen = seen_;
    r.faults = records_;
    r.facts = facts_;
    r.outcome = judge(s_, seen_, records_, facts_);
    r.seconds = std::chrono::duration<double>(steady::now() - start).count();
    return r;
  }

private:
  static std::vector<trigger> triggers_of(const scenario& s) {
    std::vector<trigger> t;
    for (auto& f : s.faults)
      t.push_back(f.when);
    return t;
  }

  void say(const std::string& line) {
    if (o_.progress)
      *o_.progress << "  [" << s_.name << "] " << line << std::endl;
  }

  std::string bin(const std::string& name) const { return (fs::path(o_.bin_dir) / name).string(); }
  fs::path log(const std::string& name) const { return dir_ / "logs" / name; }

  bool sorting() const { return s_.job.app == "terasort"; }

  // cluster.secure: a secret file and a configuration turning authentication on, read through
  // EMBER_CONF_DIR by every process the run starts (this one's children inherit it).
  void secure_cluster() {
    auto conf = dir_ / "conf";
    fs::create_directories(conf);
    fs::permissions(conf, fs::perms::owner_all);
    std::random_device rd;
    std::string secret;
    for (int i = 0; i < 32; ++i)
      secret += "0123456789abcdef"[rd() % 16];
    auto secret_file = conf / "secret";
    int fd = ::open(secret_file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 || ::write(fd, secret.data(), secret.size()) != static_cast<ssize_t>(secret.size()))
      throw std::runtime_error("cannot write the secret file " + secret_file.string());
    ::close(fd);
    std::string defaults;
    if (const char* old = std::getenv("EMBER_CONF_DIR")) {
      saved_conf_dir_ = old;
      defaults = slurp(fs::path{old} / "ember-defaults.conf");
    }
    std::ofstream{conf / "ember-defaults.conf"} << defaults << "\nember.authenticate true\n"
                                                 << "ember.authenticate.secret.file " << secret_file.string() << '\n';
    ::setenv("EMBER_CONF_DIR", conf.c_str(), 1);
    say("secured: ember.authenticate with " + secret_file.string());
  }

  void restore_conf_dir() {
    if (saved_conf_dir_)
      ::setenv("EMBER_CONF_DIR", saved_conf_dir_->c_str(), 1);
    else
      ::unsetenv("EMBER_CONF_DIR");
  }

  // Input files from bench/gen_records and the reference from bench/baseline_sort: the input
  // sorted by std::sort in one process, no Ember code involved.
  void prepare_records() {
    auto all = dir_ / "all-input.txt";
    std::ofstream cat(all, std::ios::binary);
    for (int i = 0; i < s_.job.input.files; ++i) {
      auto file = (dir_ / "input" / ("part-" + std::to_string(i) + ".txt")).string();
      auto count = std::max<std::int64_t>(1, s_.job.input.bytes / 100); // 100-byte records
      int rc = procs_.run("gen_records",
                          {bin("gen_records"), "--count", std::to_string(count), "--seed",
                           std::to_string(seed_ * 1000 + i), file},
                          log("gen_records.out"), log("gen_records.err"), dir_, std::chrono::minutes{5});
      if (rc != 0)
        throw std::runtime_error("gen_records failed (exit " + std::to_string(rc) + "): " + slurp(log("gen_records.err")));
      inputs_.push_back(file);
      cat << slurp(file);
    }
    cat.close();
    int rc = procs_.run("baseline_sort", {bin("baseline_sort"), all.string(), (dir_ / "reference.txt").string()},
                        log("reference.out"), log("reference.err"), dir_, std::chrono::minutes{5});
    if (rc != 0)
      throw std::runtime_error("baseline_sort failed (exit " + std::to_string(rc) + ")");
    fs::remove(all);
    say("input " + std::to_string(s_.job.input.files) + " x " + std::to_string(s_.job.input.bytes / 100)
        + " records, reference ready");
  }

  // Input files from bench/gen_text and the reference from bench/baseline_wordcount --dump: an
  // independent single-threaded count, no Ember code involved.
  void prepare() {
    for (auto sub : {"logs", "input", "events", "local", "work"})
      fs::create_directories(dir_ / sub);
    if (s_.cluster.secure)
      secure_cluster();
    if (sorting())
      return prepare_records();
    for (int i = 0; i < s_.job.input.files; ++i) {
      auto file = (dir_ / "input" / ("part-" + std::to_string(i) + ".txt")).string();
      int rc = procs_.run("gen_text",
                          {bin("gen_text"), "--bytes", std::to_string(s_.job.input.bytes), "--vocab",
                           std::to_string(s_.job.input.vocab), "--seed", std::to_string(seed_ * 1000 + i), "--cover",
                           "1", file},
                          log("gen_text.out"), log("gen_text.err"), dir_, std::chrono::minutes{5});
      if (rc != 0)
        throw std::runtime_error("gen_text failed (exit " + std::to_string(rc) + "): " + slurp(log("gen_text.err")));
      inputs_.push_back(file);
    }
    std::vector<std::string> argv{bin("baseline_wordcount"), "--dump", (dir_ / "reference.txt").string()};
    argv.insert(argv.end(), inputs_.begin(), inputs_.end());
    int rc = procs_.run("baseline_wordcount", argv, log("reference.out"), log("reference.err"), dir_,
                        std::chrono::minutes{5});
    if (rc != 0)
      throw std::runtime_error("baseline_wordcount failed (exit " + std::to_string(rc) + ")");
    say("input " + std::to_string(s_.job.input.files) + " x " + std::to_string(s_.job.input.bytes)
        + " bytes, reference ready");
  }

  std::vector<std::string> conf_args(const std::map<std::string, std::string>& conf) const {
    std::vector<std::string> out;
    for (auto& [k, v] : conf) {
      out.push_back("--conf");
      out.push_back(k + "=" + expand(v, dir_.string()));
    }
    return out;
  }

  proc& start_master(const std::string& log_name) {
    std::vector<std::string> argv{bin("ember")};
    auto c = conf_args(s_.cluster.master_conf);
    argv.insert(argv.end(), c.begin(), c.end());
    argv.insert(argv.end(), {"master", "--host", host_, "--port", std::to_string(port_)});
    auto& m = procs_.start("master", argv, log(log_name), log(log_name), dir_);
    auto deadline = steady::now() + std::chrono::seconds{30};
    while (slurp(log(log_name)).find("listening on") == std::string::npos) {
      procs_.reap();
      if (!m.alive() || steady::now() > deadline)
        throw std::runtime_error("the master did not start: " + tail(slurp(log(log_name)), 400));
      std::this_thread::sleep_for(poll_interval);
    }
    return m;
  }

  // `all`: finished applications and drivers too.
  nlohmann::json status(bool all = false) {
    std::vector<std::string> argv{bin("ember"), "status", "--master", url_, "--json"};
    if (all)
      argv.push_back("--all");
    int rc = procs_.run("status", argv, log("status.json"), log("status.err"), dir_, std::chrono::seconds{30});
    if (rc != 0)
      return nlohmann::json::object();
    auto j = nlohmann::json::parse(slurp(log("status.json")), nullptr, false);
    return j.is_discarded() ? nlohmann::json::object() : j;
  }

  void check_interrupted() const {
    if (o_.interrupted && o_.interrupted->load())
      throw std::runtime_error("interrupted");
  }

  // Runs ip / tc; a failure names the command and what it said.
  void net_command(const std::vector<std::string>& argv) {
    int rc = procs_.run("net", argv, log("net.out"), log("net.err"), dir_, std::chrono::seconds{30});
    if (rc != 0) {
      std::string cmd;
      for (auto& a : argv)
        cmd += (cmd.empty() ? "" : " ") + a;
      throw std::runtime_error("'" + cmd + "' failed (exit " + std::to_string(rc) + "): " + tail(slurp(log("net.err")), 300));
    }
  }

  fs::path local_dir(int worker) const { return dir_ / "local" / ("worker-" + std::to_string(worker)); }

  void start_cluster() {
    check_interrupted();
    if (s_.cluster.netns) {
      if (::geteuid() != 0)
        throw std::runtime_error("cluster.hosts \"netns\" needs root (network namespaces)");
      net_ = std::make_unique<host_network>(s_.cluster.workers,
                                            [this](const std::vector<std::string>& argv) { net_command(argv); });
      say("hosts: workers on " + net_->address(0) + ".." + net_->address(s_.cluster.workers - 1) + ", master on "
          + net_->address());
    }
    host_ = net_ ? net_->address() : "127.0.0.1";
    port_ = free_port();
    url_ = "ember://" + host_ + ":" + std::to_string(port_);
    master_ = &start_master("master.log");
    for (int i = 0; i < s_.cluster.workers; ++i) {
      auto name = "worker-" + std::to_string(i);
      // Each host its own local dir (ember.worker.localDir), so one can fill up alone.
      fs::create_directories(local_dir(i));
      if (!s_.cluster.local_dir_size.empty()) {
        auto opts = "size=" + s_.cluster.local_dir_size + ",mode=0755";
        if (::mount("tmpfs", local_dir(i).c_str(), "tmpfs", MS_NOSUID | MS_NODEV, opts.c_str()) != 0)
          throw std::runtime_error("cannot mount a " + s_.cluster.local_dir_size + " tmpfs on " + local_dir(i).string()
                                   + ": " + std::strerror(errno) + " (cluster.local_dir_size needs root)");
        mounts_.push_back(local_dir(i));
      }
      auto conf = s_.cluster.worker_conf;
      conf["ember.worker.localDir"] = local_dir(i).string();
      std::vector<std::string> argv{bin("ember")};
      auto c = conf_args(conf);
      argv.insert(argv.end(), c.begin(), c.end());
      argv.insert(argv.end(), {"worker", url_, "--host", net_ ? net_->address(i) : "127.0.0.1", "--cores",
                               std::to_string(s_.cluster.cores), "--memory", s_.cluster.memory, "--work-dir",
                               (dir_ / "work" / name).string()});
      workers_.push_back(
        &procs_.start(name, argv, log(name + ".log"), log(name + ".log"), dir_, net_ ? net_->netns(i) : ""));
    }
    auto deadline = steady::now() + std::chrono::seconds{30};
    for (;;) {
      auto st = status();
      if (st.value("aliveWorkers", 0) == s_.cluster.workers)
        break;
      if (steady::now() > deadline)
        throw std::runtime_error("only " + std::to_string(st.value("aliveWorkers", 0)) + " of "
                                 + std::to_string(s_.cluster.workers) + " workers registered within 30 s");
      std::this_thread::sleep_for(std::chrono::milliseconds{50});
    }
    say("cluster up at " + url_ + " with " + std::to_string(s_.cluster.workers) + " worker(s)");
  }

  std::vector<std::string> submit_argv() const {
    std::vector<std::string> argv{bin("ember"),
                                  "submit",
                                  "--master",
                                  url_,
                                  "--name",
                                  s_.name,
                                  "--num-executors",
                                  std::to_string(s_.job.executors),
                                  "--executor-cores",
                                  std::to_string(s_.job.executor_cores),
                                  "--executor-memory",
                                  s_.job.executor_memory};
    if (s_.job.cluster_mode()) {
      argv.insert(argv.end(), {"--deploy-mode", "cluster"});
      if (s_.job.supervise)
        argv.push_back("--supervise");
    }
    std::map<std::string, std::string> conf{{"ember.eventLog.enabled", "true"},
                                            {"ember.eventLog.dir", (dir_ / "events").string()},
                                            {"ember.eventLog.buffer", "0"},
                                            {"ember.local.dir", (dir_ / "local" / "driver").string()},
                                            {"ember.ui.showConsoleProgress", "false"},
                                            // injected message faults replay with the run's seed
                                            {"ember.test.faults.seed", std::to_string(seed_)}};
    if (net_)
      conf["ember.driver.host"] = net_->address();
    for (auto& [k, v] : s_.job.conf)
      conf[k] = v;
    auto c = conf_args(conf);
    argv.insert(argv.end(), c.begin(), c.end());
    argv.push_back(bin(s_.job.app));
    for (auto& a : s_.job.args)
      argv.push_back(expand(a, dir_.string()));
    if (sorting())
      argv.push_back((dir_ / "input").string()); // terasort INPUT OUTPUT_DIR: one path (a directory)
    else
      argv.insert(argv.end(), inputs_.begin(), inputs_.end());
    argv.push_back((dir_ / "output").string());
    return argv;
  }

  void run_job() {
    check_interrupted();
    auto argv = submit_argv();
    submit_ms_ = now_ms();
    if (s_.job.cluster_mode())
      run_cluster_driver(argv);
    else
      run_client_driver(argv);
    check_output();
  }

  // Client mode: `ember submit` execs the driver, our child; its exit code is the job's.
  void run_client_driver(const std::vector<std::string>& argv) {
    driver_ = &procs_.start("driver", argv, log("driver.out"), log("driver.err"), dir_);
    say("job submitted: " + s_.job.app);
    auto deadline = steady::now() + std::chrono::seconds{s_.timeout_s};
    for (;;) {
      procs_.reap();
      follow_events();
      for (auto i : engine_.on_time(now_ms() - submit_ms_))
        fire(i);
      if (!driver_->alive())
        break;
      if (o_.interrupted && o_.interrupted->load()) {
        say("interrupted: killing the driver");
        ::kill(-driver_->pid, SIGKILL);
        procs_.wait(*driver_, std::chrono::seconds{10});
        throw std::runtime_error("interrupted while the job ran");
      }
      if (steady::now() > deadline) {
        facts_.timed_out = true;
        say("timeout: killing the driver");
        ::kill(-driver_->pid, SIGKILL);
        procs_.wait(*driver_, std::chrono::seconds{10});
        break;
      }
      std::this_thread::sleep_for(poll_interval);
    }
    follow_events();  // the last lines, written as the driver ended
    facts_.exit_code = driver_->status ? exit_code_of(*driver_->status) : -1;
    facts_.driver_stderr = tail(slurp(log("driver.err")), 4000);
    say("job ended with exit code " + std::to_string(facts_.exit_code));
  }

  // A job that succeeded left a committed output: part files and _SUCCESS, nothing else (an
  // attempt's _temporary left behind, by this run or by a driver run that died, is a leftover).
  void check_output() {
    if (facts_.exit_code != 0 || facts_.timed_out)
      return;
    auto out = dir_ / "output";
    std::vector<std::string> parts, others;
    bool success = false;
    std::error_code ec;
    for (auto& e : fs::directory_iterator(out, ec)) {
      auto name = e.path().filename().string();
      if (name.rfind("part-", 0) == 0)
        parts.push_back(e.path().string());
      else if (name == "_SUCCESS")
        success = true;
      else
        others.push_back(name);
    }
    std::sort(parts.begin(), parts.end()); // part-00000, part-00001...: partition order
    std::sort(others.begin(), others.end());
    if (parts.empty())
      facts_.output_difference = "no part files in " + out.string();
    else if (!others.empty())
      facts_.output_difference = "output/" + others.front() + " is not part of a committed output";
    else if (!success)
      facts_.output_difference = "no _SUCCESS in " + out.string() + " (the output was not committed)";
    else if (sorting())
      facts_.output_difference = compare_ordered({(dir_ / "reference.txt").string()}, parts);
    else
      facts_.output_difference = compare_lines({(dir_ / "reference.txt").string()}, parts);
  }

  // -- cluster deploy mode ----------------------------------------------------------------------

  static bool terminal(const std::string& state) {
    return state == "finished" || state == "failed" || state == "killed" || state == "error";
  }

  // The master's entry for our driver (an empty object if it has none or does not answer).
  nlohmann::json driver_status() {
    auto st = status(true);
    for (auto& d : st.value("drivers", nlohmann::json::array()))
      if (d.value("driverId", "") == driver_id_)
        return d;
    return nlohmann::json::object();
  }

  // Cluster mode: `ember submit --deploy-mode cluster` returns once the master accepted the driver;
  // a worker runs it (and, supervised, runs it again when it exits non-zero). Its state comes from
  // the master, polled; each run writes an event log of its own, all followed. Ends when the master
  // reports a final state: finished, failed, killed or error.
  void run_cluster_driver(const std::vector<std::string>& argv) {
    driver_ = &procs_.start("submit", argv, log("submit.out"), log("submit.err"), dir_);
    if (!procs_.wait(*driver_, std::chrono::seconds{60})) {
      ::kill(-driver_->pid, SIGKILL);
      procs_.wait(*driver_, std::chrono::seconds{10});
      throw std::runtime_error("ember submit --deploy-mode cluster did not return within 60 s");
    }
    auto out = slurp(log("submit.out"));
    auto at = out.find("Submitted driver ");
    int rc = exit_code_of(*driver_->status);
    if (rc != 0 || at == std::string::npos)
      throw std::runtime_error("ember submit --deploy-mode cluster failed (exit " + std::to_string(rc)
                               + "): " + tail(slurp(log("submit.err")) + out, 400));
    driver_id_ = out.substr(at + 17);
    driver_id_ = driver_id_.substr(0, driver_id_.find_first_of(" \n"));
    facts_.driver_id = driver_id_;
    say("driver " + driver_id_ + " submitted in cluster mode" + (s_.job.supervise ? ", supervised" : "") + ": "
        + s_.job.app);
    auto deadline = steady::now() + std::chrono::seconds{s_.timeout_s};
    auto next_status = steady::now();
    std::string last_state;
    for (;;) {
      procs_.reap();
      follow_events();
      for (auto i : engine_.on_time(now_ms() - submit_ms_))
        fire(i);
      if (steady::now() >= next_status) {
        auto d = driver_status();
        auto state = d.value("state", "");
        if (state != last_state && !state.empty())
          say("driver " + driver_id_ + ": " + state
              + (d.value("pid", 0) > 0 && state == "running" ? " as pid " + std::to_string(d.value("pid", 0)) : ""));
        last_state = state;
        facts_.driver_restarts = d.value("restarts", facts_.driver_restarts);
        if (terminal(state)) {
          facts_.driver_state = state;
          break;
        }
        next_status = steady::now() + status_interval;
      }
      if (o_.interrupted && o_.interrupted->load()) {
        say("interrupted: killing the driver");
        kill_cluster_driver();
        throw std::runtime_error("interrupted while the job ran");
      }
      if (steady::now() > deadline) {
        facts_.timed_out = true;
        say("timeout: killing the driver");
        kill_cluster_driver();
        break;
      }
      std::this_thread::sleep_for(poll_interval);
    }
    follow_events();  // the last lines, written as the last run ended
    facts_.driver_runs = static_cast<int>(followers_.size());
    facts_.exit_code = cluster_exit_code();
    facts_.driver_stderr = tail(cluster_driver_stderr(), 4000);
    say("driver " + driver_id_ + " ended " + (facts_.driver_state.empty() ? "(state unknown)" : facts_.driver_state)
        + " with exit code " + std::to_string(facts_.exit_code) + " after " + std::to_string(facts_.driver_runs)
        + " run(s), " + std::to_string(facts_.driver_restarts) + " relaunch(es)");
  }

  // The last run's exit code, from its worker's log ("driver ID ended with exit code N" or
  // "... signal N"): 128 + signal when killed; -1 when no worker logged an end.
  int cluster_exit_code() const {
    auto needle = "driver " + driver_id_ + " ended with ";
    int code = -1;
    for (int i = 0; i < s_.cluster.workers; ++i) {
      auto text = slurp(log("worker-" + std::to_string(i) + ".log"));
      auto at = text.rfind(needle);
      if (at == std::string::npos)
        continue;
      auto rest = text.substr(at + needle.size(), 40);
      if (rest.rfind("exit code ", 0) == 0)
        code = std::atoi(rest.c_str() + 10);
      else if (rest.rfind("signal ", 0) == 0)
        code = 128 + std::atoi(rest.c_str() + 7);
    }
    return code;
  }

  // The driver's stderr: <worker work dir>/<driver id>/stderr, on the worker that ran it.
  std::string cluster_driver_stderr() const {
    std::string out;
    for (int i = 0; i < s_.cluster.workers; ++i) {
      auto p = dir_ / "work" / ("worker-" + std::to_string(i)) / driver_id_ / "stderr";
      std::error_code ec;
      if (fs::exists(p, ec))
        out += slurp(p);
    }
    return out;
  }

  // `ember submit --kill`: the worker kills the driver and does not relaunch it. Waits (bounded)
  // for the master to report a final state.
  void kill_cluster_driver() {
    if (driver_id_.empty() || terminal(facts_.driver_state))
      return;
    procs_.run("kill", {bin("ember"), "submit", "--master", url_, "--kill", driver_id_}, log("kill.out"),
               log("kill.err"), dir_, std::chrono::seconds{30});
    auto deadline = steady::now() + std::chrono::seconds{30};
    while (steady::now() < deadline) {
      auto state = driver_status().value("state", "");
      if (terminal(state)) {
        facts_.driver_state = state;
        return;
      }
      std::this_thread::sleep_for(status_interval);
    }
  }

  // Every driver run writes an event log of its own (a client-mode driver: one; a supervised
  // cluster-mode driver: one more per relaunch), renamed once the master names the application
  // (the open descriptor follows the file, so a log is known by its inode). Runs are numbered in
  // the order their logs appear; the triggers read the first run's events only, the counts of the
  // verdict all of them.
  void follow_events() {
    std::vector<fs::path> found;
    std::error_code ec;
    for (auto& e : fs::directory_iterator(dir_ / "events", ec))
      if (e.path().extension() == ".jsonl")
        found.push_back(e.path());
    std::sort(found.begin(), found.end());
    auto known = [&](std::uint64_t inode) {
      return std::any_of(followers_.begin(), followers_.end(), [&](auto& f) { return f->inode() == inode; });
    };
    for (auto& path : found) {
      struct stat st {};
      if (::stat(path.c_str(), &st) != 0 || known(static_cast<std::uint64_t>(st.st_ino)))
        continue;
      auto f = std::make_unique<log_follower>(path.string());
      auto lines = f->poll();
      // Renamed between the scan and the open: found under its new name next time.
      if (!f->is_open() || known(f->inode()))
        continue;
      followers_.push_back(std::move(f));
      if (followers_.size() > 1)
        say("driver run " + std::to_string(followers_.size()) + ": event log " + path.filename().string());
      feed(followers_.size() - 1, lines);
    }
    for (size_t run = 0; run < followers_.size(); ++run)
      feed(run, followers_[run]->poll());
  }

  void feed(size_t run, const std::vector<std::string>& lines) {
    for (auto& line : lines) {
      auto e = parse_event(line);
      if (!e)
        continue;
      seen_.add(*e);
      if (run == 0)
        for (auto i : engine_.on_event(*e))
          fire(i);
    }
  }

  // The executor process with this id, found by its command line among the run's processes.
  std::optional<found_process> executor_process(const std::string& id) {
    for (auto& p : marked_processes(marker_))
      if (is_executor(p) && has_args(p, "--ember-executor-id", id))
        return p;
    return std::nullopt;
  }

  void fire(size_t i) {
    auto& f = s_.faults[i];
    auto& rec = records_[i];
    rec.fired = true;
    rec.fired_ms = now_ms();
    rec.detectable = ((f.act.what == action::kind::kill_executor || f.act.what == action::kind::kill_worker)
                      && f.act.signal != SIGCONT)
                     || f.act.what == action::kind::partition_host;
    try {
      rec.target = inject(f.act);
      say("fault '" + f.name + "' (" + rec.what + "): " + rec.target);
    } catch (const std::exception& e) {
      rec.error = e.what();
      say("fault '" + f.name + "' failed: " + rec.error);
    }
  }

  std::string signal_process(pid_t pid, int sig, const std::string& who) {
    if (::kill(pid, sig) != 0)
      throw std::runtime_error("kill " + who + " (pid " + std::to_string(pid) + "): " + std::strerror(errno));
    if (sig == SIGSTOP)
      stopped_.push_back(pid);
    return who + " (pid " + std::to_string(pid) + ")";
  }

  std::string inject(const action& a) {
    switch (a.what) {
      case action::kind::kill_executor: {
        std::string id;
        if (a.executor) {
          id = *a.executor;
        } else if (a.running_stage) {
          auto ids = engine_.executors_running(*a.running_stage);
          if (ids.empty())
            throw std::runtime_error("no executor runs a task of stage " + std::to_string(*a.running_stage));
          id = ids[seed_ % ids.size()];
        } else if (a.not_fetching) {
          auto ids = engine_.executors_other_than(engine_.last_fetching());
          if (ids.empty())
            throw std::runtime_error("no executor other than the fetching one (" + engine_.last_fetching() + ") is alive");
          id = ids[seed_ % ids.size()];
        } else {
          id = engine_.last_removed();
        }
        auto p = executor_process(id);
        if (!p)
          throw std::runtime_error("no process of executor " + id + " is running");
        return signal_process(p->pid, a.signal, "executor " + id);
      }
      case action::kind::kill_worker: {
        auto& w = *workers_.at(static_cast<size_t>(a.worker));
        if (!w.alive())
          throw std::runtime_error("worker " + std::to_string(a.worker) + " already ended");
        if (a.signal == SIGKILL)
          killed_workers_.push_back(static_cast<size_t>(a.worker));
        return signal_process(w.pid, a.signal, "worker " + std::to_string(a.worker));
      }
      case action::kind::kill_master: {
        auto target = signal_process(master_->pid, a.signal, "master");
        if (a.restart) {
          if (!procs_.wait(*master_, std::chrono::seconds{10}))
            throw std::runtime_error("the master did not end after SIG" + signal_name(a.signal));
          master_ = &start_master("master-" + std::to_string(++master_restarts_) + ".log");
          target += ", restarted as pid " + std::to_string(master_->pid) + " on port " + std::to_string(port_);
        }
        return target;
      }
      case action::kind::kill_driver: {
        if (!s_.job.cluster_mode())
          return signal_process(driver_->pid, a.signal, "driver");
        // The pid the worker reported to the master, checked to be a process of this run (a
        // driver that already ended may have left a reused pid behind).
        auto d = driver_status();
        auto state = d.value("state", "");
        auto pid = static_cast<pid_t>(d.value("pid", 0));
        if (state != "running" || pid <= 0)
          throw std::runtime_error("driver " + driver_id_ + " is " + (state.empty() ? "unknown to the master" : state)
                                   + ": no process to signal");
        auto ours = marked_processes(marker_);
        if (std::none_of(ours.begin(), ours.end(), [&](auto& p) { return p.pid == pid && !is_executor(p); }))
          throw std::runtime_error("driver " + driver_id_ + ": pid " + std::to_string(pid)
                                   + " from the master is not a driver process of this run");
        return signal_process(pid, a.signal,
                              "driver " + driver_id_ + " run " + std::to_string(followers_.size()) + " on "
                                + d.value("workerId", std::string{"?"}));
      }
      case action::kind::corrupt_shuffle:
      case action::kind::delete_shuffle: {
        auto files = files_under(dir_ / "local");
        for (auto& task : engine_.finished_tasks(a.stage)) {
          auto suffix = "_" + task + ".data";
          for (auto& path : files) {
            auto name = fs::path(path).filename().string();
            if (name.rfind("shuffle_", 0) != 0 || name.size() < suffix.size()
                || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
              continue;
            if (a.what == action::kind::delete_shuffle) {
              if (::unlink(path.c_str()) != 0)
                throw std::runtime_error("cannot delete " + path + ": " + std::strerror(errno));
              return "deleted " + path + " (task " + task + ")";
            }
            return corrupt(path) + " (task " + task + ")";
          }
        }
        throw std::runtime_error("no shuffle data file of a finished task of stage " + std::to_string(a.stage)
                                 + " under " + (dir_ / "local").string());
      }
      case action::kind::partition_host:
        net_->partition(a.worker);
        return "host " + net_->address(a.worker) + " (worker " + std::to_string(a.worker) + ") cut off";
      case action::kind::heal_host:
        net_->heal(a.worker);
        return "host " + net_->address(a.worker) + " (worker " + std::to_string(a.worker) + ") reconnected";
      case action::kind::netem:
        net_->netem(a.worker, a.delay_ms, a.loss_percent);
        return "host " + net_->address(a.worker) + ": " + describe(a);
      case action::kind::fill_local_dir: return fill(local_dir(a.worker) / filler_name);
    }
    return {};
  }

  static constexpr const char* filler_name = "chaos-filler";

  // Writes zeros to `path` until the file system is full (ENOSPC): the executors of that host then
  // fail to write shuffle files and spills. The harness deletes the file at the end.
  static std::string fill(const fs::path& path) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
      throw std::runtime_error("cannot create " + path.string() + ": " + std::strerror(errno));
    std::string zeros(1 << 16, '\0');
    size_t total = 0;
    for (;;) {
      auto n = ::write(fd, zeros.data(), zeros.size());
      if (n > 0) {
        total += static_cast<size_t>(n);
        continue;
      }
      int err = errno;
      ::close(fd);
      if (n < 0 && err != ENOSPC)
        throw std::runtime_error("writing " + path.string() + ": " + std::strerror(err));
      return "filled " + path.parent_path().string() + " with " + std::to_string(total) + " bytes";
    }
  }

  // Flips 64 bytes in the middle of the file (all of it when smaller): a checksum must catch it.
  static std::string corrupt(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0)
      throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
    struct stat st {};
    ::fstat(fd, &st);
    auto size = static_cast<size_t>(st.st_size);
    if (size == 0) {
      ::close(fd);
      throw std::runtime_error(path + " is empty: nothing to corrupt");
    }
    size_t len = std::min<size_t>(64, size);
    size_t off = (size - len) / 2;
    std::string buf(len, '\0');
    bool ok = ::pread(fd, buf.data(), len, static_cast<off_t>(off)) == static_cast<ssize_t>(len);
    for (auto& c : buf)
      c = static_cast<char>(~c);
    ok = ok && ::pwrite(fd, buf.data(), len, static_cast<off_t>(off)) == static_cast<ssize_t>(len);
    ::close(fd);
    if (!ok)
      throw std::runtime_error("cannot rewrite " + path);
    return "corrupted " + std::to_string(len) + " bytes at offset " + std::to_string(off) + " of " + path;
  }

  // Stops everything and records what did not go away by itself.
  void shut_down() {
    procs_.reap();
    // A stopped process cannot act on SIGTERM; only pids still of this run (never a reused one).
    for (auto& p : marked_processes(marker_))
      if (std::find(stopped_.begin(), stopped_.end(), p.pid) != stopped_.end())
        ::kill(p.pid, SIGCONT);
    if (driver_ && driver_->alive()) {
      ::kill(-driver_->pid, SIGKILL);
      procs_.wait(*driver_, std::chrono::seconds{10});
    }
    if (master_ && master_->alive())
      kill_cluster_driver();  // cluster mode, after an error or an interrupt: not relaunched
    // The application's executors must end once their driver has: the workers kill them.
    auto deadline = steady::now() + std::chrono::seconds{30};
    std::vector<found_process> executors;
    for (;;) {
      procs_.reap();
      executors.clear();
      for (auto& p : marked_processes(marker_))
        if (is_executor(p))
          executors.push_back(p);
      if (executors.empty() || steady::now() > deadline)
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds{20});
    }
    if (driver_)
      for (auto& p : executors)
        facts_.leftover_processes.push_back("executor still running 30 s after its driver ended: " + p.line());
    // A worker deletes an application's dir once the master says it finished; a host that was
    // cut off hears it late. Judged below, after the same bounded wait.
    for (deadline = steady::now() + std::chrono::seconds{10}; steady::now() < deadline && !app_dirs_left().empty();)
      std::this_thread::sleep_for(std::chrono::milliseconds{20});
    stop(workers_);
    if (master_)
      stop({master_});
    procs_.reap();
    for (auto& p : marked_processes(marker_)) {
      facts_.leftover_processes.push_back("still running after the cluster stopped: " + p.line());
      ::kill(p.pid, SIGKILL);
    }
    procs_.reap();
    // The harness's own debris: fillers, then the hosts' namespaces.
    for (int i = 0; i < s_.cluster.workers; ++i) {
      std::error_code ec;
      fs::remove(local_dir(i) / filler_name, ec);
    }
    net_.reset();
    // Temp files: shuffle and spill files under the local dir, application dirs of the workers
    // (killed workers excepted: nothing is left to clean up after a dead host).
    // One line per directory holding leftovers: "DIR: N file(s), e.g. NAME".
    std::map<std::string, std::vector<std::string>> by_dir;
    for (auto& f : files_under(dir_ / "local"))
      by_dir[fs::path(f).parent_path().string()].push_back(fs::path(f).filename().string());
    // Paths relative to the scenario dir (removed without --keep).
    auto rel = [&](const fs::path& p) { return fs::relative(p, dir_).string(); };
    for (auto& [d, names] : by_dir)
      facts_.leftover_files.push_back(rel(d) + ": " + std::to_string(names.size()) + " file(s), e.g. " + names.front());
    for (auto& d : app_dirs_left())
      facts_.leftover_files.push_back(rel(d));
    for (auto& m : mounts_)
      ::umount2(m.c_str(), MNT_DETACH);
    mounts_.clear();
    if (!o_.keep) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
    }
  }

  // Application dirs in the work dirs of the workers (killed workers excepted: nothing is left to
  // clean up after a dead host).
  std::vector<fs::path> app_dirs_left() const {
    std::vector<fs::path> out;
    for (size_t i = 0; i < workers_.size(); ++i) {
      if (std::find(killed_workers_.begin(), killed_workers_.end(), i) != killed_workers_.end())
        continue;
      std::error_code ec;
      for (auto& e : fs::directory_iterator(dir_ / "work" / ("worker-" + std::to_string(i)), ec))
        if (e.path().filename() != "binaries" && !driver_logs_only(e.path()))
          out.push_back(e.path());
    }
    return out;
  }

  // A cluster-mode driver's directory in its worker's work dir holds its stdout and stderr: logs the
  // worker keeps, as Spark's do, not temporary files. Anything else there is a leftover.
  bool driver_logs_only(const fs::path& p) const {
    if (driver_id_.empty() || p.filename() != driver_id_)
      return false;
    std::error_code ec;
    for (auto& e : fs::directory_iterator(p, ec))
      if (e.path().filename() != "stdout" && e.path().filename() != "stderr")
        return false;
    return true;
  }

  void stop(const std::vector<proc*>& ps) {
    for (auto* p : ps)
      if (p->alive())
        ::kill(p->pid, SIGTERM);
    for (auto* p : ps) {
      if (!procs_.wait(*p, std::chrono::seconds{30})) {
        facts_.leftover_processes.push_back(p->name + " did not stop within 30 s of SIGTERM (pid "
                                            + std::to_string(p->pid) + ")");
        ::kill(-p->pid, SIGKILL);
        procs_.wait(*p, std::chrono::seconds{10});
      }
    }
  }

  const scenario& s_;
  const runner_options& o_;
  fs::path dir_;
  std::string marker_;
  std::optional<std::string> saved_conf_dir_;  // EMBER_CONF_DIR before secure_cluster()
  process_table procs_;
  std::uint64_t seed_;
  trigger_engine engine_;
  std::vector<fault_record> records_;
  observed seen_;
  run_facts facts_;
  std::vector<std::string> inputs_;
  std::unique_ptr<host_network> net_;
  std::vector<fs::path> mounts_;  // tmpfs local dirs, unmounted at the end
  std::string host_;              // where the master and the driver listen
  int port_ = 0;
  std::string url_;
  proc* master_ = nullptr;
  int master_restarts_ = 0;
  std::vector<proc*> workers_;
  proc* driver_ = nullptr;
  std::int64_t submit_ms_ = 0;
  std::vector<std::unique_ptr<log_follower>> followers_;  // one per driver run, in order
  std::string driver_id_;  // cluster mode: the master's id of the driver
  std::vector<pid_t> stopped_;
  std::vector<size_t> killed_workers_;
};

} // namespace

scenario_result run_scenario(const scenario& s, const runner_options& options) {
  auto pattern = (fs::path(options.temp_root) / "ember-chaos-XXXXXX").string();
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data())) {
    scenario_result r;
    r.name = s.name;
    r.file = s.file;
    r.facts.setup_error = "cannot create a temp dir under " + options.temp_root + ": " + std::strerror(errno);
    r.outcome = judge(s, r.seen, r.faults, r.facts);
    return r;
  }
  scenario_run run(s, options, fs::path(buf.data()));
  return run.run();
}

} // namespace ember::chaos
