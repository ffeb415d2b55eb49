// The Debian package as scripts/package makes it (cpack -G DEB, cmake/install.cmake), made here
// into a temporary directory: its control file names the -dev packages an application build needs,
// and unpacked into a scratch root (dpkg -x, no root needed) it serves the template project
// examples/standalone, built against ROOT/usr, whose local run matches coreutils' word counts.
#include <doctest/doctest.h>

#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "tests/integration/install_test_util.hpp"
#include "tests/support/files.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;
using ember_test::temp_dir;
using namespace install_test;

TEST_CASE("the .deb: Depends names the -dev packages; unpacked, it builds and runs the template project") {
  temp_dir dir{"ember-package"};
  auto packages = dir.path / "packages";
  auto start = std::chrono::steady_clock::now();
  must_run({"cpack", "-G", "DEB", "--config", (build_dir / "CPackConfig.cmake").string(), "-B", packages.string()});
  MESSAGE("cpack made the .deb in " << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()
                                    << " s");
  std::vector<fs::path> debs;
  for (auto& e : fs::directory_iterator(packages))
    if (e.path().extension() == ".deb")
      debs.push_back(e.path());
  REQUIRE(debs.size() == 1);
  CHECK(std::regex_match(debs[0].filename().string(), std::regex{"ember_[0-9]+\\.[0-9]+\\.[0-9]+_amd64\\.deb"}));

  auto depends = must_run({"dpkg-deb", "-f", debs[0].string(), "Depends"}).out;
  INFO("Depends: " << depends);
  // What Ember's static libraries link, as -dev packages (headers, .so links, .pc / CMake files),
  // pinned where the libraries hold code compiled against that version's headers.
  for (auto dep : {"libcaf-dev (>= 0.17.6)", "libcaf-dev (<< 0.18)", "libcapnp-dev (>= 0.9.2)", "libcapnp-dev (<< 0.9.3)",
                   "libspdlog-dev (>= 1:1.10)", "liblz4-dev", "libxxhash-dev", "libssl-dev", "pkgconf | pkg-config"})
    CHECK_MESSAGE(depends.find(dep) != std::string::npos, std::string{dep});
  // dpkg-shlibdeps' part: the shared libraries the ember command itself runs with.
  for (auto dep : {"libcaf-core0.17", "libcapnp-0.9.2", "libspdlog1.10"})
    CHECK_MESSAGE(depends.find(dep) != std::string::npos, std::string{dep});
  CHECK(must_run({"dpkg-deb", "-f", debs[0].string(), "Package"}).out == "ember\n");

  auto root = dir.path / "root";
  must_run({"dpkg-deb", "-x", debs[0].string(), root.string()});
  CHECK(fs::exists(root / "usr/bin/ember"));
  CHECK(fs::exists(root / "usr/lib/cmake/Ember/EmberConfig.cmake"));
  auto app = build_standalone(root / "usr", dir.path / "app");

  auto input = dir.path / "input.txt";
  write_input(root / "usr/libexec/ember/gen_text", input);
  auto reference = reference_counts(input);
  auto out = dir.path / "out";
  auto r = must_run({app.string(), "--master", "local[2]", "--conf", "ember.files.maxPartitionBytes=256k",
                     input.string(), out.string()});
  CHECK(r.out == std::to_string(reference.size()) + " distinct words\n");
  CHECK(sorted_output(out) == reference);
  // The unpacked command runs (its shared libraries are the ones Depends names, installed here).
  auto conf = ember_test::run({(root / "usr/bin/ember").string(), "conf"}, clean_env());
  CHECK(conf.exit_code == 0);
}
