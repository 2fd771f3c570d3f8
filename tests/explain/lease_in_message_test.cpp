// A lease that lives in a message: a lock server grants it with a deadline on its own clock, and
// the holder keeps writing after the server granted the same lease to another process
// (expired_lease, `how: granted`).
#include "explain_fixture.hpp"
#include "seer/explain/explain.hpp"
#include "seer/explain/redact.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace seer::explain {
namespace {

const Cause* granted_lease_cause(const Explanation& x) {
  const auto found = std::find_if(x.causes.begin(), x.causes.end(), [](const Cause& c) {
    return c.kind == "expired_lease" && c.facts.value("how", std::string()) == "granted";
  });
  return found == x.causes.end() ? nullptr : &*found;
}

bool lease_holds(const std::vector<std::uint64_t>& events, std::uint64_t seq) {
  return std::find(events.begin(), events.end(), seq) != events.end();
}

std::string lease_text_with(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// traces/lease_granted_by_message.jsonl: the keeper grants w1 the lease until 12 ms on its clock
// (#7); at 15 ms it grants it to w2 (#15). w1, whose clock runs 40 ms behind, still takes the
// lease for its own and writes tickets/next at 20 ms (sent #18, applied #22), after w2 did.
TEST(ExplainLeaseInMessage, AWriteAfterTheLeaseWasGrantedToAnotherIsAnExpiredLease) {
  const auto x =
      testing::explained(testing::parse(testing::hand_written("lease_granted_by_message.jsonl")));
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  EXPECT_EQ(top.kind, "expired_lease") << top.summary;
  EXPECT_EQ(top.process, "w1");
  EXPECT_EQ(top.facts.value("how", std::string()), "granted") << top.summary;
  for (const std::uint64_t seq : {7u, 15u, 22u}) {
    EXPECT_TRUE(lease_holds(top.events, seq)) << seq << ": " << top.summary;
    EXPECT_TRUE(lease_holds(x.slice, seq)) << seq;
  }
  // Its clock read -20 ms when it wrote: behind the keeper's, which had passed 12 ms.
  ASSERT_FALSE(top.behind.empty()) << top.summary;
  EXPECT_EQ(top.behind.front().kind, "clock_behind");
}

// Without the oracle's clocks the grants and the write still tell it; only why is unknown.
TEST(ExplainLeaseInMessage, TheRedactedTraceStillNamesIt) {
  const auto trace =
      redact(testing::parse(testing::hand_written("lease_granted_by_message.jsonl")));
  const auto x = testing::explained(trace);
  const auto* c = granted_lease_cause(x);
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->behind.empty()) << c->summary;
}

// The keeper's clock runs 20 ms behind, so early in the run it reads below zero and so does the
// first deadline (-8 ms): still a deadline ahead of its clock.
TEST(ExplainLeaseInMessage, ADeadlineBelowZeroIsStillALease) {
  auto text = lease_text_with(
      testing::hand_written("lease_granted_by_message.jsonl"),
      R"("process": "keeper", "kind": "start", "parents": [], "oracle": {"clock_offset_ns": 0)",
      R"("process": "keeper", "kind": "start", "parents": [], "oracle": {"clock_offset_ns": -20000000)");
  for (int copy = 0; copy < 2; ++copy) {
    text = lease_text_with(text, R"("until": 12000000)", R"("until": -8000000)");
    text = lease_text_with(text, R"("until": 25000000)", R"("until": 5000000)");
  }
  const auto x = testing::explained(testing::parse(text));
  const auto* c = granted_lease_cause(x);
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(lease_holds(c->events, 22)) << c->summary;
  ASSERT_FALSE(c->behind.empty()) << c->summary;
  EXPECT_EQ(c->behind.front().kind, "clock_behind");
}

// The keeper's second grant is of another lock: w1 still held its own.
TEST(ExplainLeaseInMessage, AGrantOfSomethingElseTakesNothingOver) {
  const auto text = lease_text_with(testing::hand_written("lease_granted_by_message.jsonl"),
                                    R"("owner": "w2",)", R"("owner": "w2", "lock": "l-2",)");
  const auto x = testing::explained(testing::parse(text));
  const auto* c = granted_lease_cause(x);
  EXPECT_EQ(c, nullptr) << c->summary;
}

// The answer carries no deadline (a number that is no clock reading): no lease.
TEST(ExplainLeaseInMessage, AnAnswerWithoutADeadlineIsNoLease) {
  const auto text = lease_text_with(testing::hand_written("lease_granted_by_message.jsonl"),
                                    R"("until": 12000000)", R"("until": 3)");
  const auto x = testing::explained(testing::parse(text));
  const auto* c = granted_lease_cause(x);
  EXPECT_EQ(c, nullptr) << c->summary;
}

}  // namespace
}  // namespace seer::explain
