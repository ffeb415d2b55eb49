// The actor tests' main: CAF's unit test framework (tests/actor/*.cpp), which cannot share an
// executable with doctest's main. Run with `actor_tests` (options: `actor_tests -h`).
#include <caf/test/unit_test_impl.hpp>
