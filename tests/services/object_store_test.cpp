// The simulated object store: strong mode keeps its contract (linearizable boundary history), the
// stale modes are caught and marked, and the segments design shows which guarantee it relies on.
#include "seer/sim/system.hpp"
#include "seer/systems/builtin.hpp"
#include "sweep_scale.hpp"

#include <gtest/gtest.h>

namespace seer::sim {
namespace {

RunResult run(const std::string& system, const std::string& variant, std::uint64_t seed,
              const std::string& impl, bool trace = false) {
  register_builtin_systems();
  RunConfig c;
  c.seed = seed;
  c.services["object-store"] = impl;
  c.record_trace = trace;
  return run_system(*SystemRegistry::instance().find(system), variant, c);
}

TEST(ObjectStore, StrongModeIsLinearizableAndStaleListingsStillAre) {
  for (std::uint64_t seed = 1; seed <= seer::testing::sweep_seeds(1000); ++seed) {
    for (const char* impl : {"strong", "stale-list"}) {  // the contract workload never lists
      const auto r = run("object-contract", "default", seed, impl);
      ASSERT_TRUE(r.ok()) << impl << " seed " << seed << ": " << r.violation->message;
    }
  }
}

TEST(ObjectStore, EventualModeIsCaughtAndItsStaleReadsMarked) {
  int failing = 0;
  const auto seeds = seer::testing::sweep_seeds(100);
  for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
    const auto r = run("object-contract", "default", seed, "eventual", true);
    failing += r.ok() ? 0 : 1;
    int stale = 0;
    for (const auto& line : r.trace_lines) {
      const auto e = nlohmann::json::parse(line);
      if (e["kind"] != "deliver" || e["type"] != "object_reply") continue;
      const auto& f = e["oracle"]["service"];
      if (f["op"] != "get") continue;
      stale += f["stale"].get<bool>() ? 1 : 0;
      if (!f["stale"].get<bool>()) {
        EXPECT_EQ(e["payload"]["etag"], f["latest_etag"]);
      }
    }
    if (!r.ok()) {
      EXPECT_GT(stale, 0) << "seed " << seed;
    }
  }
  EXPECT_GT(failing, static_cast<int>(seeds * 4 / 5));
}

TEST(ObjectStore, StaleListingsAreMarkedWithWhatTheyMissed) {
  const auto r = run("segments", "if-none-match", 1, "stale-list", true);
  int stale = 0;
  for (const auto& line : r.trace_lines) {
    const auto e = nlohmann::json::parse(line);
    if (e["kind"] != "deliver" || e["type"] != "object_reply") continue;
    const auto& f = e["oracle"]["service"];
    if (f["op"] != "list") continue;
    EXPECT_EQ(f["stale"].get<bool>(), !f["missing"].empty());
    stale += f["stale"].get<bool>() ? 1 : 0;
  }
  EXPECT_GT(stale, 0);
}

// Numbering segments from a listing is safe on a strongly consistent store and loses data as soon
// as listings lag (seed 1); If-None-Match is safe on both.
TEST(Segments, ListThenPutReliesOnFreshListings) {
  for (std::uint64_t seed = 1; seed <= seer::testing::sweep_seeds(300); ++seed) {
    ASSERT_TRUE(run("segments", "list-then-put", seed, "strong").ok()) << "seed " << seed;
    ASSERT_TRUE(run("segments", "if-none-match", seed, "stale-list").ok()) << "seed " << seed;
  }
  const auto r = run("segments", "list-then-put", 1, "stale-list");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.violation->message.find("the first is lost"), std::string::npos);
}

}  // namespace
}  // namespace seer::sim
