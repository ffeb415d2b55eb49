// `ember status` and the master client shared with `ember submit`.

#include "cli/status_command.hpp"

#include <cstdio>
#include <iostream>
#include <sstream>

#include <caf/atom.hpp>
#include <caf/io/middleman.hpp>
#include <capnp/schema.h>

#include "actors/remoting.hpp"
#include "config/registry.hpp"
#include "deploy/cluster_manager.hpp"
#include "security/secret.hpp"

namespace ember::cli {

namespace {

constexpr int exit_ok = 0;
constexpr int exit_failure = 1;
constexpr int exit_usage = 2;

std::string str(capnp::Text::Reader t) { return {t.cStr(), t.size()}; }

// Lowercase enumerant name as in the schema ("running"), or the number for a value this build
// does not know.
template <class E>
std::string enum_name(E value) {
  auto enumerants = capnp::Schema::from<E>().getEnumerants();
  auto i = static_cast<unsigned>(value);
  if (i < enumerants.size())
    return enumerants[i].getProto().getName().cStr();
  return std::to_string(i);
}


}  // namespace

// -- master client ---------------------------------------------------------------------------

master_url parse_master_url(std::string_view url) {
  auto parsed = deploy::parse_standalone_master(url);
  if (!parsed)
    throw config::config_error("master URL '" + std::string(url) + "': expected ember://host:port");
  master_url m;
  m.host = parsed->host;
  if (m.host.size() > 2 && m.host.front() == '[' && m.host.back() == ']') // [::1]
    m.host = m.host.substr(1, m.host.size() - 2);
  m.port = parsed->port;
  m.text = std::string(url);
  return m;
}

master_client::master_client(const master_url& url, const config::config& conf)
  : url_(url), timeout_(conf.get(config::keys::rpc_ask_timeout)) {
  cfg_ = std::make_unique<caf::actor_system_config>();
  // A hung master must not hang the command: the connection heartbeat detects a dead peer.
  actors::configure_remoting(*cfg_, conf, "client");
  cfg_->set("scheduler.max-threads", 2);
  sys_ = std::make_unique<caf::actor_system>(*cfg_);
  auto master = actors::remote_actor(*sys_, url_.host, url_.port);
  if (!master)
    throw master_unreachable("cannot reach the master at " + url_.text + ": "
                             + actors::explain_connect_error(*sys_, master.error()));
  master_ = std::move(*master);
}

master_client::~master_client() {
  master_ = nullptr;
}

// -- status ------------------------------------------------------------------------------------

nlohmann::json to_json(proto::MasterState::Reader state) {
  using nlohmann::json;
  json out = json::object();
  out["masterUrl"] = str(state.getMasterUrl());
  auto workers = json::array();
  int alive = 0;
  for (auto w : state.getWorkers()) {
    alive += w.getAlive() ? 1 : 0;
    workers.push_back({{"workerId", str(w.getWorkerId())},
                       {"host", str(w.getHost())},
                       {"port", w.getPort()},
                       {"cores", w.getCores()},
                       {"coresUsed", w.getCoresUsed()},
                       {"memoryBytes", w.getMemoryBytes()},
                       {"memoryUsed", w.getMemoryUsed()},
                       {"alive", w.getAlive()},
                       {"lastHeartbeatMs", w.getLastHeartbeatMs()}});
  }
  out["aliveWorkers"] = alive;
  out["workers"] = std::move(workers);
  auto apps = json::array();
  for (auto a : state.getApps()) {
    auto executors = json::array();
    for (auto e : a.getExecutors())
      executors.push_back({{"executorId", str(e.getExecutorId())},
                           {"appId", str(e.getAppId())},
                           {"workerId", str(e.getWorkerId())},
                           {"host", str(e.getHost())},
                           {"cores", e.getCores()},
                           {"memoryBytes", e.getMemoryBytes()},
                           {"state", enum_name(e.getState())},
                           {"pid", e.getPid()}});
    apps.push_back({{"appId", str(a.getAppId())},
                    {"name", str(a.getName())},
                    {"state", enum_name(a.getState())},
                    {"coresGranted", a.getCoresGranted()},
                    {"maxCores", a.getMaxCores()},
                    {"executorCores", a.getExecutorCores()},
                    {"executorMemory", a.getExecutorMemory()},
                    {"requestedExecutors", a.getRequestedExecutors()},
                    {"submitTimeMs", a.getSubmitTimeMs()},
                    {"executors", std::move(executors)}});
  }
  out["apps"] = std::move(apps);
  auto drivers = json::array();
  for (auto d : state.getDrivers())
    drivers.push_back({{"driverId", str(d.getDriverId())},
                       {"state", enum_name(d.getState())},
                       {"workerId", str(d.getWorkerId())},
                       {"host", str(d.getHost())},
                       {"supervise", d.getSupervise()},
                       {"restarts", d.getRestarts()},
                       {"pid", d.getPid()}});
  out["drivers"] = std::move(drivers);
  return out;
}

std::string to_json_text(proto::MasterState::Reader state) {
  // Names come from clients and need not be UTF-8: a bad byte becomes U+FFFD, where a plain
  // dump() throws type_error 316 (which aborted the command).
  return to_json(state).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string to_text(proto::MasterState::Reader state) {
  std::ostringstream out;
  out << "master: " << str(state.getMasterUrl()) << '\n';
  out << "workers: " << state.getWorkers().size() << '\n';
  for (auto w : state.getWorkers())
    out << "  " << str(w.getWorkerId()) << "  " << str(w.getHost()) << ':' << w.getPort() << "  "
        << (w.getAlive() ? "alive" : "dead") << "  cores " << w.getCoresUsed() << '/' << w.getCores()
        << "  memory " << config::human_bytes(w.getMemoryUsed()) << '/' << config::human_bytes(w.getMemoryBytes()) << '\n';
  out << "applications: " << state.getApps().size() << '\n';
  for (auto a : state.getApps()) {
    out << "  " << str(a.getAppId()) << "  " << str(a.getName()) << "  " << enum_name(a.getState())
        << "  cores " << a.getCoresGranted() << "  executors " << a.getExecutors().size() << '\n';
    for (auto e : a.getExecutors())
      out << "    executor " << str(e.getExecutorId()) << "  " << str(e.getHost()) << "  pid "
          << e.getPid() << "  " << enum_name(e.getState()) << "  cores " << e.getCores() << "  memory "
          << config::human_bytes(e.getMemoryBytes()) << "  worker " << str(e.getWorkerId()) << '\n';
  }
  out << "drivers: " << state.getDrivers().size() << '\n';
  for (auto d : state.getDrivers())
    out << "  " << str(d.getDriverId()) << "  " << enum_name(d.getState()) << "  " << str(d.getHost())
        << "  pid " << d.getPid() << "  worker " << str(d.getWorkerId())
        << (d.getSupervise() ? "  supervised, restarts " + std::to_string(d.getRestarts()) : std::string{})
        << '\n';
  return out.str();
}

int run_status(const std::vector<std::string>& args) {
  config::load_options options;
  bool json = false;
  bool all = false;
  try {
    for (std::size_t i = 0; i < args.size(); ++i) {
      std::string_view a = args[i];
      auto value = [&](std::string_view opt) -> std::optional<std::string> {
        if (a == opt) {
          if (i + 1 >= args.size())
            throw config::config_error(std::string(opt) + " needs a value");
          return args[++i];
        }
        if (a.size() > opt.size() && a.starts_with(opt) && a[opt.size()] == '=')
          return std::string(a.substr(opt.size() + 1));
        return std::nullopt;
      };
      if (a == "--json")
        json = true;
      else if (a == "--all")
        all = true;
      else if (a == "-h" || a == "--help") {
        std::cout << "Prints the standalone master's workers, applications (with executors) and drivers.\n"
                     "usage: ember status [--master ember://HOST:PORT] [--json] [--all] [--conf k=v]... "
                     "[--properties-file FILE]\n"
                     "  --json  one JSON object instead of text;  --all  include finished applications and drivers\n"
                     "\n"
                     "Examples:\n"
                     "  ember status --master ember://127.0.0.1:7077\n"
                     "  ember status --master ember://127.0.0.1:7077 --json --all\n"
                     "  EMBER_CONF_DIR=ember-run/conf ember status --master ember://127.0.0.1:7077\n"
                     "      a cluster from scripts/ember-cluster start --secure (its conf dir names the secret)\n";
        return exit_ok;
      } else if (auto v = value("--master"))
        options.flags.push_back({"--master", std::string(config::keys::master.name), *v});
      else if (auto v = value("--conf"))
        options.conf.push_back(*v);
      else if (auto v = value("--properties-file"))
        options.properties_file = *v;
      else
        throw config::config_error("unknown argument '" + std::string(a) + "' (see ember status --help)");
    }
    auto conf = config::load(options);
    const auto& master = conf.get(config::keys::master);
    if (!master.starts_with("ember://"))
      throw config::config_error("needs --master ember://HOST:PORT (ember.master is '" + master + "')");
    auto url = parse_master_url(master);
    master_client client{url, conf};
    auto state = client.ask<proto::MasterState>(
        make_wire<proto::RequestMasterState>([&](proto::RequestMasterState::Builder b) { b.setIncludeFinished(all);
          b.setUser(security::os_user()); }));
    if (json)
      std::cout << to_json_text(state.reader()) << '\n';
    else
      std::cout << to_text(state.reader());
    std::cout.flush();
    return std::cout ? exit_ok : exit_failure;
  } catch (const config::config_error& e) {
    std::cerr << "ember status: " << e.what() << '\n';
    return exit_usage;
  } catch (const master_unreachable& e) {
    std::cerr << "ember status: " << e.what() << '\n';
    return exit_failure;
  }
}

}  // namespace ember::cli
