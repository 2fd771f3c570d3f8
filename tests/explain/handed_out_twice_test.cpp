// The same queue message handed out to two consumers, each of which acted on it, told from the
// replies alone (a log: no redelivery mark) (docs/explain.md, duplicate_delivery, how
// `handed_out_twice`).
#include "explain_fixture.hpp"

#include <gtest/gtest.h>

#include <string>

namespace seer::explain::handed_out_twice_test {
namespace {

using testing::cause_told;
using testing::explained;
using testing::hand_written;
using testing::holds;
using testing::parse;

// traces/message_handed_out_twice.jsonl, written by hand, no oracle facts: the queue hands
// message 1 (order o-1) to p1 (delivered #8), which ships it (db's reply #11); then hands the same
// message to p2 (delivered #16), which ships it again (#19).
TEST(ExplainHandedOutTwice, TheSameMessageHandledByTwoConsumersIsADuplicate) {
  const auto x = explained(parse(hand_written("message_handed_out_twice.jsonl")));
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  EXPECT_EQ(top.kind, "duplicate_delivery") << top.summary;
  EXPECT_EQ(top.facts.value("how", std::string()), "handed_out_twice") << top.summary;
  EXPECT_EQ(top.process, "p2");
  EXPECT_EQ(top.facts.value("first_delivery_event", 0), 8) << top.summary;
  EXPECT_EQ(top.facts.value("act_event", 0), 19) << top.summary;
  for (const std::uint64_t e : {8u, 16u, 19u}) EXPECT_TRUE(holds(top.events, e)) << e;
}

// traces/message_handed_out_unhandled.jsonl: p1 took the message and never acted on it (no
// shipment); p2's handling is the only one: not a duplicate.
TEST(ExplainHandedOutTwice, AMessageTheFirstConsumerNeverHandledIsNotNamed) {
  const auto x = explained(parse(hand_written("message_handed_out_unhandled.jsonl")));
  EXPECT_EQ(cause_told(x, "handed_out_twice"), nullptr);
}

}  // namespace
}  // namespace seer::explain::handed_out_twice_test
