// "This variant holds under swarm faults": every invariant, the history's linearizability and
// (after the heal) every liveness property on seeds 1..seeds, no run stalled. One loop for every
// design test that claims it.
#pragma once

#include "seer/sim/system.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <string>

namespace seer::testing {

// Fails (and stops) at the first seed that violates anything or stalls.
inline void expect_holds(const sim::System& system, const std::string& variant, std::uint64_t seeds,
                         const std::map<std::string, std::string>& services = {}) {
  for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
    sim::RunConfig c;
    c.seed = seed;
    c.services = services;
    const auto r = sim::run_system(system, variant, c);
    ASSERT_TRUE(r.ok()) << variant << " seed " << seed << ": " << r.violation->invariant << ": "
                        << r.violation->message;
    ASSERT_FALSE(r.stalled) << variant << " seed " << seed;
  }
}

}  // namespace seer::testing
