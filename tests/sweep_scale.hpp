// How many seeds a test sweeps. Sanitized builds run about ten times slower and look for memory
// errors and undefined behaviour, which a tenth of the seeds still reaches; release builds sweep
// all.
#pragma once

#include <cstdint>

namespace seer::testing {

#ifdef SEER_SANITIZED
inline constexpr std::uint64_t kSweepDivisor = 10;
inline constexpr bool kSanitized = true;
#else
inline constexpr std::uint64_t kSweepDivisor = 1;
inline constexpr bool kSanitized = false;
#endif

// Why a test skips itself in a sanitized build: it measures what a workload reaches across many
// seeds (coverage of the protocol, failure rates), not a code path the sanitizers could find wrong;
// the unsanitized build runs it, and the sanitized one would repeat the same runs ten times slower.
inline constexpr const char* kAcrossSeedsOnly =
    "a property across many seeds: checked by the unsanitized build";

// `full` seeds in a release build, a tenth (at least one) in a sanitized one.
constexpr std::uint64_t sweep_seeds(std::uint64_t full) {
  return full / kSweepDivisor > 0 ? full / kSweepDivisor : 1;
}

// `full` seeds in a release build, `sanitized` in a sanitized one: for the long sweeps of one
// design that hold on every seed, where a tenth is still more runs than new code paths.
constexpr std::uint64_t sweep_seeds(std::uint64_t full, std::uint64_t sanitized) {
  return kSanitized ? sanitized : full;
}

}  // namespace seer::testing
