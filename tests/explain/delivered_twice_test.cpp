// A network copy of a message: one send delivered twice to the same process, which acted on it
// once per delivery, told from a log (duplicate_delivery, how `delivered_twice`); and a copy the
// receiver could not act on twice (a service applies a copied request once, a client drops a
// copied reply), which is no first cause (docs/explain.md, duplicate_delivery).
#include "explain_fixture.hpp"
#include "seer/explain/redact.hpp"

#include <gtest/gtest.h>

#include <string>

namespace seer::explain::delivered_twice_test {
namespace {

using testing::cause_told;
using testing::explained;
using testing::hand_written;
using testing::holds;
using testing::parse;

// traces/message_delivered_twice.jsonl, written by hand, no oracle facts: lim sends credit cr-1
// once (#4), w1 takes it in twice (#5, #6); cr-2 comes once (#8). w1 pays a call with cr-1 (db's
// reply #11), one with cr-2, and another with cr-1 (#19): one delivery of a credit led to one
// call, this one to two.
TEST(ExplainDeliveredTwice, OneSendTakenInTwiceAndActedOnTwiceIsADuplicate) {
  const auto x = explained(parse(hand_written("message_delivered_twice.jsonl")));
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  EXPECT_EQ(top.kind, "duplicate_delivery") << top.summary;
  EXPECT_EQ(top.facts.value("how", std::string()), "delivered_twice") << top.summary;
  EXPECT_EQ(top.process, "w1");
  EXPECT_EQ(top.facts.value("first_delivery_event", 0), 5) << top.summary;
  EXPECT_EQ(top.facts.value("delivery_event", 0), 6) << top.summary;
  EXPECT_EQ(top.facts.value("act_event", 0), 19) << top.summary;
  for (const std::uint64_t e : {5u, 6u, 19u}) EXPECT_TRUE(holds(top.events, e)) << e;
}

// Redacted, the same: nothing of it is an oracle fact.
TEST(ExplainDeliveredTwice, ALogTellsTheSame) {
  const auto x = explained(redact(parse(hand_written("message_delivered_twice.jsonl"))));
  const auto* c = cause_told(x, "delivered_twice", "duplicate_delivery");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(&x.causes.front(), c) << x.causes.front().summary;
}

// traces/message_delivered_twice_once_acted.jsonl: the same two deliveries, but w1 paid one call
// with cr-1 (its third call pays cr-3): it acted on the message as often as on any other.
TEST(ExplainDeliveredTwice, ACopyActedOnOnceIsNotNamed) {
  const auto text = hand_written("message_delivered_twice_once_acted.jsonl");
  EXPECT_EQ(cause_told(explained(parse(text)), "delivered_twice"), nullptr);
  EXPECT_EQ(cause_told(explained(redact(parse(text))), "delivered_twice"), nullptr);
}

// traces/network_copy_to_service.jsonl, with the oracle's marks: the network copied the credit
// (delivered again at #7) and w1's third call (db took the copy in at #21). The service applied
// the call once: its copy changed nothing, and the credit's copy is the first cause.
TEST(ExplainServiceCopy, ACopyTheServiceAppliesOnceIsNoFirstCause) {
  const auto x = explained(parse(hand_written("network_copy_to_service.jsonl")));
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  EXPECT_EQ(top.kind, "duplicate_delivery") << top.summary;
  EXPECT_EQ(top.events.front(), 7u) << top.summary;
  EXPECT_FALSE(top.facts.value("deduplicated", false)) << top.summary;
  const Cause* copy = nullptr;
  for (const auto& c : x.causes) {
    if (c.kind == "duplicate_delivery" && c.events.front() == 21) copy = &c;
  }
  ASSERT_NE(copy, nullptr);
  EXPECT_TRUE(copy->facts.value("deduplicated", false)) << copy->summary;
  EXPECT_LT(copy->score, top.score);
}

}  // namespace
}  // namespace seer::explain::delivered_twice_test
