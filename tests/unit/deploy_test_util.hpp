// Helpers shared by the unit tests of deploy/ (master logic, recovery).
#pragma once

#include <variant>
#include <vector>

#include "deploy/master_logic.hpp"

namespace ember_test {

// The decisions of type T among `ds`, in order.
template <class T>
std::vector<T> only(const ember::deploy::decisions& ds) {
  std::vector<T> r;
  for (auto& d : ds)
    if (auto* x = std::get_if<T>(&d))
      r.push_back(*x);
  return r;
}

} // namespace ember_test
