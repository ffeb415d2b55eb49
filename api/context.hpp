// ember::context: the application's entry to Ember, Spark's SparkContext. create() reads
// --master / --conf / --name; in the executor role (a worker started this binary to run tasks)
// it runs the executor and never returns.
#pragma once

#include <bit>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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
  std::shared_ptr<detail::broadcast_control> broadcast_control() const; // the runtime's (context_impl)
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

/// Bit i set = byte p[i] is whitespace, for the 64 bytes at p.
inline uint64_t whitespace_mask64(const char* p) noexcept {
#if defined(__SSE2__)
  const __m128i space = _mm_set1_epi8(' '), tab = _mm_set1_epi8('\t'), four = _mm_set1_epi8(4);
  uint64_t m = 0;
  for (int k = 0; k < 4; ++k) {
    __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
    __m128i x = _mm_sub_epi8(c, tab); // \t \n \v \f \r are 9..13: x in 0..4 unsigned
    __m128i ws = _mm_or_si128(_mm_cmpeq_epi8(c, space), _mm_cmpeq_epi8(_mm_min_epu8(x, four), x));
    m |= static_cast<uint64_t>(static_cast<uint16_t>(_mm_movemask_epi8(ws))) << (16 * k);
  }
  return m;
#else
  uint64_t m = 0;
  for (int i = 0; i < 64; ++i)
    m |= static_cast<uint64_t>(is_whitespace(p[i])) << i;
  return m;
#endif
}
} // namespace detail

// Splits text into words at ASCII whitespace (the word count's tokenizer). 64 bytes at a time:
// a whitespace bit mask gives the word starts and ends, so the loop branches once per word and
// once per 64 bytes instead of twice per byte (the per-byte loop mispredicted at every word end
// and was a fifth of word count's instructions).
template <class F>
void for_each_word(std::string_view line, F&& f) {
  const char* p = line.data();
  const size_t n = line.size();
  char tail[64];
  bool in_word = false;
  size_t start = 0;
  uint64_t prev_ws = 1; // the byte before the line counts as whitespace
  for (size_t base = 0; base < n; base += 64) {
    uint64_t ws;
    if (n - base >= 64) {
      ws = detail::whitespace_mask64(p + base);
    } else { // the last piece, padded with spaces so that a word ends at the line's end
      std::memcpy(tail, p + base, n - base);
      std::memset(tail + (n - base), ' ', sizeof tail - (n - base));
      ws = detail::whitespace_mask64(tail);
    }
    uint64_t shifted = (ws << 1) | prev_ws; // bit i: byte i-1 is whitespace
    uint64_t starts = ~ws & shifted;
    uint64_t ends = ws & ~shifted;
    prev_ws = ws >> 63;
    // starts and ends alternate; a word may begin in an earlier block (in_word).
    for (;;) {
      if (!in_word) {
        if (starts == 0)
          break;
        start = base + static_cast<size_t>(std::countr_zero(starts));
        starts &= starts - 1;
        in_word = true;
      }
      if (ends == 0)
        break;
      size_t end = base + static_cast<size_t>(std::countr_zero(ends));
      ends &= ends - 1;
      f(std::string_view(p + start, end - start));
      in_word = false;
    }
  }
  if (in_word) // only if the line's length is a multiple of 64 and it ends inside a word
    f(std::string_view(p + start, n - start));
}

} // namespace ember
