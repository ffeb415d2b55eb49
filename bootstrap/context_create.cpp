// ember::context::create, the application's entry: it picks this process's role (the executor a
// worker started, or the driver) and the master (local or a cluster) and starts the runtime. It
// is declared in api/context.hpp but defined here, above both api/ and actors/, so that api/
// never depends on the runtime and the runtime may use api/ (the executor runs task binaries).
#include <cstdio>
#include <cstdlib>

#include "actors/cluster_manager_backend.hpp"
#include "actors/executor_process.hpp"
#include "actors/runtime.hpp"
#include "api/context.hpp"

namespace ember {

context context::create(int& argc, char**& argv) {
  if (actors::is_executor_role(argc, argv))
    actors::run_executor_process(argc, argv); // never returns
  std::vector<std::string> remaining;
  config::config conf;
  try {
    conf = config::from_args(argc, argv, remaining);
  } catch (const config::config_error& e) {
    std::fprintf(stderr, "ember: %s\n", e.what());
    std::exit(2);
  }
  auto master = conf.get(config::keys::master);
  if (actors::cluster_managers().find(master) == nullptr) {
    std::fprintf(stderr, "ember: ember.master: %s\n", actors::cluster_managers().unsupported(master).c_str());
    std::exit(2);
  }
  // The application sees only its own arguments; the strings live as long as the process.
  static std::vector<std::string> kept;
  static std::vector<char*> args;
  kept = std::move(remaining);
  args.clear();
  for (auto& s : kept)
    args.push_back(s.data());
  args.push_back(nullptr);
  argc = static_cast<int>(kept.size());
  argv = args.data();
  try {
    return context{std::make_shared<actors::driver_runtime>(
      std::move(conf), std::vector<std::string>(kept.begin() + (kept.empty() ? 0 : 1), kept.end()))};
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ember: %s\n", e.what());
    std::exit(1);
  }
}

} // namespace ember
