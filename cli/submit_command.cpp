// `ember submit`: parse spark-submit's flags, validate every value through the config registry,
// then run the driver here (client mode, execv) or on a worker (cluster mode, via the master).

#include "cli/submit_command.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string_view>

#include <caf/send.hpp>

#include "actors/binary_store.hpp"
#include "cli/status_command.hpp"
#include "deploy/binary_cache.hpp"
#include "protocol/deploy.capnp.h"
#include "security/secret.hpp"

namespace ember::cli {

namespace fs = std::filesystem;

namespace {

constexpr int exit_ok = 0;
constexpr int exit_failure = 1;
constexpr int exit_usage = 2;

constexpr std::string_view usage_text =
    "Runs an application: its driver in this process (client mode) or on a worker (cluster mode).\n"
    "usage: ember submit [options] BINARY [app arguments...]\n"
    "       ember submit --master ember://HOST:PORT --kill DRIVER_ID | --status DRIVER_ID\n"
    "options (everything after BINARY belongs to the application):\n"
    "  --master M                ember://HOST:PORT or local[N] (default: ember.master)\n"
    "  --deploy-mode MODE        client (driver runs here, default) or cluster (a worker runs it)\n"
    "  --name NAME               ember.app.name\n"
    "  --executor-memory SIZE    ember.executor.memory\n"
    "  --executor-cores N        ember.executor.cores\n"
    "  --num-executors N         ember.executor.instances\n"
    "  --total-executor-cores N  ember.cores.max\n"
    "  --driver-memory SIZE      ember.driver.memory\n"
    "  --conf KEY=VALUE          any key (repeatable)\n"
    "  --properties-file FILE    defaults file instead of $EMBER_CONF_DIR/ember-defaults.conf\n"
    "  --supervise               cluster mode: restart the driver when it exits non-zero\n"
    "  --kill ID, --status ID    kill / ask about a cluster-mode driver\n"
    "  --verbose                 print what is submitted\n"
    "\n"
    "Examples:\n"
    "  ember submit --master 'local[4]' build/bin/wordcount INPUT OUTPUT_DIR\n"
    "  ember submit --master ember://127.0.0.1:7077 --conf ember.driver.host=127.0.0.1 \\\n"
    "      --executor-memory 2g build/bin/wordcount INPUT OUTPUT_DIR\n"
    "  ember submit --master ember://HOST:7077 --deploy-mode cluster --supervise build/bin/wordcount IN OUT\n"
    "  ember submit --master ember://HOST:7077 --status driver-20261207180000-0000\n";

// spark-submit's resource flags and the keys they set.
struct flag_key {
  std::string_view flag;
  std::string_view key;
};
constexpr flag_key key_flags[] = {
    {"--name", config::keys::app_name.name},
    {"--executor-memory", config::keys::executor_memory.name},
    {"--executor-cores", config::keys::executor_cores.name},
    {"--num-executors", config::keys::executor_instances.name},
    {"--total-executor-cores", config::keys::cores_max.name},
    {"--driver-memory", config::keys::driver_memory.name},
};

// The keys set on this command line or in the properties file (except the master and the name,
// which travel as --master and --name), as (key, canonical value) pairs for the driver.
std::vector<std::pair<std::string, std::string>> explicit_pairs(const config::config& conf) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& e : conf.entries()) {
    auto what = e.origin.what;
    bool explicit_value = what == config::origin::kind::conf || what == config::origin::kind::flag
                          || what == config::origin::kind::file;
    if (!explicit_value || e.spec->name == config::keys::master.name || e.spec->name == config::keys::app_name.name
        || security::is_secret_key(e.spec->name))  // never on a command line (see exec_client)
      continue;
    pairs.emplace_back(std::string(e.spec->name), conf.text(e.spec->name));
  }
  return pairs;
}

// The driver's command-line arguments: --master, --name, [--properties-file], the --conf pairs,
// then the application's own arguments untouched.
std::vector<std::string> driver_args(const submit_options& o, const config::config& conf,
                                     const std::string& master, const std::string& name,
                                     bool pass_properties_file) {
  std::vector<std::string> args{"--master", master, "--name", name};
  if (pass_properties_file && o.properties_file)
    args.insert(args.end(), {"--properties-file", *o.properties_file});
  for (auto& [k, v] : explicit_pairs(conf))
    args.insert(args.end(), {"--conf", k + "=" + v});
  args.insert(args.end(), o.app_args.begin(), o.app_args.end());
  return args;
}

[[noreturn]] void exec_client(const std::string& binary, const std::vector<std::string>& args,
                              const std::string& secret) {
  // A secret given as a value reaches the driver through an inherited memory file, as a worker's
  // children get theirs: never through its command line.
  std::optional<security::memory_file> secret_file;
  if (!secret.empty()) {
    secret_file.emplace("ember-secret", secret);
    ::fcntl(secret_file->fd(), F_SETFD, 0);
    ::setenv(security::secret_fd_variable, std::to_string(secret_file->fd()).c_str(), 1);
  }
  std::vector<char*> argv;
  std::string arg0 = binary;
  argv.push_back(arg0.data());
  std::vector<std::string> copy = args;
  for (auto& a : copy)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  std::cout.flush();
  std::cerr.flush();
  ::execv(binary.c_str(), argv.data());
  int err = errno;
  std::cerr << "ember submit: cannot run '" << binary << "': " << std::strerror(err) << '\n';
  std::exit(err == ENOENT || err == EACCES ? exit_usage : exit_failure);
}

// Sends the submission from an actor that, while it waits for the answer, serves the binary to
// the master (FetchBinary): the master stores it and runs the driver from that copy only. The wait
// is bounded per chunk by ember.rpc.askTimeout.
wire<proto::SubmitDriverResponse> hand_over(master_client& client, const wire<proto::RequestSubmitDriver>& req,
                                             const std::string& binary, const std::string& hash, std::uint64_t size,
                                             const config::config& conf) {
  auto ask = conf.get(config::keys::rpc_ask_timeout);
  auto chunk = static_cast<std::uint64_t>(conf.get(config::keys::network_max_chunk_size));
  caf::timespan timeout = ask * static_cast<std::int64_t>(2 + size / chunk);
  auto submitter = actors::spawn_binary_submitter(client.system(), client.master(), binary, hash,
                                                  static_cast<std::size_t>(chunk), timeout);
  caf::scoped_actor self{client.system()};
  wire<proto::SubmitDriverResponse> result;
  std::string failure;
  self->request(submitter, caf::infinite, req)
      .receive([&](const wire<proto::SubmitDriverResponse>& resp) { result = resp; },
               [&](const caf::error& err) { failure = describe(err); });
  caf::anon_send_exit(submitter, caf::exit_reason::user_shutdown);
  if (!failure.empty())
    throw master_unreachable("no answer from the master at " + client.url().text + " to RequestSubmitDriver: " + failure);
  return result;
}

int submit_cluster(const submit_options& o, const config::config& conf, const master_url& url,
                   const std::string& binary, const std::string& name) {
  auto [hash, size] = content_hash(binary);
  auto args = driver_args(o, conf, url.text, name, false);
  auto pairs = explicit_pairs(conf);
  if (o.verbose) {
    std::cerr << "ember submit: cluster mode, driver " << binary << " (" << hash << ", " << size
              << " bytes), memory " << conf.text(config::keys::driver_memory)
              << (o.supervise ? ", supervised" : "") << "\n  args:";
    for (auto& a : args)
      std::cerr << ' ' << a;
    std::cerr << '\n';
  }
  auto req = make_wire<proto::RequestSubmitDriver>([&](proto::RequestSubmitDriver::Builder b) {
    auto d = b.initDescription();
    auto bin = d.initBinary();
    bin.setPath(binary);
    bin.setContentHash(hash);
    bin.setSize(size);
    auto a = d.initArgs(static_cast<unsigned>(args.size()));
    for (unsigned i = 0; i < args.size(); ++i)
      a.set(i, args[i]);
    auto c = d.initConf(static_cast<unsigned>(pairs.size()));
    for (unsigned i = 0; i < pairs.size(); ++i) {
      c[i].setKey(pairs[i].first);
      c[i].setValue(pairs[i].second);
    }
    d.setCores(1);  // Spark's driver default; there is no ember.driver.cores key
    d.setMemoryBytes(static_cast<std::uint64_t>(conf.get(config::keys::driver_memory)));
    d.setSupervise(o.supervise);
    d.setUser(security::os_user());
  });
  master_client client{url, conf};
  auto reply = hand_over(client, req, binary, hash, size, conf);
  auto resp = reply.reader();
  if (!resp.getSuccess()) {
    std::cerr << "ember submit: the master at " << url.text << " refused the driver: "
              << resp.getMessage().cStr() << '\n';
    return exit_failure;
  }
  std::cout << "Submitted driver " << resp.getDriverId().cStr() << " to " << url.text << '\n';
  return exit_ok;
}

int kill_driver(const std::string& id, const config::config& conf, const master_url& url) {
  master_client client{url, conf};
  auto resp = client
                  .ask<proto::KillDriverResponse>(make_wire<proto::RequestKillDriver>(
                      [&](proto::RequestKillDriver::Builder b) {
                        b.setDriverId(id);
                        b.setUser(security::os_user());
                      }))
                  .reader();
  if (!resp.getSuccess()) {
    std::cout << "Driver " << id << " not killed: " << resp.getMessage().cStr() << '\n';
    return exit_failure;
  }
  if (resp.getMessage().size() > 0)
    std::cout << resp.getMessage().cStr() << '\n';  // the master's words ("Kill request for X submitted")
  else
    std::cout << "Killed driver " << id << '\n';
  return exit_ok;
}

int driver_status(const std::string& id, const config::config& conf, const master_url& url) {
  master_client client{url, conf};
  auto resp = client
                  .ask<proto::DriverStatusResponse>(make_wire<proto::RequestDriverStatus>(
                      [&](proto::RequestDriverStatus::Builder b) {
                        b.setDriverId(id);
                        b.setUser(security::os_user());
                      }))
                  .reader();
  if (!resp.getFound()) {
    std::cout << "Driver " << id << " not found on " << url.text << '\n';
    return exit_failure;
  }
  auto enumerants = capnp::Schema::from<proto::DriverState>().getEnumerants();
  auto state = static_cast<unsigned>(resp.getState());
  std::string state_name = state < enumerants.size() ? enumerants[state].getProto().getName().cStr()
                                                     : std::to_string(state);
  for (auto& ch : state_name)
    ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  std::cout << "Driver " << id << " is " << state_name;
  if (resp.getWorkerId().size() > 0)
    std::cout << " on worker " << resp.getWorkerId().cStr() << " (" << resp.getWorkerHost().cStr() << ')';
  if (resp.getMessage().size() > 0)
    std::cout << ": " << resp.getMessage().cStr();
  std::cout << '\n';
  return exit_ok;
}

}  // namespace

// -- parsing -----------------------------------------------------------------------------------

submit_options parse_submit_args(const std::vector<std::string>& args) {
  submit_options o;
  std::size_t i = 0;
  // The value of `--opt X` or `--opt=X` at args[i] (advancing i), or nothing if args[i] is not opt.
  auto value = [&](std::string_view opt) -> std::optional<std::string> {
    std::string_view a = args[i];
    if (a == opt) {
      if (i + 1 >= args.size())
        throw usage_error(std::string(opt) + " needs a value");
      return args[++i];
    }
    if (a.size() > opt.size() && a.starts_with(opt) && a[opt.size()] == '=')
      return std::string(a.substr(opt.size() + 1));
    return std::nullopt;
  };
  for (; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (!a.starts_with("-")) {
      o.binary = args[i];
      o.app_args.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      return o;
    }
    if (a == "--") {
      if (i + 1 >= args.size())
        throw usage_error("missing the application binary after --");
      o.binary = args[i + 1];
      o.app_args.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 2, args.end());
      return o;
    }
    if (a == "--supervise") {
      o.supervise = true;
      continue;
    }
    if (a == "--verbose" || a == "-v") {
      o.verbose = true;
      continue;
    }
    if (a == "--help" || a == "-h") {
      o.help = true;
      return o;
    }
    if (auto v = value("--master")) {
      o.master = *v;
      continue;
    }
    if (auto v = value("--deploy-mode")) {
      if (*v != "client" && *v != "cluster")
        throw usage_error("--deploy-mode '" + *v + "': expected client or cluster");
      o.deploy_mode = *v;
      continue;
    }
    if (auto v = value("--conf")) {
      o.conf.push_back(*v);
      continue;
    }
    if (auto v = value("--properties-file")) {
      o.properties_file = *v;
      continue;
    }
    if (auto v = value("--kill")) {
      o.kill_id = *v;
      continue;
    }
    if (auto v = value("--status")) {
      o.status_id = *v;
      continue;
    }
    bool matched = false;
    for (const auto& fk : key_flags)
      if (auto v = value(fk.flag)) {
        o.flags.push_back({std::string(fk.flag), std::string(fk.key), *v});
        matched = true;
        break;
      }
    if (!matched)
      throw usage_error("unknown option '" + std::string(a) + "'");
  }
  return o;
}

std::pair<std::string, std::uint64_t> content_hash(const std::string& path) {
  return {deploy::content_hash(path), std::filesystem::file_size(path)};
}

// -- the command -------------------------------------------------------------------------------

int run_submit(const std::vector<std::string>& args) {
  try {
    auto o = parse_submit_args(args);
    if (o.help) {
      std::cout << usage_text;
      return exit_ok;
    }
    config::load_options options;
    options.conf = o.conf;
    if (o.master)
      options.flags.push_back({"--master", std::string(config::keys::master.name), *o.master});
    options.flags.insert(options.flags.end(), o.flags.begin(), o.flags.end());
    if (o.properties_file)
      options.properties_file = *o.properties_file;
    auto conf = config::load(options);  // every value checked here, with the key named
    const auto& master = conf.get(config::keys::master);
    bool standalone = master.starts_with("ember://");

    if (o.kill_id || o.status_id) {
      if (o.kill_id && o.status_id)
        throw usage_error("--kill and --status exclude each other");
      if (!standalone)
        throw usage_error("--kill and --status need --master ember://HOST:PORT (got '" + master + "')");
      if (!o.binary.empty())
        throw usage_error("--kill and --status take no application binary");
      auto url = parse_master_url(master);
      return o.kill_id ? kill_driver(*o.kill_id, conf, url) : driver_status(*o.status_id, conf, url);
    }
    if (o.deploy_mode == "cluster" && !standalone)
      throw usage_error("--deploy-mode cluster needs --master ember://HOST:PORT (got '" + master + "')");
    if (o.supervise && o.deploy_mode != "cluster")
      throw usage_error("--supervise needs --deploy-mode cluster");
    if (o.binary.empty())
      throw usage_error("missing the application binary");

    std::error_code ec;
    auto binary = fs::canonical(o.binary, ec);
    if (ec || !fs::is_regular_file(binary))
      throw usage_error("application binary '" + o.binary + "' not found");
    if (::access(binary.c_str(), X_OK) != 0)
      throw usage_error("application binary '" + o.binary + "' is not executable");
    auto name = conf.get(config::keys::app_name);
    if (name.empty())
      name = binary.filename().string();

    if (o.deploy_mode == "cluster")
      return submit_cluster(o, conf, parse_master_url(master), binary.string(), name);

    auto argv = driver_args(o, conf, master, name, true);
    if (o.verbose) {
      std::cerr << "ember submit: client mode, running " << binary.string();
      for (auto& a : argv)
        std::cerr << ' ' << a;
      std::cerr << '\n';
    }
    exec_client(binary.string(), argv,
                conf.get(config::keys::authenticate) ? conf.get(config::keys::authenticate_secret) : std::string{});
  } catch (const usage_error& e) {
    std::cerr << "ember submit: " << e.what() << " (see ember submit --help)\n";
    return exit_usage;
  } catch (const config::config_error& e) {
    std::cerr << "ember submit: " << e.what() << '\n';
    return exit_usage;
  } catch (const master_unreachable& e) {
    std::cerr << "ember submit: " << e.what() << '\n';
    return exit_failure;
  } catch (const std::runtime_error& e) {
    std::cerr << "ember submit: " << e.what() << '\n';
    return exit_failure;
  }
}

}  // namespace ember::cli
