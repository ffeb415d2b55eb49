// text_file planning with files the workers declared (host-only input files, docs/scheduling.md).
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "api/narrow.hpp"

using namespace ember::detail;

namespace {

const std::string gone = "/nonexistent-ember-locality-" + std::to_string(::getpid());

declared_files remote_files() {
  return {
    {gone + "/in/a.txt", {100, {"10.77.0.1"}}},
    {gone + "/in/b.txt", {50, {"10.77.0.1", "10.77.0.2"}}},
    {gone + "/in/_SUCCESS", {0, {"10.77.0.1"}}},
    {gone + "/other.txt", {10, {"10.77.0.3"}}},
  };
}

} // namespace

TEST_CASE("a file only the workers hold is split by its declared size and prefers its hosts") {
  auto splits = plan_text_splits(gone + "/in/a.txt", 40, 2, remote_files());
  REQUIRE(splits.size() == 3);
  CHECK(splits[0].path == gone + "/in/a.txt");
  CHECK(splits[0].offset == 0);
  CHECK(splits[0].length == 40);
  CHECK(splits[2].offset == 80);
  CHECK(splits[2].length == 20);
  for (auto& s : splits)
    CHECK(s.hosts == std::vector<std::string>{"10.77.0.1"});
  text_file_node node{1, splits};
  CHECK(node.preferred_hosts(1) == std::vector<std::string>{"10.77.0.1"});
}

TEST_CASE("a directory or glob of declared files names them as a local one would") {
  auto dir = plan_text_splits(gone + "/in/", 1000, 2, remote_files());
  REQUIRE(dir.size() == 2); // _SUCCESS is skipped, as locally
  CHECK(dir[0].path == gone + "/in/a.txt");
  CHECK(dir[1].path == gone + "/in/b.txt");
  CHECK(dir[1].length == 50);
  CHECK(dir[1].hosts == std::vector<std::string>{"10.77.0.1", "10.77.0.2"});
  auto glob = plan_text_splits(gone + "/*.txt", 1000, 2, remote_files());
  REQUIRE(glob.size() == 1);
  CHECK(glob[0].path == gone + "/other.txt");
  CHECK(glob[0].hosts == std::vector<std::string>{"10.77.0.3"});
}

TEST_CASE("a path neither local nor declared is the usual error") {
  CHECK_THROWS_WITH(plan_text_splits(gone + "/nothing.txt", 1000, 2, remote_files()),
                    ("text_file: input path does not exist: " + gone + "/nothing.txt").c_str());
  CHECK_THROWS_WITH(plan_text_splits(gone + "/in/a.txt", 1000, 2, {}),
                    ("text_file: input path does not exist: " + gone + "/in/a.txt").c_str());
}

TEST_CASE("a local file that workers also declared keeps its local size and gets their hosts") {
  auto dir = std::filesystem::temp_directory_path() / ("ember-splits-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto file = (dir / "x.txt").string();
  std::ofstream{file} << "one\ntwo\n";
  auto local_only = plan_text_splits(file, 1000, 2, {});
  REQUIRE(local_only.size() == 1);
  CHECK(local_only[0].hosts.empty());
  auto both = plan_text_splits(file, 1000, 2, {{file, {999, {"h1"}}}});
  REQUIRE(both.size() == 1);
  CHECK(both[0].length == 8);
  CHECK(both[0].hosts == std::vector<std::string>{"h1"});
  std::filesystem::remove_all(dir);
}
