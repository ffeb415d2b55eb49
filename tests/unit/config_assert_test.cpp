// EMBER_ASSERT stops the process with one line naming the file, the condition and why, and lets a
// holding invariant through. Compiled with the checks on whatever the build type.
#define EMBER_ENABLE_ASSERT 1
#include "config/assert.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <string>

#include <doctest/doctest.h>

#include "tests/support/files.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

int checked_half(int even) {
  EMBER_ASSERT(even % 2 == 0, "checked_half takes even numbers");
  return even / 2;
}

} // namespace

TEST_CASE("a holding invariant passes through") { CHECK(checked_half(8) == 4); }

TEST_CASE("a broken invariant aborts with one line naming it") {
  ember_test::temp_dir tmp;
  auto err = tmp.path / "stderr";
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (!std::freopen(err.c_str(), "w", stderr))
      ::_exit(3);
    checked_half(3);
    ::_exit(0); // not reached when the assertion works
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGABRT);
  auto text = ember_test::slurp(err);
  CHECK(text.find("ember: internal error: ") == 0);
  CHECK(text.find("config_assert_test.cpp:") != std::string::npos);
  CHECK(text.find("assertion 'even % 2 == 0' failed: checked_half takes even numbers\n") != std::string::npos);
}
