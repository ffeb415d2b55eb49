// ember::context's members over the runtime's interface (detail::context_impl). create() is
// not here: it starts the runtime, which lives above api/ (bootstrap/context_create.cpp).
#include "api/context.hpp"

#include <stdexcept>

namespace ember {

context::context(std::shared_ptr<detail::context_impl> impl) : impl_(std::move(impl)) {}
context::context(context&&) noexcept = default;
context& context::operator=(context&&) noexcept = default;
context::~context() {
  if (impl_)
    stop();
}

const config::config& context::conf() const { return impl_->conf(); }

void context::stop() { impl_->stop(); }

std::shared_ptr<detail::broadcast_control> context::broadcast_control() const { return impl_->broadcasts(); }

dataset<std::string> context::text_file(const std::string& path) const {
  // Cluster mode: files only the workers' hosts hold are found, and prefer those hosts.
  auto splits = detail::plan_text_splits(path, impl_->settings().max_partition_bytes, default_parallelism(),
                                         impl_->data_files());
  return {impl_, std::make_shared<detail::text_file_node>(impl_->next_node_id(), std::move(splits))};
}

dataset<int64_t> context::range(int64_t start, int64_t end, int64_t step, uint32_t slices) const {
  if (step == 0)
    throw std::invalid_argument("range: step must not be 0");
  return {impl_, std::make_shared<detail::range_node>(impl_->next_node_id(), start, end, step,
                                                      slices ? slices : default_parallelism())};
}

} // namespace ember
