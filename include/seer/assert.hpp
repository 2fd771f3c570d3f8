// SEER_ASSERT(cond, message): an always-on assertion (release builds too) for internal
// invariants. A failed one prints one line to stderr, "seer: assertion failed: COND (MESSAGE) at
// FILE:LINE", and aborts: a broken invariant inside the simulator or the checker means every
// result after it is suspect, so the run must not go on.
//
// The model is TigerBeetle's rule of thumb: assert the pre- and postconditions of every
// non-trivial function. Assertions state what the code relies on; they are not error handling
// (bad input gets an exception and a usage error, never an assertion).
#pragma once

#include <cstdio>
#include <cstdlib>

namespace seer::detail {

[[noreturn]] [[gnu::cold]] inline void assertion_failed(const char* condition, const char* message,
                                                        const char* file, int line) noexcept {
  std::fprintf(stderr, "seer: assertion failed: %s (%s) at %s:%d\n", condition, message, file,
               line);
  std::fflush(stderr);
  std::abort();
}

}  // namespace seer::detail

#define SEER_ASSERT(cond, message)                                            \
  do {                                                                        \
    if (!(cond)) [[unlikely]] {                                               \
      ::seer::detail::assertion_failed(#cond, (message), __FILE__, __LINE__); \
    }                                                                         \
  } while (false)
