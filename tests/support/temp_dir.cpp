#include "tests/support/temp_dir.hpp"

#include <stdlib.h>

#include <iterator>
#include <stdexcept>

namespace ember_test {

temp_dir::temp_dir(const std::string& prefix) {
  std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (::mkdtemp(tmpl.data()) == nullptr)
    throw std::runtime_error("mkdtemp failed for " + tmpl);
  path = tmpl;
}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

size_t temp_dir::entries() const {
  return static_cast<size_t>(
    std::distance(std::filesystem::directory_iterator(path), std::filesystem::directory_iterator()));
}

} // namespace ember_test
