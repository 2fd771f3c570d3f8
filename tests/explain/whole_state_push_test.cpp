// A replica's whole state pushed to a peer and stored under one fixed key that the message does not
// name, over an acknowledged write the push had not seen (docs/explain.md, stale_derived_write
// between the design's own processes, `own_copy`).
#include "explain_fixture.hpp"

#include <gtest/gtest.h>

#include <string>

namespace seer::explain::whole_state_push_test {
namespace {

using testing::cause_told;
using testing::explained;
using testing::hand_written;
using testing::holds;
using testing::parse;

// traces/whole_state_push.jsonl, written by hand: r2 stores c1's add of i-7 under `list` (#11,
// #12) and acknowledges it (#13); r1, which never saw it, pushes its whole list {i-9} (#15); r2
// takes it and stores `list` (#16, #17): i-7 is gone.
TEST(ExplainWholeStatePush, APushStoredOverAnAcknowledgedAddItNeverSawIsAStaleCopy) {
  const auto x = explained(parse(hand_written("whole_state_push.jsonl")));
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  EXPECT_EQ(top.kind, "stale_derived_write") << top.summary;
  EXPECT_EQ(top.facts.value("how", std::string()), "relayed") << top.summary;
  EXPECT_TRUE(top.facts.value("own_copy", false)) << top.summary;
  EXPECT_EQ(top.facts.value("key", std::string()), "list");
  for (const std::uint64_t e : {13u, 15u, 16u, 17u}) EXPECT_TRUE(holds(top.events, e)) << e;
}

// traces/whole_state_push_seen.jsonl: the same lists, but r2 pushes {i-7} to r1 first, and r1's
// push carries both items. r2's push to r1 landed on c2's add of i-9 that it had not seen, yet
// nothing says r1 overwrote rather than merged, and the lost item is not i-9: no cause.
TEST(ExplainWholeStatePush, APushThatCarriesTheViolatedItemOrNoneOfItIsNoStaleCopy) {
  const auto x = explained(parse(hand_written("whole_state_push_seen.jsonl")));
  EXPECT_EQ(cause_told(x, "relayed"), nullptr);
}

}  // namespace
}  // namespace seer::explain::whole_state_push_test
