// config/secure_fs: private scratch dirs and files (issue 15). Run as root in CI, so a dir of
// "another user" is made with chown to nobody (65534); skipped when not root.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <system_error>

#include "config/config.hpp"
#include "config/secure_fs.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace ember::config;

namespace {

unsigned mode_of(const fs::path& p) {
  struct stat st{};
  REQUIRE(::lstat(p.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

std::string message_of(const auto& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

// Sets an environment variable for one scope.
class scoped_env {
public:
  scoped_env(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name))
      old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~scoped_env() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }

private:
  const char* name_;
  std::optional<std::string> old_;
};

} // namespace

TEST_CASE("make_private_dir creates 0700 whatever the umask, and reuses an own dir") {
  ember_test::temp_dir tmp;
  auto old = ::umask(0);
  make_private_dir(tmp.path / "a");
  ::umask(old);
  CHECK(mode_of(tmp.path / "a") == 0700);
  make_private_dir(tmp.path / "a");  // exists, ours, 0700: fine
  make_private_dirs(tmp.path / "x" / "y" / "z");
  CHECK(mode_of(tmp.path / "x") == 0700);
  CHECK(mode_of(tmp.path / "x" / "y") == 0700);
  CHECK(mode_of(tmp.path / "x" / "y" / "z") == 0700);
}

TEST_CASE("make_private_dir refuses a dir of another user, naming the path and the owner") {
  if (::geteuid() != 0) {
    MESSAGE("skipped: needs root to chown");
    return;
  }
  ember_test::temp_dir tmp;
  auto d = tmp.path / "planted";
  fs::create_directory(d);
  REQUIRE(::chown(d.c_str(), 65534, 65534) == 0);
  auto msg = message_of([&] { make_private_dir(d); });
  CHECK(msg.find("refusing to use directory " + d.string() + ": it is owned by ") == 0);
  CHECK(msg.find("(uid 65534), not by ") != std::string::npos);
  CHECK(msg.find('\n') == std::string::npos);
  // make_private_dirs checks the leaf too.
  CHECK_THROWS_WITH(make_private_dirs(d), doctest::Contains("(uid 65534)"));
}

TEST_CASE("make_private_dir refuses a symlink, a file and a group- or world-writable dir") {
  ember_test::temp_dir tmp;
  fs::create_directory(tmp.path / "real");
  fs::create_directory_symlink(tmp.path / "real", tmp.path / "link");
  CHECK(message_of([&] { make_private_dir(tmp.path / "link"); })
        == "refusing to use directory " + (tmp.path / "link").string() + ": it is a symbolic link");
  { std::ofstream{tmp.path / "file"} << "x"; }
  CHECK(message_of([&] { make_private_dir(tmp.path / "file"); })
        == "refusing to use directory " + (tmp.path / "file").string() + ": it exists and is not a directory");
  fs::create_directory(tmp.path / "shared");
  ::chmod((tmp.path / "shared").c_str(), 0777);
  CHECK(message_of([&] { make_private_dir(tmp.path / "shared"); })
        == "refusing to use directory " + (tmp.path / "shared").string()
               + ": it is writable by group or others (mode 0777)");
}

TEST_CASE("open_private_file: 0600, no symlink followed, O_EXCL refuses an existing file") {
  ember_test::temp_dir tmp;
  auto old = ::umask(0);
  int fd = open_private_file(tmp.path / "f", O_WRONLY | O_CREAT | O_EXCL);
  ::umask(old);
  REQUIRE(fd >= 0);
  CHECK((::fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
  ::close(fd);
  CHECK(mode_of(tmp.path / "f") == 0600);
  CHECK_THROWS_WITH(open_private_file(tmp.path / "f", O_WRONLY | O_CREAT | O_EXCL),
                    doctest::Contains(("cannot create " + (tmp.path / "f").string()).c_str()));
  fs::create_symlink(tmp.path / "target", tmp.path / "evil");
  CHECK(message_of([&] { ::close(open_private_file(tmp.path / "evil", O_WRONLY | O_CREAT | O_APPEND)); })
        == "refusing to open " + (tmp.path / "evil").string() + ": it is a symbolic link: Too many levels of symbolic links");
  CHECK(!fs::exists(tmp.path / "target"));  // nothing was created through the link
}

TEST_CASE("default local dir is $TMPDIR/ember-$USER, created 0700; a planted one is refused") {
  ember_test::temp_dir tmp;
  scoped_env env{"TMPDIR", tmp.path.string()};
  auto conf = defaults();
  auto dirs = local_dirs(conf);
  REQUIRE(dirs.size() == 1);
  CHECK(dirs[0].parent_path() == tmp.path);
  CHECK(dirs[0].filename().string().starts_with("ember-"));
  CHECK(mode_of(dirs[0]) == 0700);
  CHECK(local_dir_paths(conf) == dirs);
  CHECK(expand_dir_setting("$TMPDIR/ember-$USER/events") == dirs[0] / "events");
  auto events = prepare_dir_setting("$TMPDIR/ember-$USER/events");
  CHECK(mode_of(events) == 0700);
  CHECK_THROWS_WITH(prepare_dir_setting("$TMPDIR/ember-$USER/../x"), doctest::Contains("it leaves"));
  if (::geteuid() == 0) {
    REQUIRE(::chown(dirs[0].c_str(), 65534, 65534) == 0);
    CHECK_THROWS_WITH(local_dirs(conf), doctest::Contains(("refusing to use directory " + dirs[0].string()).c_str()));
  }
}

TEST_CASE("a local dir the user named is created 0700 if missing and taken as it is otherwise") {
  ember_test::temp_dir tmp;
  load_options o;
  o.conf = {"ember.local.dir=" + (tmp.path / "new" / "d1").string() + "," + tmp.path.string()};
  auto dirs = local_dirs(load(o));
  REQUIRE(dirs.size() == 2);
  CHECK(mode_of(tmp.path / "new") == 0700);
  CHECK(mode_of(dirs[0]) == 0700);
  CHECK(dirs[1] == tmp.path);
}
