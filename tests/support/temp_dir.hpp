// A fresh directory under the system's temp dir, removed with everything in it at the end of the
// scope: the one temp dir of every kind of test (unit, actor, integration).
#pragma once

#include <filesystem>
#include <string>

namespace ember_test {

class temp_dir {
public:
  // `prefix` names the directory (<tmp>/<prefix>-XXXXXX), so a dir left by a killed test says whose.
  explicit temp_dir(const std::string& prefix = "ember-test");
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  // A path inside it, as a string (what most APIs under test take).
  std::string file(const std::string& name) const { return (path / name).string(); }
  // How many entries it holds (not recursive).
  size_t entries() const;

  std::filesystem::path path;
};

} // namespace ember_test
