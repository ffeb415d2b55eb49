// ember::context: the application's entry to Ember, Spark's SparkContext. create() reads
// --master / --conf / --name; in the executor role (a worker started this binary to run tasks)
// it runs the executor and never returns.
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "api/broadcast.hpp"
#include "api/dataset.hpp"

namespace ember::config {
class config;
}

namespace ember {

class context {
public:
  // Parses and removes Ember's options from argv (argc/argv are rewritten to what is left, so
  // the application reads its own arguments as usual). Exits with code 2 and a one-line message
  // on a configuration error.
  static context create(int& argc, char**& argv);

  context(context&&) noexcept;
  context& operator=(context&&) noexcept;
  ~context();

  const config::config& conf() const;

  // Cores the application has (local[N]: N).
  uint32_t default_parallelism() const { return impl_->settings().default_parallelism; }

  template <class T>
  dataset<T> parallelize(const std::vector<T>& data, uint32_t slices = 0) const {
    uint32_t n = slices ? slices : default_parallelism();
    std::vector<std::vector<T>> parts(n);
    for (uint32_t p = 0; p < n; ++p)
      parts[p].assign(data.begin() + static_cast<ptrdiff_t>(data.size() * p / n),
                      data.begin() + static_cast<ptrdiff_t>(data.size() * (p + 1) / n));
    return {impl_, std::make_shared<detail::parallelize_node<T>>(impl_->next_node_id(), std::move(parts))};
  }

  // Lines of the files matching `path` (a file, a directory or a glob), split near
  // ember.files.maxPartitionBytes at line boundaries. Throws naming a path that does not exist.
  dataset<std::string> text_file(const std::string& path) const;

  dataset<int64_t> range(int64_t start, int64_t end, int64_t step = 1, uint32_t slices = 0) const;

  // A read-only value for shipped functions, sent to each executor once (not with every task):
  //   auto b = ctx.broadcast(table);  ds.map(ember::bind([](const ember::broadcast<T>& b, int x) {
  //     return b.value().at(x); }, b))
  // Throws storage::broadcast_error when its serialized size exceeds ember.broadcast.maxSize.
  template <class T>
  ember::broadcast<std::decay_t<T>> broadcast(T&& value) const {
    using V = std::decay_t<T>;
    auto local = std::make_shared<const V>(std::forward<T>(value));
    byte_writer w;
    serialize(w, *local);
    auto control = broadcast_control();
    auto id = control->create(w.view(), local, typeid(V).name());
    return ember::broadcast<V>{id, std::move(local), std::move(control)};
  }

  // Stops the application's actors and executors; called by the destructor.
  void stop();

  // Spark's local properties: set on the calling thread, carried by every job that thread
  // submits (e.g. "ember.scheduler.pool" picks the FAIR pool). An empty value removes the key.
  void set_local_property(const std::string& key, const std::string& value) { impl_->set_local_property(key, value); }
  std::string local_property(const std::string& key) const { return impl_->local_property(key); }

private:
  explicit context(std::shared_ptr<detail::context_impl> impl);
  std::shared_ptr<detail::broadcast_control> broadcast_control() const; // actors/broadcast_driver.cpp
  std::shared_ptr<detail::context_impl> impl_;
};

// Runs an application's body; an exception escaping it (a failed job, a missing input) becomes
// one line on stderr, "name: what", and exit code 1.
template <class F>
int run_app(const char* name, F&& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", name, e.what());
    return 1;
  }
}

namespace detail {
// ASCII whitespace as a table: one load per byte instead of six compares.
struct whitespace_table {
  bool ws[256] = {};
  constexpr whitespace_table() {
    for (unsigned char c : {' ', '\t', '\r', '\n', '\f', '\v'})
      ws[c] = true;
  }
  bool operator()(char c) const { return ws[static_cast<unsigned char>(c)]; }
};
inline constexpr whitespace_table is_whitespace;
} // namespace detail

// Splits text into words at ASCII whitespace (the word count's tokenizer).
template <class F>
void for_each_word(std::string_view line, F&& f) {
  size_t i = 0, n = line.size();
  while (i < n) {
    while (i < n && detail::is_whitespace(line[i]))
      ++i;
    size_t b = i;
    while (i < n && !detail::is_whitespace(line[i]))
      ++i;
    if (i > b)
      f(line.substr(b, i - b));
  }
}

} // namespace ember
