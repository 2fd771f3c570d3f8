// How many seeds a test sweeps. Sanitized builds run about ten times slower and look for memory
// errors and undefined behaviour, which a tenth of the seeds still reaches; release builds sweep
// all.
#pragma once

#include <cstdint>

namespace seer::testing {

#ifdef SEER_SANITIZED
inline constexpr std::uint64_t kSweepDivisor = 10;
#else
inline constexpr std::uint64_t kSweepDivisor = 1;
#endif

// `full` seeds in a release build, a tenth (at least one) in a sanitized one.
constexpr std::uint64_t sweep_seeds(std::uint64_t full) {
  return full / kSweepDivisor > 0 ? full / kSweepDivisor : 1;
}

}  // namespace seer::testing
