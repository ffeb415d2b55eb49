// A fresh directory under the system's temp dir, removed with everything in it at the end of the
// scope: for unit and integration tests alike (header-only, no library to link).
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>

namespace ember_test {

struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ember-test-XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~temp_dir() { std::filesystem::remove_all(path); }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
};

} // namespace ember_test
