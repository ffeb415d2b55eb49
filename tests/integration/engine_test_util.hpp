// Helpers shared by the integration tests that run the engine in this process.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "api/ember.hpp"
#include "tests/support/temp_dir.hpp"

namespace ember_test {

// A context as an application gets it: argv with --master and --conf options.
inline ember::context make_context(const std::string& master, const std::vector<std::string>& confs = {}) {
  // The argv strings must outlive create(), which keeps pointers to what it does not consume.
  static std::vector<std::vector<std::string>> kept;
  static std::vector<std::vector<char*>> ptrs;
  auto& args = kept.emplace_back(std::vector<std::string>{"engine_test", "--master", master});
  for (auto& c : confs) {
    args.push_back("--conf");
    args.push_back(c);
  }
  auto& argv = ptrs.emplace_back();
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  int argc = static_cast<int>(args.size());
  char** p = argv.data();
  return ember::context::create(argc, p);
}


} // namespace ember_test
