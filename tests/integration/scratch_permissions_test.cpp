// Hostile-input hygiene on a real loopback cluster (issue 15): a job with a shuffle, a DISK_ONLY
// cache, an output and the event log runs with the default scratch root ($TMPDIR/ember-$USER);
// while its files exist, every dir under that root and under the worker's work dir is 0700 and
// every file 0600. The application's name is not valid UTF-8: `ember status --json` still answers,
// with U+FFFD in its place.
#include <doctest/doctest.h>

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/cluster.hpp"
#include "tests/support/temp_dir.hpp"

using namespace ember_test;
namespace fs = std::filesystem;

namespace {

struct walk_result {
  std::vector<std::string> bad;  // "<path> mode 0644 (expected 0600)"
  int files = 0;
  int dirs = 0;
};

// Every entry below `root` (root included); `skip` names subtrees left to their owners.
void walk(const fs::path& root, walk_result& r, const std::vector<std::string>& skip = {}) {
  auto check = [&](const fs::path& p) {
    struct stat st{};
    if (::lstat(p.c_str(), &st) != 0)
      return;  // removed meanwhile (a temp file renamed into place)
    unsigned mode = st.st_mode & 0777;
    unsigned want = S_ISDIR(st.st_mode) ? 0700 : 0600;
    (S_ISDIR(st.st_mode) ? r.dirs : r.files) += 1;
    if (mode != want) {
      char buf[64];
      std::snprintf(buf, sizeof buf, " mode %04o (expected %04o)", mode, want);
      r.bad.push_back(p.string() + buf);
    }
  };
  check(root);
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    auto name = it->path().filename().string();
    bool skipped = false;
    for (auto& s : skip)
      if (name == s)
        skipped = true;
    if (skipped) {
      it.disable_recursion_pending();
      continue;
    }
    check(it->path());
  }
}

std::string joined(const std::vector<std::string>& xs) {
  std::string out;
  for (auto& x : xs)
    out += x + "\n";
  return out;
}

} // namespace

TEST_CASE("cluster: scratch dirs are 0700 and their files 0600; status --json survives a non-UTF-8 name") {
  temp_dir tmp{"ember-perm"};
  const auto tmpdir = tmp.path / "tmpdir";  // the processes' $TMPDIR: missing, created by them
  const char* old_tmpdir = std::getenv("TMPDIR");
  std::string saved = old_tmpdir ? old_tmpdir : "";
  ::setenv("TMPDIR", tmpdir.c_str(), 1);
  struct restore {
    bool had;
    std::string value;
    ~restore() {
      if (had)
        ::setenv("TMPDIR", value.c_str(), 1);
      else
        ::unsetenv("TMPDIR");
    }
  } restore_env{old_tmpdir != nullptr, saved};

  local_cluster cluster{tmp.path, {{"127.0.0.1", 2, "2g"}}};
  const std::string name = "perm\xff" "test";
  std::vector<std::string> argv{bin_dir + "/hygiene_probe", "--master", cluster.url()};
  for (std::string c : {"ember.driver.host=127.0.0.1", "ember.executor.instances=2", "ember.executor.cores=1",
                        "ember.eventLog.enabled=true", "ember.eventLog.buffer=0"}) {
    argv.push_back("--conf");
    argv.push_back(c);
  }
  argv.push_back("--conf");
  argv.push_back("ember.app.name=" + name);
  for (auto p : {tmp.path / "out", tmp.path / "ready", tmp.path / "go"})
    argv.push_back(p.string());
  child app{argv, tmp.path / "app.log"};
  REQUIRE_MESSAGE(eventually([&] { return fs::exists(tmp.path / "ready") || !app.running(); },
                             std::chrono::seconds{120}),
                  slurp(tmp.path / "app.log"));
  REQUIRE_MESSAGE(fs::exists(tmp.path / "ready"), slurp(tmp.path / "app.log"));

  // The application runs: its shuffle files, cached blocks and event log exist now.
  auto state = cluster.state();
  REQUIRE_MESSAGE(state.contains("apps"), slurp(tmp.path / "status.json"));
  REQUIRE(state.at("apps").size() == 1);
  CHECK(state.at("apps")[0].at("name") == "perm\xEF\xBF\xBDtest");

  std::string user_root;
  for (auto& e : fs::directory_iterator(tmpdir))
    user_root = e.path().string();
  REQUIRE(fs::path{user_root}.filename().string().starts_with("ember-"));
  walk_result scratch;
  walk(tmpdir / fs::path{user_root}.filename(), scratch);
  CHECK_MESSAGE(scratch.bad.empty(), joined(scratch.bad));
  // The event log, the app dir, both executors' dirs with shuffle data + index files and blocks.
  CHECK(fs::is_directory(fs::path{user_root} / "events"));
  CHECK(scratch.dirs >= 6);
  CHECK(scratch.files >= 1 + 4 * 2 + 4);
  walk_result work;
  // binaries/: the binary cache's own dir (deploy/binary_cache).
  walk(tmp.path / "worker-0", work, {"binaries"});
  CHECK_MESSAGE(work.bad.empty(), joined(work.bad));
  CHECK(work.files >= 4);  // stdout and stderr of two executors

  std::ofstream{tmp.path / "go"} << "go\n";
  REQUIRE_MESSAGE(app.wait() == 0, slurp(tmp.path / "app.log"));
  CHECK(slurp(tmp.path / "app.log").find("100 100") != std::string::npos);
  auto finished = cluster.state(true);
  REQUIRE(finished.contains("apps"));
  bool found = false;
  for (auto& a : finished.at("apps"))
    found = found || a.at("name") == "perm\xEF\xBF\xBDtest";
  CHECK(found);
}
