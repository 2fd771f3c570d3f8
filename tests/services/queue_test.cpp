// The simulated at-least-once queue, through the jobs design: its deliveries keep their contract
// and carry the oracle's marks, and the design's variants fail or hold as documented.
#include "seer/sim/system.hpp"
#include "seer/systems/builtin.hpp"
#include "sweep_scale.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

namespace seer::sim {
namespace {

const System& jobs() {
  register_builtin_systems();
  return *SystemRegistry::instance().find("jobs");
}

RunResult run(const std::string& variant, std::uint64_t seed, bool trace = false,
              std::optional<std::vector<FaultKind>> faults = std::nullopt) {
  RunConfig c;
  c.seed = seed;
  c.record_trace = trace;
  c.faults = std::move(faults);
  return run_system(jobs(), variant, c);
}

std::vector<nlohmann::json> replies(const RunResult& r) {
  std::vector<nlohmann::json> out;
  for (const auto& line : r.trace_lines) {
    auto e = nlohmann::json::parse(line);
    if (e["type"] == "queue_reply" && e["kind"] == "deliver") out.push_back(std::move(e));
  }
  return out;
}

// Seed 1 of `seer sweep jobs --variant naive`: a message delivered twice ran its job twice.
TEST(Jobs, NaiveSeed1RunsAJobTwice) {
  const auto r = run("naive", 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.violation->invariant, "effect-at-most-once");
}

// Remembering done jobs on each consumer's own disk is not enough: the duplicate can go to the
// other consumer (seed 1 again).
TEST(Jobs, LocalDedupeSeed1StillRunsAJobTwice) {
  EXPECT_FALSE(run("local-dedupe", 1).ok());
}

// Claiming in the KV store never runs a job twice; the price is liveness: a lost claim response
// or a crash between claim and effect leaves a job never run, which the heal phase reports.
TEST(Jobs, ClaimNeverRunsAJobTwiceButLeavesSomeNeverRun) {
  int never_ran = 0;
  for (std::uint64_t seed = 1; seed <= seer::testing::sweep_seeds(1000, 50); ++seed) {
    const auto r = run("claim", seed);
    if (r.ok()) continue;
    ASSERT_TRUE(r.violation->liveness) << "seed " << seed << ": " << r.violation->message;
    ASSERT_EQ(r.violation->invariant, "every-job-runs") << "seed " << seed;
    ++never_ran;
  }
  EXPECT_GT(never_ran, 0);
}

TEST(QueueService, DeliversEachMessageOnceInOrderWithoutFaults) {
  for (std::uint64_t seed = 1; seed <= seer::testing::sweep_seeds(20); ++seed) {
    const auto r = run("naive", seed, true, std::vector<FaultKind>{});
    ASSERT_TRUE(r.ok()) << "seed " << seed;
    std::int64_t last = 0;
    // In the queue's order (by reply serial): the network may deliver a later reply first.
    auto delivered = replies(r);
    std::stable_sort(delivered.begin(), delivered.end(), [](const auto& a, const auto& b) {
      return a["payload"]["serial"].template get<std::uint64_t>() <
             b["payload"]["serial"].template get<std::uint64_t>();
    });
    for (const auto& e : delivered) {
      const auto& f = e["oracle"]["service"];
      if (f["op"] != "receive" || !f["found"].get<bool>()) continue;
      EXPECT_EQ(f["delivery"], 1);
      EXPECT_FALSE(f["out_of_order"].get<bool>());
      EXPECT_GT(f["message_id"].get<std::int64_t>(), last);
      last = f["message_id"].get<std::int64_t>();
    }
    EXPECT_EQ(last, 50) << "every job delivered";
  }
}

TEST(QueueService, EveryRedeliveryIsMarkedAndCarriesTheEnqueuedBody) {
  int duplicates = 0;
  int overdue = 0;
  for (std::uint64_t seed = 1; seed <= seer::testing::sweep_seeds(100); ++seed) {
    const auto r = run("claim", seed, true);
    std::map<std::int64_t, nlohmann::json> bodies;
    std::map<std::int64_t, int> deliveries;
    std::set<std::uint64_t> serials;  // the network may deliver one reply twice: count it once
    for (const auto& line : r.trace_lines) {
      const auto e = nlohmann::json::parse(line);
      if (!e.contains("oracle")) continue;
      // Enqueue facts come with the reply, or with the lost_response note when it never left.
      const auto& o = e.at("oracle");
      const auto f = e["kind"] == "annotation" ? o : o.value("service", nlohmann::json());
      if (f.is_object() && f.value("op", "") == "enqueue") {
        bodies[f.at("message_id").get<std::int64_t>()] = f.at("body");
      }
    }
    // In the queue's order (by reply serial): the network may deliver a later reply first.
    auto delivered = replies(r);
    std::stable_sort(delivered.begin(), delivered.end(), [](const auto& a, const auto& b) {
      return a["payload"]["serial"].template get<std::uint64_t>() <
             b["payload"]["serial"].template get<std::uint64_t>();
    });
    for (const auto& e : delivered) {
      const auto& f = e["oracle"]["service"];
      if (f["op"] != "receive" || !f["found"].get<bool>()) continue;
      if (!serials.insert(e["payload"]["serial"].get<std::uint64_t>()).second) continue;
      const auto id = f["message_id"].get<std::int64_t>();
      ASSERT_TRUE(bodies.count(id)) << "seed " << seed << ": delivered a message never enqueued";
      EXPECT_EQ(e["payload"]["body"], bodies[id]);
      const bool again = ++deliveries[id] > 1 || f["delivery"].get<int>() > 1;
      EXPECT_EQ(f["duplicate"].get<bool>(), f["delivery"].get<int>() > 1);
      if (again) {
        EXPECT_TRUE(f["duplicate"].get<bool>()) << "seed " << seed;
      }
      duplicates += f["duplicate"].get<bool>() ? 1 : 0;
      EXPECT_EQ(f["overdue"].get<bool>(), f["visible_for_ns"].get<std::int64_t>() > 200'000'000);
      overdue += f["overdue"].get<bool>() ? 1 : 0;
    }
  }
  EXPECT_GT(duplicates, 20 / seer::testing::kSweepDivisor);
  EXPECT_GT(overdue, 0);
}

}  // namespace
}  // namespace seer::sim
