// A request to one of the design's own servers that took effect (the server's write for it) with
// no answer yet, after its requester had given up and sent it to another server
// (docs/explain.md, lost_response, how `effect_unanswered`).
#include "explain_fixture.hpp"
#include "seer/explain/redact.hpp"

#include <gtest/gtest.h>

#include <string>

namespace seer::explain::effect_unanswered_test {
namespace {

using testing::cause_told;
using testing::explained;
using testing::hand_written;
using testing::holds;
using testing::parse;
using testing::replaced;

// traces/effect_unanswered.jsonl, written by hand: api1 takes in desk's refund r-1 (#6) and puts
// `paid/r-1/a`; desk gives up (#8) and sends the same refund to api2 (#9), which puts
// `paid/r-1/b`; api1's put takes effect at #13, api2's at #15, and neither has answered.
TEST(ExplainEffectUnanswered, AWriteForARequestGivenUpOnIsWhereItTookEffect) {
  const auto x = explained(parse(hand_written("effect_unanswered.jsonl")));
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  EXPECT_EQ(top.kind, "lost_response") << top.summary;
  EXPECT_EQ(top.facts.value("how", std::string()), "effect_unanswered") << top.summary;
  EXPECT_EQ(top.process, "desk");
  EXPECT_EQ(top.facts.value("retry_event", 0), 9) << top.summary;
  for (const std::uint64_t e : {8u, 9u, 13u, 15u}) EXPECT_TRUE(holds(top.events, e)) << e;
}

// Messages and the replies' order: a log tells the same.
TEST(ExplainEffectUnanswered, ALogTellsTheSame) {
  const auto x = explained(redact(parse(hand_written("effect_unanswered.jsonl"))));
  const auto* c = cause_told(x, "effect_unanswered", "lost_response");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(&x.causes.front(), c) << x.causes.front().summary;
}

// What desk sent api2 after giving up is another refund: no retry, and nothing is named.
TEST(ExplainEffectUnanswered, ARequestForOtherDataIsNoRetry) {
  const auto text = replaced(hand_written("effect_unanswered.jsonl"),
                             "\"refund\": \"r-1\", \"req\": 2", "\"refund\": \"r-2\", \"req\": 2");
  EXPECT_EQ(cause_told(explained(parse(text)), "effect_unanswered"), nullptr);
  EXPECT_EQ(cause_told(explained(redact(parse(text))), "effect_unanswered"), nullptr);
}

}  // namespace
}  // namespace seer::explain::effect_unanswered_test
