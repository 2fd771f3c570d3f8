// The native target's design in simulation (systems/promises/design/native.hpp, NOTES.md step 7):
// the protocol inside the database, an outbox drained by nodes, wake-ups that may be lost and a
// tick, concurrent timeout processors. `native` holds under swarm faults and after the heal;
// `native-unlocked` (process_timeouts() without the origin lock) is caught and explained.
#include "../explain/trace_fixture.hpp"
#include "seer/explain/causal_graph.hpp"
#include "seer/explain/explain.hpp"
#include "seer/sim/system.hpp"
#include "seer/systems/builtin.hpp"
#include "sweep_scale.hpp"
#include "variant_holds.hpp"

#include <gtest/gtest.h>

// Named, not anonymous: the unity build compiles this file with design_test.cpp.
namespace native_design_test {

using seer::sim::RunConfig;
using seer::sim::RunResult;

const seer::sim::System& promises() {
  seer::sim::register_builtin_systems();
  return *seer::sim::SystemRegistry::instance().find("promises");
}

RunResult run(const std::string& variant, std::uint64_t seed) {
  RunConfig c;
  c.seed = seed;
  return seer::sim::run_system(promises(), variant, c);
}

seer::explain::Explanation explain(const std::string& variant, std::uint64_t seed) {
  const auto trace = seer::explain::testing::recorded("promises", variant, seed);
  const seer::explain::CausalGraph graph(trace);
  return seer::explain::explain_trace(trace, graph);
}

// Every invariant, the history's linearizability and the four liveness properties after the heal.
TEST(PromisesNativeDesign, NativeHoldsUnderSwarmFaults) {
  seer::testing::expect_holds(promises(), "native", seer::testing::sweep_seeds(500));
}

// process_timeouts() without the origin lock, from two nodes at once: node1 read o3's due rows,
// node2's sweep of o3 committed, and node1 wrote the task back at the version it had read.
TEST(PromisesNativeDesign, UnlockedSweepSeed4WritesATaskBackFromAnOutdatedRead) {
  const auto r = run("native-unlocked", 4);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.violation->invariant, "settled-once");
  EXPECT_NE(r.violation->message.find("T5: task o3:1 went from version 2 back to 1"),
            std::string::npos)
      << r.violation->message;
  EXPECT_TRUE(run("native", 4).ok());
  const auto x = explain("native-unlocked", 4);
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  EXPECT_EQ(top.kind, "outdated_read") << top.summary;
  EXPECT_EQ(top.summary.rfind("node1's sweep_read", 0), 0u) << top.summary;
  EXPECT_NE(top.summary.find("node2's write o"), std::string::npos) << top.summary;
}

// The other pinned seeds of 1..300, each a different face of the same lost update.
TEST(PromisesNativeDesign, UnlockedSweepIsCaughtWithinTheFirstSeeds) {
  for (const std::uint64_t seed : {4, 60, 78, 120, 122, 168, 209}) {
    const auto r = run("native-unlocked", seed);
    EXPECT_FALSE(r.ok()) << "seed " << seed;
    EXPECT_TRUE(run("native", seed).ok()) << "seed " << seed;
  }
}

TEST(PromisesNativeDesign, SameSeedSameTrace) {
  for (const char* variant : {"native", "native-unlocked"}) {
    seer::testing::expect_same_trace(promises(), variant, seer::testing::sweep_seeds(10));
  }
}

}  // namespace native_design_test
