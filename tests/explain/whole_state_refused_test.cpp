// A replica's whole state pushed to a peer that had sent it an acknowledged write, which the
// replica refused and then pushed its own state without: stored over that write, it drops it
// (docs/explain.md, stale_derived_write between the design's own processes, `own_copy`).
#include "explain_fixture.hpp"

#include <gtest/gtest.h>

#include <string>

namespace seer::explain::whole_state_refused_test {
namespace {

using testing::explained;
using testing::hand_written;
using testing::holds;
using testing::parse;

// traces/whole_state_push_refused.jsonl, written by hand: r1 stores c1's add of i-7 (#11, #12)
// and acknowledges it (#13), then pushes its list {i-7} to r2 (#15), which takes it in (#16) and
// stores nothing (refused as older); r2 pushes its own {i-9} (#17); r1 stores it (#18, #19): i-7
// is gone, though the push's sender had been shown it.
TEST(ExplainWholeStateRefused, APushThatLacksAWriteItsSenderWasShownIsAStaleCopy) {
  const auto x = explained(parse(hand_written("whole_state_push_refused.jsonl")));
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  EXPECT_EQ(top.kind, "stale_derived_write") << top.summary;
  EXPECT_EQ(top.facts.value("how", std::string()), "relayed") << top.summary;
  EXPECT_TRUE(top.facts.value("sender_had_seen", false)) << top.summary;
  EXPECT_EQ(top.facts.value("decision_event", 0), 18);
  for (const std::uint64_t e : {13u, 17u, 18u, 19u}) EXPECT_TRUE(holds(top.events, e)) << e;
}

// traces/whole_state_push_refused_twice.jsonl: the same, then r2 pushes again (#27), still
// without i-7, and r1 stores that too (#29). The loss was the first push: the second is not
// named, since a copy from the same sender had already replaced the write.
TEST(ExplainWholeStateRefused, OnlyTheFirstPushStoredOverTheWriteIsNamed) {
  const auto x = explained(parse(hand_written("whole_state_push_refused_twice.jsonl")));
  ASSERT_FALSE(x.causes.empty());
  for (const auto& c : x.causes) {
    if (c.kind != "stale_derived_write") continue;
    EXPECT_EQ(c.facts.value("decision_event", 0), 18) << c.summary;
  }
}

}  // namespace
}  // namespace seer::explain::whole_state_refused_test
