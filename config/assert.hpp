// EMBER_ASSERT: invariants of the logic classes, checked in Debug and sanitizer builds (never in
// the Release build users run, where the check would cost on hot paths). A failed invariant is a
// bug in Ember, not bad input: bad input gets an error, never an assertion. Header-only, so any
// folder may use it without linking config/.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace ember::detail {

[[noreturn, gnu::cold, gnu::noinline]] inline void assertion_failed(const char* condition, const char* message,
                                                                   const char* file, int line) noexcept {
  std::fprintf(stderr, "ember: internal error: %s:%d: assertion '%s' failed: %s\n", file, line, condition, message);
  std::fflush(stderr);
  std::abort();
}

} // namespace ember::detail

#if !defined(NDEBUG) || defined(EMBER_ENABLE_ASSERT)
#define EMBER_ASSERT(condition, message)                                                                              \
  ((condition) ? static_cast<void>(0) : ::ember::detail::assertion_failed(#condition, message, __FILE__, __LINE__))
#else
#define EMBER_ASSERT(condition, message) static_cast<void>(sizeof(condition))
#endif
