// Each fault kind shows up in the trace, with the oracle's forbidden facts on it.
#include "seer/sim/system.hpp"
#include "seer/systems/builtin.hpp"

#include <gtest/gtest.h>

#include <functional>

namespace seer::sim {
namespace {

std::vector<nlohmann::json> trace_with(FaultKind kind, std::uint64_t seed,
                                       const char* variant = "correct") {
  register_builtin_systems();
  RunConfig c;
  c.seed = seed;
  c.faults = std::vector<FaultKind>{kind};
  c.record_trace = true;
  auto r = run_system(*SystemRegistry::instance().find("register"), variant, c);
  std::vector<nlohmann::json> events;
  for (const auto& line : r.trace_lines) events.push_back(nlohmann::json::parse(line));
  return events;
}

// True if some event in one of the first seeds satisfies `pred`.
bool seen(FaultKind kind, const std::function<bool(const nlohmann::json&)>& pred,
          const char* variant = "correct") {
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    for (const auto& e : trace_with(kind, seed, variant)) {
      if (pred(e)) return true;
    }
  }
  return false;
}

bool has_oracle(const nlohmann::json& e, const char* key) {
  return e.contains("oracle") && e["oracle"].contains(key);
}

TEST(FaultKinds, EveryDeliveryIsAnnotatedWithTimeInFlight) {
  std::set<std::int64_t> latencies;
  for (const auto& e : trace_with(FaultKind::kDelay, 1)) {
    if (e["kind"] == "deliver") {
      ASSERT_TRUE(has_oracle(e, "in_flight_ns"));
      latencies.insert(e["oracle"]["in_flight_ns"].get<std::int64_t>());
    }
  }
  EXPECT_GT(latencies.size(), 10u) << "the delay fault should vary latency";
}

TEST(FaultKinds, ReorderShowsWhichMessagesOvertook) {
  EXPECT_TRUE(seen(FaultKind::kReorder, [](const nlohmann::json& e) {
    return e["kind"] == "deliver" && e["oracle"].value("reordered", false) &&
           !e["oracle"]["overtaken_by"].empty();
  }));
}

TEST(FaultKinds, DropIsTracedWithItsReason) {
  EXPECT_TRUE(seen(FaultKind::kDrop, [](const nlohmann::json& e) {
    return e["kind"] == "drop" && e.value("reason", "") == "loss" && e["parents"].size() == 1;
  }));
}

TEST(FaultKinds, DuplicateIsTracedAndTheSecondDeliveryMarked) {
  EXPECT_TRUE(seen(FaultKind::kDuplicate,
                   [](const nlohmann::json& e) { return e["kind"] == "duplicate"; }));
  EXPECT_TRUE(seen(FaultKind::kDuplicate, [](const nlohmann::json& e) {
    return e["kind"] == "deliver" && e["oracle"].value("duplicate", false);
  }));
}

TEST(FaultKinds, PartitionsStartHealAndDropMessages) {
  EXPECT_TRUE(seen(FaultKind::kPartition, [](const nlohmann::json& e) {
    return e["kind"] == "partition" && !e["group_a"].empty() && !e["group_b"].empty();
  }));
  EXPECT_TRUE(
      seen(FaultKind::kPartition, [](const nlohmann::json& e) { return e["kind"] == "heal"; }));
  EXPECT_TRUE(seen(FaultKind::kPartition, [](const nlohmann::json& e) {
    return e["kind"] == "drop" && e.value("reason", "") == "partition";
  }));
  EXPECT_TRUE(seen(FaultKind::kPartition, [](const nlohmann::json& e) {
    return e["kind"] == "partition" && e.value("one_way", false);
  }));
}

TEST(FaultKinds, CrashReportsWhatWasLostAndRestarts) {
  EXPECT_TRUE(seen(FaultKind::kCrash, [](const nlohmann::json& e) {
    return e["kind"] == "crash" && e["oracle"].value("volatile_state", "") == "discarded" &&
           e["oracle"].contains("lost_unsynced_writes");
  }));
  EXPECT_TRUE(
      seen(FaultKind::kCrash, [](const nlohmann::json& e) { return e["kind"] == "restart"; }));
  // The naive register leaves writes unsynced, so some crash must report them lost.
  EXPECT_TRUE(seen(
      FaultKind::kCrash,
      [](const nlohmann::json& e) {
        return e["kind"] == "crash" && !e["oracle"]["lost_unsynced_writes"].empty();
      },
      "naive"));
}

TEST(FaultKinds, PauseAndResumeReportHowLong) {
  EXPECT_TRUE(seen(FaultKind::kPause, [](const nlohmann::json& e) {
    return e["kind"] == "pause" && e["oracle"]["pause_ns"].get<std::int64_t>() > 0;
  }));
  EXPECT_TRUE(seen(FaultKind::kPause, [](const nlohmann::json& e) {
    return e["kind"] == "resume" && e["oracle"]["paused_ns"].get<std::int64_t>() > 0;
  }));
}

TEST(FaultKinds, ClockSkewIsAnnotatedOnEachProcessStart) {
  std::set<std::int64_t> offsets;
  for (const auto& e : trace_with(FaultKind::kClock, 1)) {
    if (e["kind"] == "start") offsets.insert(e["oracle"]["clock_offset_ns"].get<std::int64_t>());
  }
  EXPECT_GT(offsets.size(), 1u) << "processes should get different clock offsets";
  for (const auto& e : trace_with(FaultKind::kDelay, 1)) {
    if (e["kind"] == "start") {
      EXPECT_EQ(e["oracle"]["clock_offset_ns"], 0);
    }
  }
}

TEST(FaultKinds, TornWritesPersistAPrefix) {
  // Torn writes need crashes: pin both through the register's naive variant, which leaves data
  // unsynced.
  register_builtin_systems();
  bool torn = false;
  for (std::uint64_t seed = 1; seed <= 40 && !torn; ++seed) {
    RunConfig c;
    c.seed = seed;
    c.faults = std::vector<FaultKind>{FaultKind::kCrash, FaultKind::kTorn};
    c.record_trace = true;
    auto r = run_system(*SystemRegistry::instance().find("register"), "naive", c);
    for (const auto& line : r.trace_lines) {
      auto e = nlohmann::json::parse(line);
      if (e["kind"] != "crash" || !e["oracle"].contains("torn_persisted")) continue;
      for (const auto& p : e["oracle"]["torn_persisted"])
        torn = torn || p.contains("torn_to_bytes");
    }
  }
  EXPECT_TRUE(torn);
}

TEST(FaultKinds, StaleReadsAreAnnotated) {
  // Under partitions a query may reach a replica that missed the latest acknowledged write.
  EXPECT_TRUE(seen(FaultKind::kPartition, [](const nlohmann::json& e) {
    return e["kind"] == "deliver" && e.value("type", "") == "query_reply" &&
           e["oracle"].value("stale", false) && e["oracle"]["versions_behind"].get<int>() > 0;
  }));
}

TEST(FaultKinds, NoFaultsMeansNoFaultEvents) {
  for (const auto& e : trace_with(FaultKind::kDelay, 2)) {
    for (const char* kind : {"drop", "duplicate", "crash", "partition", "pause"}) {
      ASSERT_NE(e["kind"], kind);
    }
  }
}

}  // namespace
}  // namespace seer::sim
