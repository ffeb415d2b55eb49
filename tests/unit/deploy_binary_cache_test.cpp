// binary_cache: content hashes, chunked assembly with checksums and the whole-file hash check,
// the per-worker cache and local path matching.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

#include "deploy/binary_cache.hpp"
#include "tests/support/temp_dir.hpp"

using namespace ember::deploy;
namespace fs = std::filesystem;
using ember_test::temp_dir;

namespace {

void write(const fs::path& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary);
  out << s;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

std::string random_bytes(std::size_t n) {
  std::mt19937 gen(7);
  std::string s(n, '\0');
  for (auto& c : s)
    c = static_cast<char>(gen());
  return s;
}

} // namespace

TEST_CASE("content hash: xxh64 seed 0, 16 lowercase hex digits") {
  CHECK(content_hash_of("") == "xxh64:ef46db3751d8e999");  // XXH64 of the empty input
  temp_dir t;
  write(t.path / "f", "hello");
  CHECK(content_hash(t.path / "f") == content_hash_of("hello"));
  CHECK(valid_content_hash(content_hash_of("hello")));
  CHECK_FALSE(valid_content_hash("xxh64:../../etc/passwd"));
  CHECK_FALSE(valid_content_hash("xxh64:EF46DB3751D8E999"));
  CHECK_THROWS_WITH(content_hash(t.path / "missing"),
                    doctest::Contains("cannot read binary"));
}

TEST_CASE("chunks: read, assemble, verify, cache") {
  temp_dir t;
  auto body = random_bytes(10000);
  write(t.path / "app", body);
  auto hash = content_hash(t.path / "app");
  binary_cache cache{t.path / "binaries"};
  CHECK_FALSE(cache.lookup(hash));
  binary_assembly a{cache, hash};
  int chunks = 0;
  while (!a.complete()) {
    auto c = read_chunk(t.path / "app", a.next_offset(), 4096);
    CHECK(c.total_size == 10000);
    CHECK_FALSE(a.add(c));
    ++chunks;
  }
  CHECK(chunks == 3);
  auto p = a.finish();
  CHECK(p == t.path / "binaries" / hash);
  CHECK(read(p) == body);
  struct stat st{};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0755);
  CHECK(cache.lookup(hash) == p);
  CHECK_FALSE(fs::exists(t.path / "binaries" / (hash + ".part")));
}

TEST_CASE("assembly rejects bad checksums, gaps, and a wrong whole-file hash") {
  temp_dir t;
  write(t.path / "app", "0123456789");
  auto hash = content_hash(t.path / "app");
  binary_cache cache{t.path / "binaries"};
  {
    binary_assembly a{cache, hash};
    auto c = read_chunk(t.path / "app", 0, 4);
    c.data[0] = 'X';
    CHECK(a.add(c) == "chunk of " + hash + " at offset 0 fails its checksum");
  }
  {
    binary_assembly a{cache, hash};
    auto c = read_chunk(t.path / "app", 4, 4);
    CHECK(a.add(c) == "chunk of " + hash + " at offset 4, expected 0");
  }
  {
    // Consistent chunks of other content: caught by the whole-file hash.
    write(t.path / "other", "abcdefghij");
    binary_assembly a{cache, hash};
    CHECK_FALSE(a.add(read_chunk(t.path / "other", 0, 100)));
    CHECK(a.complete());
    const auto expected = "expected " + hash;
    CHECK_THROWS_WITH(a.finish(), doctest::Contains(expected.c_str()));
    CHECK_FALSE(cache.lookup(hash));
  }
  CHECK_FALSE(fs::exists(t.path / "binaries" / (hash + ".part")));
  CHECK_THROWS_WITH(binary_assembly(cache, "xxh64:nothex"), doctest::Contains("bad content hash"));
}

TEST_CASE("local match: the same file by hash, not by name") {
  temp_dir t;
  write(t.path / "app", "binary one");
  binary_cache cache{t.path / "binaries"};
  auto hash = content_hash(t.path / "app");
  CHECK(cache.local_match(t.path / "app", hash) == t.path / "app");
  CHECK_FALSE(cache.local_match(t.path / "app", content_hash_of("other")));
  CHECK_FALSE(cache.local_match(t.path / "missing", hash));
}
