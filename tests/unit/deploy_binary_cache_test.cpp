// binary_cache: content hashes, chunked assembly with checksums and the whole-file hash check,
// the per-worker cache and local path matching.
#include <doctest/doctest.h>

#include <cstdio>
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

TEST_CASE("content hash: SHA-256 as sha256sum prints it, 64 lowercase hex digits") {
  // FIPS 180-2 test vectors.
  CHECK(content_hash_of("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(content_hash_of("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  temp_dir t;
  auto body = random_bytes(200000);  // several read buffers
  write(t.path / "f", body);
  CHECK(content_hash(t.path / "f") == content_hash_of(body));
  // The independent reference: coreutils' sha256sum over the same file.
  std::string cmd = "sha256sum '" + (t.path / "f").string() + "'";
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char out[65] = {};
  REQUIRE(std::fread(out, 1, 64, p) == 64);
  REQUIRE(::pclose(p) == 0);
  CHECK(content_hash(t.path / "f") == std::string{out, 64});

  CHECK(valid_content_hash(content_hash_of("hello")));
  CHECK_FALSE(valid_content_hash("xxh64:ef46db3751d8e999"));
  CHECK_FALSE(valid_content_hash(std::string(64, 'A')));      // upper case
  CHECK_FALSE(valid_content_hash(std::string(63, 'a')));
  CHECK_FALSE(valid_content_hash(std::string(65, 'a')));
  CHECK_FALSE(valid_content_hash("../../../../etc/passwd" + std::string(42, 'a')));
  CHECK_FALSE(valid_content_hash(""));
  CHECK_THROWS_WITH(content_hash(t.path / "missing"), doctest::Contains("cannot read binary"));
}

TEST_CASE("chunks: read, assemble, verify, cache") {
  temp_dir t;
  auto body = random_bytes(10000);
  write(t.path / "app", body);
  auto hash = content_hash(t.path / "app");
  binary_cache cache{t.path / "binaries", 1 << 30};
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
  CHECK((st.st_mode & 0777) == 0500);  // read-only: nothing rewrites a verified binary
  CHECK(cache.lookup(hash) == p);
  CHECK_FALSE(fs::exists(t.path / "binaries" / (hash + ".part")));
}

TEST_CASE("assembly rejects bad checksums, gaps, and a wrong whole-file hash") {
  temp_dir t;
  write(t.path / "app", "0123456789");
  auto hash = content_hash(t.path / "app");
  binary_cache cache{t.path / "binaries", 1 << 30};
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
  CHECK_THROWS_WITH(binary_assembly(cache, "xxh64:0123456789abcdef"), doctest::Contains("bad content hash"));
}

TEST_CASE("local match: a verified copy in the cache, by digest, not by name") {
  temp_dir t;
  write(t.path / "app", "binary one");
  binary_cache cache{t.path / "binaries", 1 << 30};
  auto hash = content_hash(t.path / "app");
  auto p = cache.local_match(t.path / "app", hash);
  CHECK(p == t.path / "binaries" / hash);  // the copy runs, never the named path
  CHECK(read(*p) == "binary one");
  CHECK(cache.lookup(hash) == p);
  CHECK_FALSE(cache.local_match(t.path / "app", content_hash_of("other")));
  CHECK_FALSE(cache.local_match(t.path / "missing", hash));
  CHECK_FALSE(cache.local_match(t.path / "app", "xxh64:0123456789abcdef"));
}

TEST_CASE("tampered binary: bytes changed after hashing are refused") {
  temp_dir t;
  write(t.path / "app", "the submitted binary");
  auto hash = content_hash(t.path / "app");  // what ember submit sent
  write(t.path / "app", "the submitted binarz");  // same size, one byte changed afterwards
  binary_cache cache{t.path / "binaries", 1 << 30};
  CHECK_FALSE(cache.local_match(t.path / "app", hash));
  CHECK_FALSE(cache.lookup(hash));
  // The same bytes fetched in chunks (with valid per-chunk checksums) fail the digest.
  {
    binary_assembly a{cache, hash};
    while (!a.complete())
      REQUIRE_FALSE(a.add(read_chunk(t.path / "app", a.next_offset(), 7)));
    const auto expected = "expected " + hash;
    CHECK_THROWS_WITH(a.finish(), doctest::Contains(expected.c_str()));
  }
  CHECK_FALSE(cache.lookup(hash));
  CHECK(fs::is_empty(t.path / "binaries"));
}

namespace {

// Stores `body` in `cache` as a fetched binary would be.
std::string store(binary_cache& cache, const fs::path& scratch, const std::string& body) {
  write(scratch, body);
  auto hash = content_hash(scratch);
  REQUIRE(cache.local_match(scratch, hash));
  return hash;
}

} // namespace

TEST_CASE("binary cache: LRU eviction beyond maxSize, binaries in use kept") {
  temp_dir t;
  binary_cache cache{t.path / "binaries", 250};
  auto a = store(cache, t.path / "a", std::string(100, 'a'));
  auto b = store(cache, t.path / "b", std::string(100, 'b'));
  CHECK(cache.total_size() == 200);
  CHECK(cache.evict({}).empty());  // within the limit
  CHECK(cache.lookup(a));          // a is now more recent than b
  auto c = store(cache, t.path / "c", std::string(100, 'c'));
  CHECK(cache.total_size() == 300);
  CHECK(cache.evict({}) == std::vector<std::string>{b});  // least recently used first
  CHECK_FALSE(fs::exists(t.path / "binaries" / b));
  CHECK_FALSE(cache.lookup(b));
  CHECK(cache.total_size() == 200);

  // a is the least recently used now, but a running child uses it: c goes instead... and
  // when everything is in use the cache stays over its limit rather than delete a live binary.
  auto d = store(cache, t.path / "d", std::string(100, 'd'));
  CHECK(cache.evict({a}) == std::vector<std::string>{c});
  auto e = store(cache, t.path / "e", std::string(100, 'e'));
  CHECK(cache.evict({a, d, e}).empty());
  CHECK(cache.total_size() == 300);
  for (auto& h : {a, d, e})
    CHECK(fs::exists(t.path / "binaries" / h));

  // A new worker on the same dir adopts the files (oldest first) and drops partial ones.
  write(t.path / "binaries" / (a + ".part"), "partial");
  binary_cache again{t.path / "binaries", 150};
  CHECK(again.total_size() == 300);
  CHECK_FALSE(fs::exists(t.path / "binaries" / (a + ".part")));
  CHECK(again.evict({e}).size() == 2);
  CHECK(again.lookup(e));
  CHECK(again.total_size() == 100);
}

TEST_CASE("binary cache: a file left by an earlier run is verified before it runs") {
  temp_dir t;
  std::string good, bad;
  {
    binary_cache first{t.path / "binaries", 1 << 30};
    good = store(first, t.path / "g", "good binary");
    bad = store(first, t.path / "b", "other binary");
  }
  // Changed on disk while no worker ran (same size, so only the digest can tell).
  fs::permissions(t.path / "binaries" / bad, fs::perms::owner_all);
  write(t.path / "binaries" / bad, "other binarY");
  binary_cache again{t.path / "binaries", 1 << 30};
  CHECK(again.lookup(good) == t.path / "binaries" / good);
  CHECK_FALSE(again.lookup(bad));
  CHECK_FALSE(fs::exists(t.path / "binaries" / bad));
  CHECK(again.total_size() == std::string{"good binary"}.size());
}
