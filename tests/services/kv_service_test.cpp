// The simulated KV store against its contract (docs/services.md): linearizable mode gives
// linearizable boundary histories; stale mode does not, and the oracle marks every stale read; a
// lost response is marked and its op ends outcome-unknown.
#include "seer/sim/system.hpp"
#include "seer/systems/builtin.hpp"
#include "sweep_scale.hpp"

#include <gtest/gtest.h>

namespace seer::sim {
namespace {

const System& contract() {
  register_builtin_systems();
  return *SystemRegistry::instance().find("kv-contract");
}

RunResult run(std::uint64_t seed, const std::string& impl, bool trace = false,
              std::optional<std::vector<FaultKind>> faults = std::nullopt) {
  RunConfig c;
  c.seed = seed;
  c.services["kv"] = impl;
  c.record_trace = trace;
  c.faults = std::move(faults);
  return run_system(contract(), "default", c);
}

std::vector<nlohmann::json> events(const RunResult& r) {
  std::vector<nlohmann::json> out;
  for (const auto& line : r.trace_lines) out.push_back(nlohmann::json::parse(line));
  return out;
}

TEST(KvService, LinearizableModeIsLinearizableUnderSwarmFaults) {
  for (std::uint64_t seed = 1; seed <= seer::testing::sweep_seeds(2000); ++seed) {
    const auto r = run(seed, "linearizable");
    ASSERT_TRUE(r.ok()) << "seed " << seed << ": " << r.violation->message;
  }
}

TEST(KvService, StaleModeIsCaughtAndEveryStaleReadIsMarked) {
  int failing = 0;
  const std::uint64_t seeds = seer::testing::sweep_seeds(200);
  for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
    const auto r = run(seed, "stale", true);
    failing += r.ok() ? 0 : 1;
    int stale_reads = 0;
    for (const auto& e : events(r)) {
      if (e["kind"] != "deliver" || e["type"] != "kv_reply" ||
          e["oracle"]["service"]["op"] != "get")
        continue;
      const bool stale = e["oracle"]["service"]["stale"].get<bool>();
      stale_reads += stale ? 1 : 0;
      // A read not marked stale returned exactly the latest value at the instant it was served.
      if (!stale) {
        ASSERT_EQ(e["payload"]["value"], e["oracle"]["service"]["latest_value"]) << "seed " << seed;
      }
      EXPECT_EQ(stale, e["oracle"]["service"]["versions_behind"].get<int>() > 0);
    }
    if (!r.ok()) {
      EXPECT_GT(stale_reads, 0) << "seed " << seed << " failed without a stale read";
    }
  }
  EXPECT_GT(failing, static_cast<int>(seeds * 3 / 4));
}

TEST(KvService, LinearizableModeNeverServesAStaleRead) {
  for (std::uint64_t seed = 1; seed <= seer::testing::sweep_seeds(100); ++seed) {
    for (const auto& e : events(run(seed, "linearizable", true))) {
      if (e["kind"] == "deliver" && e["type"] == "kv_reply" &&
          e["oracle"]["service"]["op"] == "get") {
        ASSERT_FALSE(e["oracle"]["service"]["stale"].get<bool>()) << "seed " << seed;
        ASSERT_EQ(e["payload"]["value"], e["oracle"]["service"]["latest_value"]);
      }
    }
  }
}

TEST(KvService, BoundedStalenessStaysWithinItsBound) {
  for (std::uint64_t seed = 1; seed <= seer::testing::sweep_seeds(100); ++seed) {
    for (const auto& e : events(run(seed, "stale-bounded", true))) {
      if (e["kind"] == "deliver" && e["type"] == "kv_reply" &&
          e["oracle"]["service"]["op"] == "get") {
        ASSERT_LE(e["oracle"]["service"]["store_revision"].get<int>() -
                      e["oracle"]["service"]["served_revision"].get<int>(),
                  3);
      }
    }
  }
}

TEST(KvService, LostResponsesAreMarkedAndEndOutcomeUnknown) {
  int lost_writes = 0;
  const auto seeds = seer::testing::sweep_seeds(50);
  for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
    const auto r =
        run(seed, "linearizable", true, std::vector<FaultKind>{FaultKind::kLostResponse});
    ASSERT_TRUE(r.ok()) << "seed " << seed;
    int lost = 0;
    for (const auto& e : events(r)) {
      if (e["kind"] == "annotation" && e["what"] == "lost_response") {
        ++lost;
        if (e["oracle"].value("applied", false)) ++lost_writes;
      }
    }
    int unknown = 0;
    for (const auto& h : r.history) unknown += h.type == OpType::kInfo ? 1 : 0;
    // Without network faults, every timeout comes from a lost response and vice versa.
    EXPECT_EQ(unknown, lost) << "seed " << seed;
  }
  EXPECT_GT(lost_writes, static_cast<int>(seeds / 5));
}

TEST(KvService, SameSeedSameRun) {
  const auto a = run(42, "stale");
  const auto b = run(42, "stale");
  EXPECT_EQ(a.trace_hash, b.trace_hash);
  EXPECT_NE(a.trace_hash, run(42, "linearizable").trace_hash);
}

}  // namespace
}  // namespace seer::sim
