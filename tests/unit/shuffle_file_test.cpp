// Partitioned shuffle file + index (shuffle/shuffle_file.hpp): exact read-back for random
// partition sizes, empty partitions, zero partitions, block boundaries, oversized records,
// frame copying, atomic commit, and corrupt/truncated files.
#include <doctest/doctest.h>

#include <filesystem>
#include <cstring>
#include <random>

#include "shuffle/shuffle_file.hpp"
#include "tests/support/files.hpp"
#include "tests/support/temp_dir.hpp"

using namespace ember;
using namespace ember::shuffle;
using ember_test::temp_dir;

namespace {

using record = std::pair<uint64_t, std::string>;

std::vector<std::vector<record>> make_data(size_t parts, uint64_t seed, size_t max_per_part) {
  std::mt19937_64 rng(seed);
  std::vector<std::vector<record>> data(parts);
  for (size_t p = 0; p < parts; ++p) {
    size_t n = rng() % 4 == 0 ? 0 : rng() % max_per_part; // about a quarter empty
    for (size_t i = 0; i < n; ++i)
      data[p].emplace_back(rng(), std::string(rng() % 40, static_cast<char>('a' + p % 26)));
  }
  return data;
}

std::vector<uint64_t> write_data(const std::string& data_path, const std::string& index_path,
                                 const std::vector<std::vector<record>>& data, codec c, size_t block) {
  shuffle_file_writer w(data_path, index_path, data.size(), c, block);
  byte_writer buf;
  for (size_t p = 0; p < data.size(); ++p)
    for (const auto& r : data[p]) {
      buf.clear();
      serialize(buf, r);
      w.write(p, buf.data(), buf.size());
    }
  return w.commit();
}

std::vector<record> read_partition(const shuffle_file_reader& r, size_t p, size_t* blocks = nullptr) {
  std::vector<record> out;
  r.for_each_block(p, [&](std::string_view raw) {
    if (blocks)
      ++*blocks;
    byte_reader in(raw);
    while (!in.at_end())
      out.push_back(deserialize<record>(in));
  });
  return out;
}

std::string error_of(const auto& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "no error";
}

} // namespace

TEST_CASE("random partition sizes read back exactly, with correct lengths") {
  temp_dir dir;
  for (codec c : {codec::lz4, codec::none}) {
    for (size_t block : {size_t{64}, size_t{1000}, size_t{1} << 16}) {
      auto data = make_data(37, block * 3 + static_cast<size_t>(c), 300);
      std::string d = dir.file("s.data"), ix = dir.file("s.index");
      auto lengths = write_data(d, ix, data, c, block);
      REQUIRE(lengths.size() == data.size());
      shuffle_file_reader r(d, ix);
      CHECK(r.num_partitions() == data.size());
      uint64_t total = 0;
      for (size_t p = 0; p < data.size(); ++p) {
        CHECK(r.partition_size(p) == lengths[p]);
        CHECK((lengths[p] == 0) == data[p].empty());
        CHECK(read_partition(r, p) == data[p]);
        total += lengths[p];
      }
      CHECK(total == std::filesystem::file_size(d));
    }
  }
  CHECK(dir.entries() == 2); // no temporary files left next to the outputs
}

TEST_CASE("blocks are cut at block_size on record boundaries; a big record gets its own frame") {
  temp_dir dir;
  std::vector<std::vector<record>> data(2);
  for (int i = 0; i < 100; ++i)
    data[0].emplace_back(i, std::string(90, 'x')); // each record ~ 92 bytes
  data[1].emplace_back(1, std::string(10, 'a'));
  data[1].emplace_back(2, std::string(50000, 'b')); // much larger than the block
  data[1].emplace_back(3, std::string(10, 'c'));
  write_data(dir.file("d"), dir.file("i"), data, codec::lz4, 1000);
  shuffle_file_reader r(dir.file("d"), dir.file("i"));
  size_t blocks0 = 0, blocks1 = 0;
  CHECK(read_partition(r, 0, &blocks0) == data[0]);
  CHECK(blocks0 == 10); // 10 records of 92 bytes fit in 1000, then a new block
  CHECK(read_partition(r, 1, &blocks1) == data[1]);
  CHECK(blocks1 == 3);
}

TEST_CASE("zero partitions and all-empty partitions") {
  temp_dir dir;
  {
    shuffle_file_writer w(dir.file("z.data"), dir.file("z.index"), 0);
    CHECK_THROWS_AS(w.write(0, "x", 1), std::out_of_range);
    CHECK(w.commit().empty());
    shuffle_file_reader r(dir.file("z.data"), dir.file("z.index"));
    CHECK(r.num_partitions() == 0);
    CHECK(std::filesystem::file_size(dir.file("z.data")) == 0);
    CHECK(std::filesystem::file_size(dir.file("z.index")) == 16);
  }
  std::vector<std::vector<record>> empty(5);
  auto lengths = write_data(dir.file("e.data"), dir.file("e.index"), empty, codec::lz4, 100);
  CHECK(lengths == std::vector<uint64_t>(5, 0));
  shuffle_file_reader r(dir.file("e.data"), dir.file("e.index"));
  for (size_t p = 0; p < 5; ++p)
    CHECK(read_partition(r, p).empty());
}

TEST_CASE("append_frames copies framed bytes; in-memory decoding of a partition") {
  temp_dir dir;
  auto a = make_data(4, 1, 200), b = make_data(4, 2, 200);
  write_data(dir.file("a.data"), dir.file("a.index"), a, codec::lz4, 512);
  write_data(dir.file("b.data"), dir.file("b.index"), b, codec::lz4, 512);
  shuffle_file_reader ra(dir.file("a.data"), dir.file("a.index")),
    rb(dir.file("b.data"), dir.file("b.index"));
  shuffle_file_writer w(dir.file("m.data"), dir.file("m.index"), 4, codec::lz4, 512);
  std::string bytes;
  for (size_t p = 0; p < 4; ++p) {
    ra.read_partition_bytes(p, bytes);
    w.append_frames(p, bytes);
    rb.read_partition_bytes(p, bytes);
    w.append_frames(p, bytes);
    // records written after copied frames go into a new frame
    byte_writer one;
    serialize(one, record{p, "tail"});
    w.write(p, one.data(), one.size());
  }
  w.commit();
  shuffle_file_reader rm(dir.file("m.data"), dir.file("m.index"));
  for (size_t p = 0; p < 4; ++p) {
    auto expect = a[p];
    expect.insert(expect.end(), b[p].begin(), b[p].end());
    expect.emplace_back(p, "tail");
    CHECK(read_partition(rm, p) == expect);
    rm.read_partition_bytes(p, bytes);
    std::vector<record> from_memory;
    for_each_record_in_frames<record>(bytes.data(), bytes.size(), "fetch of partition",
                                      [&](record&& x) { from_memory.push_back(std::move(x)); });
    CHECK(from_memory == expect);
  }
}

TEST_CASE("partitions must come in non-decreasing order; uncommitted files are removed") {
  temp_dir dir;
  {
    shuffle_file_writer w(dir.file("o.data"), dir.file("o.index"), 3);
    w.write(2, "ab", 2);
    CHECK_THROWS_AS(w.write(1, "ab", 2), std::logic_error);
    CHECK(dir.entries() == 1); // the temporary data file
  }
  CHECK(dir.entries() == 0);
  CHECK(!std::filesystem::exists(dir.file("o.data")));
}

TEST_CASE("a corrupt index is detected and named") {
  temp_dir dir;
  auto data = make_data(6, 5, 100);
  write_data(dir.file("c.data"), dir.file("c.index"), data, codec::lz4, 256);
  std::string ix = ember_test::slurp(dir.file("c.index"));
  std::string bad = ix;
  bad[8] ^= 1;
  ember_test::write_file(dir.file("c.index"), bad);
  CHECK(error_of([&] { shuffle_file_reader(dir.file("c.data"), dir.file("c.index")); }) ==
        "index checksum mismatch in " + dir.file("c.index") + " at offset 56");
  ember_test::write_file(dir.file("c.index"), ix.substr(0, ix.size() - 3));
  CHECK(error_of([&] { shuffle_file_reader(dir.file("c.data"), dir.file("c.index")); })
          .find("bad index size") == 0);
  ember_test::write_file(dir.file("c.index"), ix);
  CHECK_NOTHROW(shuffle_file_reader(dir.file("c.data"), dir.file("c.index")));
  CHECK(error_of([&] { shuffle_file_reader(dir.file("c.data"), dir.file("missing.index")); })
          .find("cannot open shuffle index " + dir.file("missing.index")) == 0);
}

TEST_CASE("truncated or corrupted data is detected and names the data file") {
  temp_dir dir;
  std::vector<std::vector<record>> data(2);
  for (int i = 0; i < 3000; ++i)
    data[i % 2].emplace_back(i, "value number " + std::to_string(i));
  std::string d = dir.file("t.data"), ix = dir.file("t.index");
  write_data(d, ix, data, codec::lz4, 4096);
  std::string bytes = ember_test::slurp(d);
  // truncated: the index no longer matches
  ember_test::write_file(d, bytes.substr(0, bytes.size() - 100));
  CHECK(error_of([&] { shuffle_file_reader(d, ix); }).find("truncated or mismatched data file") !=
        std::string::npos);
  // a flipped byte inside partition 1's first frame: partition 0 still reads, partition 1 fails
  ember_test::write_file(d, bytes);
  uint64_t p1 = shuffle_file_reader(d, ix).partition_offset(1);
  std::string bad = bytes;
  bad[p1 + frame_header_size + 20] ^= 0x01;
  ember_test::write_file(d, bad);
  shuffle_file_reader r(d, ix);
  CHECK(read_partition(r, 0) == data[0]);
  std::string msg = error_of([&] { read_partition(r, 1); });
  CHECK(msg.find("checksum mismatch") == 0);
  CHECK(msg.find("in " + d + " at offset " + std::to_string(p1)) != std::string::npos);
  // a damaged header in the middle of partition 0 (second frame)
  uint32_t first_stored; // stored length of partition 0's first frame, from its header
  std::memcpy(&first_stored, bytes.data() + 6, 4);
  uint64_t second = frame_header_size + first_stored;
  bad = bytes;
  bad[second] = 0x00; // magic
  ember_test::write_file(d, bad);
  CHECK(error_of([&] { read_partition(shuffle_file_reader(d, ix), 0); }) ==
        "bad frame magic 0x00 (expected 0xeb) in " + d + " at offset " + std::to_string(second));
}
