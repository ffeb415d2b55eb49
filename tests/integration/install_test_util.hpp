// Shared by the tests of an installed Ember (install_test.cpp: `cmake --install` into a temporary
// prefix; package_test.cpp: the .deb unpacked into a scratch root): building the template project
// examples/standalone out of the tree against a prefix, an input text, coreutils' word counts.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "tests/support/files.hpp"
#include "tests/support/process.hpp"

namespace install_test {

namespace fs = std::filesystem;

inline const fs::path source_dir = EMBER_SOURCE_DIR;
inline const fs::path build_dir = EMBER_BUILD_DIR;

// What a user's shell might carry and the runs below must not see: the launchers' settings and
// search paths that could reach another Ember than the one under test.
inline ember_test::spawn_options clean_env(std::vector<std::pair<std::string, std::string>> env = {}) {
  ember_test::spawn_options o;
  for (auto name : {"EMBER_HOME", "EMBER_BIN", "EMBER_CONF_DIR", "EMBER_RUN_DIR", "EMBER_BUILD_DIR",
                    "CMAKE_PREFIX_PATH", "PKG_CONFIG_PATH", "CPATH", "CPLUS_INCLUDE_PATH", "LIBRARY_PATH"})
    if (std::none_of(env.begin(), env.end(), [&](auto& kv) { return kv.first == name; }))
      o.unset_env.push_back(name);
  o.env = std::move(env);
  return o;
}

// `name` found on PATH (cmake, g++, dpkg-deb: ember_test::run takes a path), or `name` itself.
inline std::string on_path(const std::string& name) {
  if (name.find('/') != std::string::npos)
    return name;
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  for (size_t pos = 0; pos <= dirs.size();) {
    auto end = std::min(dirs.find(':', pos), dirs.size());
    auto candidate = fs::path{dirs.substr(pos, end - pos)} / name;
    if (::access(candidate.c_str(), X_OK) == 0)
      return candidate.string();
    pos = end + 1;
  }
  return name;
}

// Runs argv (argv[0] looked up on PATH); fails the test (with its output) unless it exits 0.
inline ember_test::run_result must_run(std::vector<std::string> argv,
                                       ember_test::spawn_options options = clean_env(),
                                       std::chrono::milliseconds limit = std::chrono::minutes{4}) {
  argv[0] = on_path(argv[0]);
  auto r = ember_test::run(argv, std::move(options), limit);
  std::string line;
  for (auto& a : argv)
    line += a + ' ';
  INFO("command: " << line);
  INFO("stdout: " << r.out);
  INFO("stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  return r;
}

// Copies examples/standalone to `work/src` (out of the tree), configures it with only `prefix`
// on CMAKE_PREFIX_PATH, builds it; the program's path. No include path leads back to the
// repository, so a public header that includes an uninstalled one fails this build.
inline fs::path build_standalone(const fs::path& prefix, const fs::path& work) {
  auto src = work / "src", bin = work / "build";
  fs::create_directories(src);
  for (auto name : {"CMakeLists.txt", "main.cpp"})
    fs::copy_file(source_dir / "examples" / "standalone" / name, src / name);
  auto start = std::chrono::steady_clock::now();
  INFO("if a <ember/...> header was not found, a public header includes a private one: add it to "
       "ember_public_headers in cmake/install.cmake if applications may see it, or drop the include");
  must_run({"cmake", "-S", src.string(), "-B", bin.string(), "-DCMAKE_PREFIX_PATH=" + prefix.string()});
  must_run({"cmake", "--build", bin.string()});
  MESSAGE("examples/standalone configured and built against " << prefix.string() << " in "
          << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() << " s");
  return bin / "word_count";
}

// A text of ~2 MB (Zipf words, gen_text) at `file`, cut into several partitions by the runs below.
inline void write_input(const fs::path& gen_text, const fs::path& file) {
  must_run({gen_text.string(), "--bytes", "2000000", "--vocab", "20000", "--seed", "16", file.string()});
}

// coreutils' count of the whitespace-separated words of `input` ([:space:] in the C locale: the
// six ASCII whitespace bytes ember::for_each_word splits at), as "word<TAB>count" lines sorted
// as sorted_output sorts.
inline std::vector<std::string> reference_counts(const fs::path& input) {
  auto r = must_run({"/bin/sh", "-c",
                     "export LC_ALL=C; tr -s '[:space:]' '\\n' < " + ember_test::quoted(input.string())
                         + " | grep -v '^$' | sort | uniq -c | awk '{ print $2 \"\\t\" $1 }'"});
  std::vector<std::string> lines;
  for (size_t pos = 0; pos < r.out.size();) {
    auto end = r.out.find('\n', pos);
    lines.push_back(r.out.substr(pos, end - pos));
    pos = end + 1;
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}

// A job's output directory as sorted lines, to compare with reference_counts.
inline std::vector<std::string> sorted_output(const fs::path& dir) {
  auto lines = ember_test::part_file_lines(dir);
  std::sort(lines.begin(), lines.end());
  return lines;
}

} // namespace install_test
