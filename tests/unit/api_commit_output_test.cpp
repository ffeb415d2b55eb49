// The driver's half of the output commit (api/actions.cpp): a task result names the attempt file
// to rename into place; anything but <dir>/_temporary/attempt_<task>_<attempt>/part-<partition>
// of the partition it answers is refused before any rename (issue 15: a forged task result must
// not make the driver move a file from elsewhere).
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "api/context_impl.hpp"
#include "tests/support/files.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;
using ember::detail::commit_text_output;

namespace {

std::string attempt_file(const fs::path& out, const std::string& attempt, const std::string& part,
                         const std::string& text) {
  auto dir = out / "_temporary" / attempt;
  fs::create_directories(dir);
  std::ofstream{dir / part} << text;
  return (dir / part).string();
}

std::string error_of(const fs::path& out, const std::vector<std::string>& files) {
  try {
    commit_text_output(out.string(), files);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(committed)";
}

} // namespace

TEST_CASE("commit: attempt files move into place, _SUCCESS is written, _temporary goes") {
  ember_test::temp_dir tmp;
  auto out = tmp.path / "out";
  auto a = attempt_file(out, "attempt_7_0", "part-00000", "a\n");
  auto b = attempt_file(out, "attempt_8_1", "part-00001", "b\n");
  commit_text_output(out.string(), {a, b});
  CHECK(ember_test::slurp(out / "part-00000") == "a\n");
  CHECK(ember_test::slurp(out / "part-00001") == "b\n");
  CHECK(fs::exists(out / "_SUCCESS"));
  CHECK_FALSE(fs::exists(out / "_temporary"));
}

TEST_CASE("commit: a task result naming a path outside _temporary is refused, nothing moves") {
  ember_test::temp_dir tmp;
  auto out = tmp.path / "out";
  auto good = attempt_file(out, "attempt_7_0", "part-00000", "a\n");
  std::ofstream{tmp.path / "secret"} << "s\n";
  auto prefix = "output commit: task result for partition 1 names '";
  // Elsewhere on the disk.
  auto outside = (tmp.path / "secret").string();
  CHECK(error_of(out, {good, outside}) == prefix + outside + "': expected a file named part-00001");
  std::ofstream{tmp.path / "part-00001"} << "s\n";
  outside = (tmp.path / "part-00001").string();
  CHECK(error_of(out, {good, outside}) == prefix + outside + "': not in an attempt_<task>_<attempt> dir");
  // Climbing out of _temporary with "..".
  auto climbing = (out / "_temporary" / "attempt_1_0" / ".." / ".." / ".." / "attempt_1_0" / "part-00001").string();
  fs::create_directories(tmp.path / "attempt_1_0");
  std::ofstream{tmp.path / "attempt_1_0" / "part-00001"} << "s\n";
  CHECK(error_of(out, {good, climbing}) == prefix + climbing + "': outside " + (out / "_temporary").string());
  // Relative, a wrong partition, a bad attempt dir name.
  CHECK(error_of(out, {good, "part-00001"}) == prefix + std::string{"part-00001': not an absolute path"});
  auto wrong = attempt_file(out, "attempt_9_0", "part-00005", "x\n");
  CHECK(error_of(out, {good, wrong}) == prefix + wrong + "': expected a file named part-00001");
  auto odd = attempt_file(out, "attempt_x_0", "part-00001", "x\n");
  CHECK(error_of(out, {good, odd}) == prefix + odd + "': not in an attempt_<task>_<attempt> dir");
  // An attempt dir that is a symlink to elsewhere.
  fs::create_directories(tmp.path / "elsewhere");
  std::ofstream{tmp.path / "elsewhere" / "part-00001"} << "s\n";
  fs::create_directory_symlink(tmp.path / "elsewhere", out / "_temporary" / "attempt_3_0");
  auto linked = (out / "_temporary" / "attempt_3_0" / "part-00001").string();
  CHECK(error_of(out, {good, linked})
        == prefix + linked + "': does not resolve to a dir inside " + (out / "_temporary").string());
  // Nothing was moved: the good attempt is still in _temporary, no _SUCCESS.
  CHECK(fs::exists(good));
  CHECK_FALSE(fs::exists(out / "_SUCCESS"));
  CHECK(ember_test::slurp(tmp.path / "secret") == "s\n");
}
