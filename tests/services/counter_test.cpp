// The tiny design on the KV store: read-modify-write loses increments, CAS that retries after a
// timeout applies some twice, CAS that reports the timeout as unknown holds, on a linearizable and
// on a stale-reading store alike.
#include "seer/sim/system.hpp"
#include "seer/systems/builtin.hpp"
#include "sweep_scale.hpp"

#include <gtest/gtest.h>

namespace seer::sim {
namespace {

const System& counter() {
  register_builtin_systems();
  return *SystemRegistry::instance().find("counter");
}

RunResult run(const std::string& variant, std::uint64_t seed, const std::string& kv,
              std::optional<std::vector<FaultKind>> faults = std::nullopt) {
  RunConfig c;
  c.seed = seed;
  c.services["kv"] = kv;
  c.faults = std::move(faults);
  return run_system(counter(), variant, c);
}

// Seed 1, found by `seer sweep counter --variant naive --seeds 1..1000`: two clients read the same
// value and both put value+1.
TEST(Counter, NaiveSeed1LosesAnAcknowledgedIncrement) {
  const auto r = run("naive", 1, "linearizable");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.violation->message.find("was lost"), std::string::npos) << r.violation->message;
}

// Seed 1 with only lost responses: an update applied, its response lost, and the retry
// incremented again.
TEST(Counter, CasRetrySeed1AppliesAnIncrementTwice) {
  const auto r =
      run("cas-retry", 1, "linearizable", std::vector<FaultKind>{FaultKind::kLostResponse});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.violation->message.find("applied twice"), std::string::npos) << r.violation->message;
  // Without lost responses (or drops) its retries are harmless.
  EXPECT_TRUE(run("cas-retry", 1, "linearizable", std::vector<FaultKind>{FaultKind::kDelay}).ok());
}

TEST(Counter, CasHoldsOnLinearizableAndStaleStores) {
  for (const char* kv : {"linearizable", "stale"}) {
    for (std::uint64_t seed = 1; seed <= seer::testing::sweep_seeds(1000); ++seed) {
      const auto r = run("cas", seed, kv);
      ASSERT_TRUE(r.ok()) << kv << " seed " << seed << ": " << r.violation->message;
    }
  }
}

}  // namespace
}  // namespace seer::sim
