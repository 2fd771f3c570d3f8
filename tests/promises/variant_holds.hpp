// What every promises design test claims of a variant, one loop each: it holds under swarm faults,
// and a seed gives one trace.
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

// Same seed, same trace: each of seeds 1..seeds run twice traced gives the same lines, and
// recording the trace does not change the run (its hash untraced).
inline void expect_same_trace(const sim::System& system, const std::string& variant,
                              std::uint64_t seeds) {
  for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
    sim::RunConfig c;
    c.seed = seed;
    const auto plain = sim::run_system(system, variant, c);
    c.record_trace = true;
    const auto a = sim::run_system(system, variant, c);
    const auto b = sim::run_system(system, variant, c);
    EXPECT_EQ(a.trace_lines, b.trace_lines) << variant << " seed " << seed;
    EXPECT_EQ(plain.trace_hash, a.trace_hash)
        << "tracing changed the run, " << variant << " seed " << seed;
  }
}

}  // namespace seer::testing
