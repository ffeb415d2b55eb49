// baseline_wordcount: the tuned single-threaded word count Ember's wordcount is measured against.
//
//   baseline_wordcount [--dump FILE] FILE...
//
// Reads each file in 16 MiB chunks with read(2), splits at ASCII whitespace exactly like
// ember::for_each_word (space \t \r \n \f \v), and counts in one open-addressing table (linear
// probing, FNV-1a, keys copied once into an arena). Prints "# distinct N", "# total N" and the
// 10 most frequent words as "word<TAB>count" to stdout, the wall time to stderr. --dump writes
// every "word<TAB>count" (hash order), i.e. the same output the Ember example saves, so the two
// can be compared in full.
#include <algorithm>
#include <charconv>

#include "bench/bench_util.hpp"

using namespace ember::bench;

namespace {

constexpr size_t chunk_size = size_t{16} << 20;

struct whitespace_table {
  bool ws[256] = {};
  constexpr whitespace_table() {
    for (unsigned char c : {' ', '\t', '\r', '\n', '\f', '\v'})
      ws[c] = true;
  }
};
constexpr whitespace_table whitespace;

class count_table {
public:
  count_table() : slots_(size_t{1} << 16) {}

  void add(const char* w, size_t len, uint64_t h) {
    h |= 1;  // 0 marks an empty slot; keeping the top bits intact keeps the index spread
    size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      slot& s = slots_[i];
      if (s.hash == h && s.len == len && std::memcmp(arena_.data() + s.off, w, len) == 0) {
        ++s.count;
        return;
      }
      if (s.hash == 0) {
        s = slot{h, arena_.size(), len, 1};
        arena_.append(w, len);
        if (++used_ * 2 > slots_.size())
          grow();
        return;
      }
    }
  }

  struct slot {
    uint64_t hash = 0;
    uint64_t off = 0;
    uint64_t len = 0;
    uint64_t count = 0;
  };
  const std::vector<slot>& slots() const { return slots_; }
  std::string_view key(const slot& s) const { return {arena_.data() + s.off, s.len}; }
  size_t size() const { return used_; }

private:
  void grow() {
    std::vector<slot> old(slots_.size() * 2);
    old.swap(slots_);
    size_t mask = slots_.size() - 1;
    for (auto& s : old) {
      if (s.hash == 0)
        continue;
      size_t i = s.hash & mask;
      while (slots_[i].hash != 0)
        i = (i + 1) & mask;
      slots_[i] = s;
    }
  }
  std::vector<slot> slots_;
  std::string arena_;
  size_t used_ = 0;
};

// Counts the words of one file. A word cut by a chunk boundary is moved to the front of the
// buffer and completed by the next read.
uint64_t count_file(const std::string& path, count_table& table, std::vector<char>& buf) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0)
    die("baseline_wordcount: cannot open " + path + ": " + std::strerror(errno));
  uint64_t total = 0;
  size_t carry = 0;
  for (;;) {
    if (buf.size() - carry < chunk_size)
      buf.resize(carry + chunk_size);
    ssize_t got = ::read(fd, buf.data() + carry, chunk_size);
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0)
      die("baseline_wordcount: cannot read " + path + ": " + std::strerror(errno));
    bool eof = got == 0;
    const char* p = buf.data();
    const char* end = p + carry + static_cast<size_t>(got);
    for (;;) {
      while (p < end && whitespace.ws[static_cast<unsigned char>(*p)])
        ++p;
      const char* b = p;
      uint64_t h = 0xcbf29ce484222325ull;
      while (p < end && !whitespace.ws[static_cast<unsigned char>(*p)]) {
        h = (h ^ static_cast<unsigned char>(*p)) * 0x100000001b3ull;
        ++p;
      }
      if (p == end && !eof) {  // possibly cut: keep for the next chunk
        carry = static_cast<size_t>(end - b);
        std::memmove(buf.data(), b, carry);
        break;
      }
      if (p > b) {
        table.add(b, static_cast<size_t>(p - b), h);
        ++total;
      }
      if (p == end) {
        carry = 0;
        break;
      }
    }
    if (eof)
      break;
  }
  ::close(fd);
  return total;
}

} // namespace

int main(int argc, char** argv) {
  const char* usage = "baseline_wordcount [--dump FILE] FILE...";
  args a(argc, argv, {"dump"}, usage);
  if (a.positional.empty())
    die(std::string("usage: ") + usage);
  auto t0 = std::chrono::steady_clock::now();
  count_table table;
  std::vector<char> buf(chunk_size);
  uint64_t total = 0;
  for (auto& path : a.positional)
    total += count_file(path, table, buf);

  if (a.flags.count("dump")) {
    file_writer out(a.flags["dump"]);
    for (auto& s : table.slots()) {
      if (s.hash == 0)
        continue;
      out.put(table.key(s));
      char* p = out.reserve(24);
      *p++ = '\t';
      char* q = std::to_chars(p, p + 21, s.count).ptr;
      *q++ = '\n';
      out.advance(static_cast<size_t>(q - p) + 1);
    }
    out.close();
  }

  std::vector<const count_table::slot*> top;
  for (auto& s : table.slots())
    if (s.hash != 0)
      top.push_back(&s);
  size_t k = std::min<size_t>(10, top.size());
  std::partial_sort(top.begin(), top.begin() + static_cast<ptrdiff_t>(k), top.end(),
                    [&](auto* x, auto* y) { return x->count != y->count ? x->count > y->count : table.key(*x) < table.key(*y); });
  std::printf("# distinct %zu\n# total %llu\n", table.size(), static_cast<unsigned long long>(total));
  for (size_t i = 0; i < k; ++i) {
    auto w = table.key(*top[i]);
    std::printf("%.*s\t%llu\n", static_cast<int>(w.size()), w.data(), static_cast<unsigned long long>(top[i]->count));
  }
  std::fflush(stdout);
  std::fprintf(stderr, "baseline_wordcount: %.3f s\n", seconds_since(t0));
  return 0;
}
