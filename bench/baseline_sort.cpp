// baseline_sort: the single-threaded in-memory sort Ember's terasort is measured against.
//
//   baseline_sort [--variant plain|index] FILE OUT
//
// Reads all 100-byte records (gen_records' format) into memory, sorts them by their 10-byte
// key, writes them to OUT. Variants:
//   plain  std::sort of the record array itself (100-byte elements, memcmp on the key): the
//          reference the sort target is stated against.
//   index  std::sort of 16-byte (key as two big-endian integers, record index) entries, then one
//          gather pass writing the records in order: the faster way to do it by hand.
// Prints "baseline_sort: variant=V records=N read_s= sort_s= write_s= total_s=" to stderr.
#include <algorithm>

#include "bench/bench_util.hpp"

using namespace ember::bench;

namespace {

constexpr size_t record_size = 100, key_size = 10;

struct record {
  char bytes[record_size];
};

uint64_t load_be(const char* p, int n) {
  uint64_t x = 0;
  for (int i = 0; i < n; ++i)
    x = (x << 8) | static_cast<unsigned char>(p[i]);
  return x;
}

} // namespace

int main(int argc, char** argv) {
  const char* usage = "baseline_sort [--variant plain|index] FILE OUT";
  args a(argc, argv, {"variant"}, usage);
  if (a.positional.size() != 2)
    die(std::string("usage: ") + usage);
  std::string variant = a.flags.count("variant") ? a.flags["variant"] : "plain";
  if (variant != "plain" && variant != "index")
    die("baseline_sort: --variant must be plain or index");

  auto t0 = std::chrono::steady_clock::now();
  auto data = read_file(a.positional[0]);
  if (data.size() % record_size != 0)
    die("baseline_sort: " + a.positional[0] + " is not a whole number of 100-byte records");
  size_t n = data.size() / record_size;
  for (size_t i = 0; i < n; ++i)
    if (data[i * record_size + record_size - 1] != '\n')
      die("baseline_sort: record " + std::to_string(i) + " does not end with a newline");
  double read_s = seconds_since(t0);

  auto t1 = std::chrono::steady_clock::now();
  double sort_s = 0, write_s = 0;
  if (variant == "plain") {
    auto* recs = reinterpret_cast<record*>(data.data());
    std::sort(recs, recs + n, [](const record& x, const record& y) {
      return std::memcmp(x.bytes, y.bytes, key_size) < 0;
    });
    sort_s = seconds_since(t1);
    auto t2 = std::chrono::steady_clock::now();
    file_writer out(a.positional[1]);
    out.put(std::string_view(data.data(), data.size()));
    out.close();
    write_s = seconds_since(t2);
  } else {
    struct entry {
      uint64_t hi;  // key bytes 0-7
      uint64_t lo;  // key bytes 8-9 in the top 16 bits, the record index below (ties: input order)
    };
    std::vector<entry> idx(n);
    for (size_t i = 0; i < n; ++i) {
      const char* k = data.data() + i * record_size;
      idx[i] = {load_be(k, 8), (load_be(k + 8, 2) << 48) | i};
    }
    std::sort(idx.begin(), idx.end(), [](const entry& x, const entry& y) {
      return x.hi != y.hi ? x.hi < y.hi : x.lo < y.lo;
    });
    sort_s = seconds_since(t1);
    auto t2 = std::chrono::steady_clock::now();
    file_writer out(a.positional[1]);
    constexpr uint64_t index_mask = (uint64_t{1} << 48) - 1;
    for (auto& e : idx)
      out.put(std::string_view(data.data() + (e.lo & index_mask) * record_size, record_size));
    out.close();
    write_s = seconds_since(t2);
  }
  std::fprintf(stderr, "baseline_sort: variant=%s records=%zu read_s=%.3f sort_s=%.3f write_s=%.3f total_s=%.3f\n",
               variant.c_str(), n, read_s, sort_s, write_s, seconds_since(t0));
  return 0;
}
