// Must NOT compile: a lambda that captures cannot be shipped to executors. The test expects the
// compiler to fail with the message pointing to ember::bind.
#include "api/ember.hpp"

int main(int argc, char** argv) {
  auto ctx = ember::context::create(argc, argv);
  int factor = 3;
  return static_cast<int>(ctx.range(0, 10).map([factor](int64_t x) { return x * factor; }).count());
}
