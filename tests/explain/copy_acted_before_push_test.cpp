// A copy (one of the design's own processes) that read its own storage and acted on it itself
// while another copy's acknowledged write of the key, pushed to it by that copy, was still on its
// way (docs/explain.md, stale_read, how `unreached_copy`, `facts.pushed_by_copy`).
#include "explain_fixture.hpp"
#include "seer/explain/redact.hpp"

#include <gtest/gtest.h>

#include <string>

namespace seer::explain::copy_acted_before_push_test {
namespace {

using testing::cause_told;
using testing::explained;
using testing::hand_written;
using testing::holds;
using testing::parse;

// traces/copy_acted_before_push.jsonl, written by hand: node1 stores shopper's add of i-1 to
// cart/c-1 (#8), answers it (#9) and pushes its copy to node2 (#10); shopper checks out at node2
// (#12), which reads its copy (#14, nothing) and sends the order to ledger (#15); the push
// arrives at #17.
TEST(ExplainCopyActedBeforePush, ACopyActingOnItsReadBeforeThePushArrivedIsAStaleRead) {
  const auto x = explained(parse(hand_written("copy_acted_before_push.jsonl")));
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  EXPECT_EQ(top.kind, "stale_read") << top.summary;
  EXPECT_EQ(top.facts.value("how", std::string()), "unreached_copy") << top.summary;
  EXPECT_TRUE(top.facts.value("pushed_by_copy", false)) << top.summary;
  EXPECT_EQ(top.process, "node2");
  EXPECT_EQ(top.facts.value("decision_event", 0), 15) << top.summary;
  for (const std::uint64_t e : {8u, 9u, 10u, 14u, 15u}) EXPECT_TRUE(holds(top.events, e)) << e;
}

// Messages and storage events alone: a log tells the same.
TEST(ExplainCopyActedBeforePush, ALogTellsTheSame) {
  const auto x = explained(redact(parse(hand_written("copy_acted_before_push.jsonl"))));
  const auto* c = cause_told(x, "unreached_copy", "stale_read");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(&x.causes.front(), c) << x.causes.front().summary;
}

// traces/copy_acted_after_push.jsonl: the push reached node2 (and was stored) before the
// checkout: its read had the write, and nothing is named.
TEST(ExplainCopyActedBeforePush, APushThatArrivedBeforeTheReadIsNotNamed) {
  const auto x = explained(parse(hand_written("copy_acted_after_push.jsonl")));
  EXPECT_EQ(cause_told(x, "unreached_copy"), nullptr);
  EXPECT_EQ(cause_told(explained(redact(parse(hand_written("copy_acted_after_push.jsonl")))),
                       "unreached_copy"),
            nullptr);
}

}  // namespace
}  // namespace seer::explain::copy_acted_before_push_test
