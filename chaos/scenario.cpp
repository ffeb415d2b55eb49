#include "chaos/scenario.hpp"

#include <csignal>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

namespace ember::chaos {

namespace {

using json = nlohmann::json;

// Field access that names the file and the dotted path of the field in every error.
class reader {
public:
  reader(const json& j, std::string file, std::string path) : j_(j), file_(std::move(file)), path_(std::move(path)) {}

  [[noreturn]] void fail(const std::string& field, const std::string& why) const {
    throw scenario_error(file_ + ": " + at(field) + ": " + why);
  }

  void require_object() const {
    if (!j_.is_object())
      throw scenario_error(file_ + ": " + (path_.empty() ? "(top level)" : path_) + ": expected an object");
  }

  // Every key must be one of `known`: a typo must not silently fall back to a default.
  void only(std::initializer_list<const char*> known) const {
    std::set<std::string> ok(known.begin(), known.end());
    for (auto& [k, v] : j_.items())
      if (!ok.count(k))
        fail(k, "unknown field");
  }

  bool has(const std::string& field) const { return j_.contains(field); }

  reader object(const std::string& field) const {
    reader r(j_.at(field), file_, at(field));
    r.require_object();
    return r;
  }

  std::string str(const std::string& field, std::string dflt) const {
    if (!has(field))
      return dflt;
    auto& v = j_.at(field);
    if (!v.is_string())
      fail(field, "expected a string");
    return v.get<std::string>();
  }

  std::int64_t integer(const std::string& field, std::int64_t dflt, std::int64_t min, std::int64_t max) const {
    if (!has(field))
      return dflt;
    auto& v = j_.at(field);
    if (!v.is_number_integer())
      fail(field, "expected an integer");
    auto n = v.get<std::int64_t>();
    if (n < min || n > max)
      fail(field, std::to_string(n) + " is out of range [" + std::to_string(min) + ", " + std::to_string(max) + "]");
    return n;
  }

  bool boolean(const std::string& field, bool dflt) const {
    if (!has(field))
      return dflt;
    auto& v = j_.at(field);
    if (!v.is_boolean())
      fail(field, "expected true or false");
    return v.get<bool>();
  }

  // Configuration pairs: an object of strings (numbers and booleans are written as JSON shows them).
  std::map<std::string, std::string> conf(const std::string& field) const {
    std::map<std::string, std::string> out;
    if (!has(field))
      return out;
    auto r = object(field);
    for (auto& [k, v] : r.j_.items()) {
      if (v.is_string())
        out[k] = v.get<std::string>();
      else if (v.is_number() || v.is_boolean())
        out[k] = v.dump();
      else
        r.fail(k, "expected a string, number or boolean");
    }
    return out;
  }

  std::vector<std::string> strings(const std::string& field) const {
    std::vector<std::string> out;
    if (!has(field))
      return out;
    auto& v = j_.at(field);
    if (!v.is_array())
      fail(field, "expected an array of strings");
    for (auto& e : v) {
      if (!e.is_string())
        fail(field, "expected an array of strings");
      out.push_back(e.get<std::string>());
    }
    return out;
  }

  const json& raw() const { return j_; }
  std::string at(const std::string& field) const { return path_.empty() ? field : path_ + "." + field; }

private:
  const json& j_;
  std::string file_;
  std::string path_;
};

constexpr std::int64_t int_max = 1 << 30;
constexpr const char* action_names = "kill_executor, kill_worker, kill_master, kill_driver, corrupt_shuffle, "
                                     "delete_shuffle, partition_host, heal_host, netem, fill_local_dir";

std::optional<trigger> parse_trigger(const reader& r) {
  r.only({"after_ms", "stage_started", "tasks_finished", "stage", "executor_registered", "executor_removed",
          "fetching"});
  trigger t;
  int conditions = 0;
  if (r.has("after_ms")) {
    t.on = trigger::kind::after_ms;
    t.ms = r.integer("after_ms", 0, 0, int_max);
    ++conditions;
  }
  if (r.has("stage_started")) {
    t.on = trigger::kind::stage_started;
    t.stage = static_cast<int>(r.integer("stage_started", 0, 0, int_max));
    ++conditions;
  }
  if (r.has("tasks_finished")) {
    t.on = trigger::kind::tasks_finished;
    t.count = static_cast<int>(r.integer("tasks_finished", 1, 1, int_max));
    if (!r.has("stage"))
      r.fail("stage", "required with tasks_finished");
    t.stage = static_cast<int>(r.integer("stage", 0, 0, int_max));
    ++conditions;
  } else if (r.has("stage")) {
    r.fail("stage", "only used with tasks_finished");
  }
  if (r.has("executor_registered")) {
    t.on = trigger::kind::executor_registered;
    t.count = static_cast<int>(r.integer("executor_registered", 1, 1, int_max));
    ++conditions;
  }
  if (r.has("executor_removed")) {
    t.on = trigger::kind::executor_removed;
    t.count = static_cast<int>(r.integer("executor_removed", 1, 1, int_max));
    ++conditions;
  }
  if (r.has("fetching")) {
    t.on = trigger::kind::fetching;
    t.stage = static_cast<int>(r.integer("fetching", 0, 0, int_max));
    ++conditions;
  }
  if (conditions != 1)
    return std::nullopt;
  return t;
}

action parse_action(const reader& r) {
  action a;
  auto kind = r.str("action", "");
  if (kind.empty())
    r.fail("action", "required (" + std::string(action_names) + ")");
  auto sig = [&] {
    auto s = r.str("signal", "KILL");
    auto n = parse_signal(s);
    if (!n)
      r.fail("signal", "'" + s + "' is not one of KILL, STOP, CONT, TERM, INT");
    return *n;
  };
  if (kind == "kill_executor") {
    r.only({"name", "when", "action", "signal", "executor", "running_stage", "removed", "not_fetching"});
    a.what = action::kind::kill_executor;
    a.signal = sig();
    int picks = 0;
    if (r.has("executor")) {
      a.executor = r.str("executor", "");
      ++picks;
    }
    if (r.has("running_stage")) {
      a.running_stage = static_cast<int>(r.integer("running_stage", 0, 0, int_max));
      ++picks;
    }
    if (r.has("removed")) {
      if (!r.boolean("removed", false))
        r.fail("removed", "only true makes sense (the executor the executorRemoved trigger saw)");
      a.removed = "";
      ++picks;
    }
    if (r.has("not_fetching")) {
      if (!r.boolean("not_fetching", false))
        r.fail("not_fetching", "only true makes sense (an executor other than the one the fetching trigger saw)");
      a.not_fetching = true;
      ++picks;
    }
    if (picks != 1)
      r.fail("executor", "name exactly one of executor, running_stage, removed, not_fetching");
  } else if (kind == "kill_worker") {
    r.only({"name", "when", "action", "signal", "worker"});
    a.what = action::kind::kill_worker;
    a.signal = sig();
    a.worker = static_cast<int>(r.integer("worker", 0, 0, int_max));
  } else if (kind == "kill_master") {
    r.only({"name", "when", "action", "signal", "restart"});
    a.what = action::kind::kill_master;
    a.signal = sig();
    a.restart = r.boolean("restart", false);
  } else if (kind == "kill_driver") {
    r.only({"name", "when", "action", "signal"});
    a.what = action::kind::kill_driver;
    a.signal = sig();
  } else if (kind == "corrupt_shuffle" || kind == "delete_shuffle") {
    r.only({"name", "when", "action", "stage"});
    a.what = kind == "corrupt_shuffle" ? action::kind::corrupt_shuffle : action::kind::delete_shuffle;
    a.stage = static_cast<int>(r.integer("stage", 0, 0, int_max));
  } else if (kind == "partition_host" || kind == "heal_host" || kind == "fill_local_dir") {
    r.only({"name", "when", "action", "worker"});
    a.what = kind == "partition_host" ? action::kind::partition_host
             : kind == "heal_host"    ? action::kind::heal_host
                                      : action::kind::fill_local_dir;
    a.worker = static_cast<int>(r.integer("worker", 0, 0, int_max));
  } else if (kind == "netem") {
    r.only({"name", "when", "action", "worker", "delay_ms", "loss_percent"});
    a.what = action::kind::netem;
    a.worker = static_cast<int>(r.integer("worker", 0, 0, int_max));
    a.delay_ms = static_cast<int>(r.integer("delay_ms", 0, 0, 60000));
    if (r.has("loss_percent")) {
      auto& v = r.raw().at("loss_percent");
      if (!v.is_number() || v.get<double>() < 0 || v.get<double>() > 100)
        r.fail("loss_percent", "expected a number in [0, 100]");
      a.loss_percent = v.get<double>();
    }
    if (a.delay_ms == 0 && a.loss_percent == 0)
      r.fail("delay_ms", "netem needs delay_ms or loss_percent");
  } else {
    r.fail("action", "'" + kind + "' is not one of " + action_names);
  }
  return a;
}

} // namespace

std::optional<int> parse_signal(const std::string& s) {
  std::string n = s.rfind("SIG", 0) == 0 ? s.substr(3) : s;
  if (n == "KILL" || n == "9")
    return SIGKILL;
  if (n == "STOP" || n == "19")
    return SIGSTOP;
  if (n == "CONT" || n == "18")
    return SIGCONT;
  if (n == "TERM" || n == "15")
    return SIGTERM;
  if (n == "INT" || n == "2")
    return SIGINT;
  return std::nullopt;
}

std::string signal_name(int sig) {
  switch (sig) {
    case SIGKILL: return "KILL";
    case SIGSTOP: return "STOP";
    case SIGCONT: return "CONT";
    case SIGTERM: return "TERM";
    case SIGINT: return "INT";
    default: return std::to_string(sig);
  }
}

std::string describe(const trigger& t) {
  switch (t.on) {
    case trigger::kind::after_ms: return std::to_string(t.ms) + " ms after submit";
    case trigger::kind::stage_started: return "stage " + std::to_string(t.stage) + " started";
    case trigger::kind::tasks_finished:
      return std::to_string(t.count) + " task(s) of stage " + std::to_string(t.stage) + " finished";
    case trigger::kind::executor_registered: return std::to_string(t.count) + " executor(s) registered";
    case trigger::kind::executor_removed: return std::to_string(t.count) + " executor(s) removed";
    case trigger::kind::fetching: return "a task of stage " + std::to_string(t.stage) + " fetching remote shuffle blocks";
  }
  return "?";
}

std::string describe(const action& a) {
  auto sig = "SIG" + signal_name(a.signal);
  switch (a.what) {
    case action::kind::kill_executor:
      if (a.executor)
        return sig + " executor " + *a.executor;
      if (a.running_stage)
        return sig + " an executor running stage " + std::to_string(*a.running_stage);
      if (a.not_fetching)
        return sig + " an executor other than the fetching one";
      return sig + " the removed executor";
    case action::kind::kill_worker: return sig + " worker " + std::to_string(a.worker);
    case action::kind::kill_master: return sig + " the master" + (a.restart ? " and restart it" : "");
    case action::kind::kill_driver: return sig + " the driver";
    case action::kind::corrupt_shuffle: return "corrupt a shuffle file of stage " + std::to_string(a.stage);
    case action::kind::delete_shuffle: return "delete a shuffle file of stage " + std::to_string(a.stage);
    case action::kind::partition_host: return "cut worker " + std::to_string(a.worker) + "'s host off the network";
    case action::kind::heal_host: return "reconnect worker " + std::to_string(a.worker) + "'s host";
    case action::kind::netem: {
      std::ostringstream o;
      o << "worker " << a.worker << "'s link: +" << a.delay_ms << " ms, " << a.loss_percent << "% loss";
      return o.str();
    }
    case action::kind::fill_local_dir: return "fill worker " + std::to_string(a.worker) + "'s local dir";
  }
  return "?";
}

scenario parse_scenario(const std::string& text, const std::string& file) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    throw scenario_error(file + ": not valid JSON: " + e.what());
  }
  reader top(j, file, "");
  top.require_object();
  top.only({"name", "description", "seed", "timeout_s", "cluster", "job", "faults", "expect"});
  scenario s;
  s.file = file;
  s.name = top.str("name", "");
  if (s.name.empty())
    top.fail("name", "required (a non-empty string)");
  s.description = top.str("description", "");
  s.seed = static_cast<std::uint64_t>(top.integer("seed", 1, 0, std::int64_t{1} << 62));
  s.timeout_s = static_cast<int>(top.integer("timeout_s", 180, 1, 3600));

  if (top.has("cluster")) {
    auto c = top.object("cluster");
    c.only({"workers", "cores", "memory", "master_conf", "worker_conf", "hosts", "local_dir_size", "secure"});
    s.cluster.workers = static_cast<int>(c.integer("workers", 2, 1, 16));
    s.cluster.cores = static_cast<int>(c.integer("cores", 2, 1, 256));
    s.cluster.memory = c.str("memory", "1g");
    s.cluster.master_conf = c.conf("master_conf");
    s.cluster.worker_conf = c.conf("worker_conf");
    auto hosts = c.str("hosts", "loopback");
    if (hosts != "loopback" && hosts != "netns")
      c.fail("hosts", "'" + hosts + "' is not one of loopback, netns");
    s.cluster.netns = hosts == "netns";
    s.cluster.local_dir_size = c.str("local_dir_size", "");
    s.cluster.secure = c.boolean("secure", false);
    if (!s.cluster.local_dir_size.empty()
        && s.cluster.local_dir_size.find_first_not_of("0123456789kmgKMG") != std::string::npos)
      c.fail("local_dir_size", "'" + s.cluster.local_dir_size + "' is not a size such as 16m");
  }

  if (!top.has("job"))
    top.fail("job", "required");
  auto jr = top.object("job");
  jr.only({"app", "input", "executors", "executor_cores", "executor_memory", "conf", "args", "deploy_mode",
           "supervise"});
  s.job.app = jr.str("app", "wordcount");
  if (s.job.app != "wordcount" && s.job.app != "chaos_wordcount" && s.job.app != "terasort")
    jr.fail("app", "'" + s.job.app + "' is not one of wordcount, chaos_wordcount, terasort");
  if (jr.has("input")) {
    auto in = jr.object("input");
    in.only({"bytes", "vocab", "files"});
    s.job.input.bytes = in.integer("bytes", s.job.input.bytes, 1, std::int64_t{1} << 40);
    s.job.input.vocab = static_cast<int>(in.integer("vocab", s.job.input.vocab, 1, 100000000));
    s.job.input.files = static_cast<int>(in.integer("files", s.job.input.files, 1, 1000));
  }
  s.job.executors = static_cast<int>(jr.integer("executors", 2, 1, 256));
  s.job.executor_cores = static_cast<int>(jr.integer("executor_cores", 1, 1, 256));
  s.job.executor_memory = jr.str("executor_memory", "512m");
  s.job.conf = jr.conf("conf");
  s.job.args = jr.strings("args");
  s.job.deploy_mode = jr.str("deploy_mode", "client");
  if (s.job.deploy_mode != "client" && s.job.deploy_mode != "cluster")
    jr.fail("deploy_mode", "'" + s.job.deploy_mode + "' is not one of client, cluster");
  // The driver of cluster mode runs on a worker: in a host namespace of its own it would need an
  // address there the harness does not give it.
  if (s.job.cluster_mode() && s.cluster.netns)
    jr.fail("deploy_mode", "cluster is not supported with cluster.hosts \"netns\"");
  s.job.supervise = jr.boolean("supervise", false);
  if (s.job.supervise && !s.job.cluster_mode())
    jr.fail("supervise", "needs deploy_mode \"cluster\" (a client-mode driver is nobody's to relaunch)");

  if (top.has("faults")) {
    auto& fj = j.at("faults");
    if (!fj.is_array())
      top.fail("faults", "expected an array");
    for (size_t i = 0; i < fj.size(); ++i) {
      reader fr(fj[i], file, "faults[" + std::to_string(i) + "]");
      fr.require_object();
      fault f;
      f.name = fr.str("name", "fault " + std::to_string(i));
      if (!fr.has("when"))
        fr.fail("when", "required");
      auto wr = fr.object("when");
      auto when = parse_trigger(wr);
      if (!when)
        fr.fail("when", "name exactly one of after_ms, stage_started, tasks_finished (with stage), "
                        "executor_registered, executor_removed, fetching");
      f.when = *when;
      f.act = parse_action(fr);
      s.faults.push_back(std::move(f));
    }
  }

  if (top.has("expect")) {
    auto e = top.object("expect");
    e.only({"outcome", "error_contains", "executors_removed_min", "tasks_retried_min", "stages_retried_min",
            "all_faults_fire", "driver_restarts"});
    auto outcome = e.str("outcome", "success");
    if (outcome != "success" && outcome != "failure")
      e.fail("outcome", "'" + outcome + "' is not one of success, failure");
    s.expect.success = outcome == "success";
    s.expect.error_contains = e.str("error_contains", "");
    if (s.expect.success && !s.expect.error_contains.empty())
      e.fail("error_contains", "only used with outcome failure");
    s.expect.min_executors_removed = static_cast<int>(e.integer("executors_removed_min", 0, 0, int_max));
    s.expect.min_tasks_retried = static_cast<int>(e.integer("tasks_retried_min", 0, 0, int_max));
    s.expect.min_stages_retried = static_cast<int>(e.integer("stages_retried_min", 0, 0, int_max));
    s.expect.all_faults_fire = e.boolean("all_faults_fire", true);
    if (e.has("driver_restarts")) {
      s.expect.driver_restarts = static_cast<int>(e.integer("driver_restarts", 0, 0, int_max));
      if (!s.job.cluster_mode())
        e.fail("driver_restarts", "needs job.deploy_mode \"cluster\" (only the master counts relaunches)");
    }
  }
  for (size_t i = 0; i < s.faults.size(); ++i) {
    auto& a = s.faults[i].act;
    auto where = file + ": faults[" + std::to_string(i) + "].";
    bool on_worker = a.what == action::kind::kill_worker || a.what == action::kind::partition_host
                     || a.what == action::kind::heal_host || a.what == action::kind::netem
                     || a.what == action::kind::fill_local_dir;
    bool needs_netns = a.what == action::kind::partition_host || a.what == action::kind::heal_host
                       || a.what == action::kind::netem;
    if (needs_netns && !s.cluster.netns)
      throw scenario_error(where + "action: " + describe(a) + " needs cluster.hosts \"netns\"");
    if (a.what == action::kind::fill_local_dir && s.cluster.local_dir_size.empty())
      throw scenario_error(where + "action: fill_local_dir needs cluster.local_dir_size");
    if (on_worker && a.worker >= s.cluster.workers)
      throw scenario_error(where + "worker: " + std::to_string(a.worker)
                           + " but the cluster has " + std::to_string(s.cluster.workers) + " worker(s)");
    if (a.removed && s.faults[i].when.on != trigger::kind::executor_removed)
      throw scenario_error(file + ": faults[" + std::to_string(i)
                           + "].removed: needs the trigger executor_removed (it names the executor)");
    if (a.not_fetching && s.faults[i].when.on != trigger::kind::fetching)
      throw scenario_error(file + ": faults[" + std::to_string(i)
                           + "].not_fetching: needs the trigger fetching (it names the fetching executor)");
  }
  return s;
}

scenario load_scenario(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw scenario_error(path + ": cannot read the scenario file");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_scenario(ss.str(), path);
}

} // namespace ember::chaos
