// Where the shared secret may come from and what is refused: a secret file readable by others,
// owned by another user, a symlink, too short; a value (allowed, with a warning); nothing at all.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <string>

#include "config/config.hpp"
#include "security/secret.hpp"
#include "tests/support/files.hpp"
#include "tests/support/temp_dir.hpp"

using namespace ember;
using security::cluster_security;

namespace {

config::config conf_of(std::vector<std::string> pairs) {
  config::load_options o;
  o.conf = std::move(pairs);
  o.use_environment = false;
  return config::load(o);
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const config::config_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a 0600 secret file of this user is read, trailing newline dropped") {
  ember_test::temp_dir dir{"ember-secret"};
  auto path = dir.path / "secret";
  ember_test::write_file(path, "0123456789abcdefXYZ\n");
  ::chmod(path.c_str(), 0600);
  std::vector<std::string> warnings;
  auto s = security::resolve(conf_of({"ember.authenticate=true", "ember.authenticate.secret.file=" + path.string()}), warnings);
  CHECK(s.mode == cluster_security::kind::shared_secret);
  CHECK(s.secret == "0123456789abcdefXYZ");
  CHECK(warnings.empty());
}

TEST_CASE("a secret file others may read, or of another owner, or a symlink, or short, is refused") {
  ember_test::temp_dir dir{"ember-secret"};
  auto path = dir.path / "secret";
  ember_test::write_file(path, "0123456789abcdefXYZ");
  ::chmod(path.c_str(), 0640);
  auto e = error_of([&] { security::read_secret_file(path); });
  CHECK(e.find("mode 0640") != std::string::npos);
  CHECK(e.find(path.string()) != std::string::npos);

  ::chmod(path.c_str(), 0600);
  if (::geteuid() == 0) {
    REQUIRE(::chown(path.c_str(), 65534, 65534) == 0);
    CHECK(error_of([&] { security::read_secret_file(path); }).find("owned by uid 65534") != std::string::npos);
    REQUIRE(::chown(path.c_str(), 0, 0) == 0);
  }
  std::filesystem::create_symlink(path, dir.path / "link");
  CHECK(error_of([&] { security::read_secret_file(dir.path / "link"); }).find("cannot open") != std::string::npos);

  ember_test::write_file(dir.path / "short", "abc");
  ::chmod((dir.path / "short").c_str(), 0600);
  CHECK(error_of([&] { security::read_secret_file(dir.path / "short"); }).find("at least 16") != std::string::npos);
  CHECK(error_of([&] { security::read_secret_file(dir.path / "missing"); }).find("cannot open") != std::string::npos);
}

TEST_CASE("authentication without any secret is a configuration error") {
  std::vector<std::string> warnings;
  auto e = error_of([&] { security::resolve(conf_of({"ember.authenticate=true"}), warnings); });
  CHECK(e == "ember.authenticate=true requires ember.authenticate.secret.file (a file of mode 0600 holding the cluster's secret)");
}

TEST_CASE("a secret given as a value works, with a warning") {
  std::vector<std::string> warnings;
  auto s = security::resolve(conf_of({"ember.authenticate=true", "ember.authenticate.secret=0123456789abcdef"}), warnings);
  CHECK(s.secret == "0123456789abcdef");
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("process listings") != std::string::npos);
}

TEST_CASE("without authentication there is nothing to resolve") {
  std::vector<std::string> warnings;
  CHECK_FALSE(security::resolve(conf_of({}), warnings).enabled());
}

TEST_CASE("only the secret itself is a secret key") {
  CHECK(security::is_secret_key("ember.authenticate.secret"));
  CHECK_FALSE(security::is_secret_key("ember.authenticate.secret.file"));
  CHECK_FALSE(security::is_secret_key("ember.authenticate"));
}

TEST_CASE("a memory file reads back by its /proc path and is nowhere on disk") {
  security::memory_file f{"ember-test", "hello"};
  CHECK(ember_test::slurp(f.path()) == "hello");
  CHECK(f.path().starts_with("/proc/self/fd/"));
}
