// A compare-and-set retried with a refreshed version and the value computed from the first read:
// the write was decided on that first read, not on the latest (docs/explain.md, outdated_read, how
// `earlier_read`).
#include "explain_fixture.hpp"

#include <gtest/gtest.h>

#include <string>

namespace seer::explain::earlier_read_test {
namespace {

using testing::cause_told;
using testing::explained;
using testing::hand_written;
using testing::holds;
using testing::parse;
using testing::replaced;

// traces/retry_with_old_value.jsonl, written by hand: c1 reads group/g = {m-a} (#6, #7); c2 adds
// m-b (#10); c1's compare-and-set of {m-a, m-c} conflicts (#14); c1 re-reads {m-a, m-b} at
// revision 2 (#18, #19) and sends {m-a, m-c} again, expecting revision 2 (#20): it passes (#22)
// and m-b is gone.
TEST(ExplainEarlierRead, ARetryWithARefreshedVersionAndTheOldValueIsDecidedOnTheFirstRead) {
  const auto x = explained(parse(hand_written("retry_with_old_value.jsonl")));
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  EXPECT_EQ(top.kind, "outdated_read") << top.summary;
  EXPECT_EQ(top.facts.value("how", std::string()), "earlier_read") << top.summary;
  EXPECT_EQ(top.facts.value("read_event", 0), 7) << top.summary;
  EXPECT_EQ(top.facts.value("latest_read_event", 0), 19) << top.summary;
  EXPECT_EQ(top.facts.value("decision_event", 0), 22) << top.summary;
  for (const std::uint64_t e : {6u, 7u, 10u, 22u}) EXPECT_TRUE(holds(top.events, e)) << e;
}

// The same retry recomputing its value from the re-read ({m-a, m-b, m-c}, in its send and its
// delivery): the write keeps what
// the latest read showed, so no earlier read decided it.
TEST(ExplainEarlierRead, ARetryThatRecomputesFromTheReReadIsNotOne) {
  const auto original = hand_written("retry_with_old_value.jsonl");
  const auto text = replaced(
      original,
      R"("expected": 2, "key": "group/g", "op": "update", "req": 4, "value": {"members": ["m-a", "m-c"]})",
      R"("expected": 2, "key": "group/g", "op": "update", "req": 4, "value": {"members": ["m-a", "m-b", "m-c"]})");
  ASSERT_NE(text, original);
  const auto x = explained(parse(text));
  EXPECT_EQ(cause_told(x, "earlier_read"), nullptr);
}

}  // namespace
}  // namespace seer::explain::earlier_read_test
