// ember::context's out-of-line half: it starts the runtime (actors), which api/ cannot see.
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

context::context(std::shared_ptr<detail::context_impl> impl) : impl_(std::move(impl)) {}
context::context(context&&) noexcept = default;
context& context::operator=(context&&) noexcept = default;
context::~context() {
  if (impl_)
    stop();
}

const config::config& context::conf() const { return static_cast<const actors::driver_runtime&>(*impl_).conf(); }

void context::stop() { static_cast<actors::driver_runtime&>(*impl_).stop(); }

dataset<std::string> context::text_file(const std::string& path) const {
  // Cluster mode: files only the workers' hosts hold are found, and prefer those hosts.
  auto splits = detail::plan_text_splits(path, impl_->settings().max_partition_bytes, default_parallelism(),
                                         static_cast<const actors::driver_runtime&>(*impl_).data_files());
  return {impl_, std::make_shared<detail::text_file_node>(impl_->next_node_id(), std::move(splits))};
}

dataset<int64_t> context::range(int64_t start, int64_t end, int64_t step, uint32_t slices) const {
  if (step == 0)
    throw std::invalid_argument("range: step must not be 0");
  return {impl_, std::make_shared<detail::range_node>(impl_->next_node_id(), start, end, step,
                                                      slices ? slices : default_parallelism())};
}

} // namespace ember
