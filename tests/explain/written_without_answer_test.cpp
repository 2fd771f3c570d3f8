// A requester that gave up waiting for an answer and then wrote about what it had asked, taking
// the silence for an answer: a read's answer lost, the write built from the parts that arrived
// (lost_response, how `written_without_answer`); a write's answer lost, the next step undone
// as if it had not taken effect (the act on the silence joins the lost response) (docs/explain.md).
#include "explain_fixture.hpp"
#include "seer/explain/redact.hpp"

#include <gtest/gtest.h>

#include <string>

namespace seer::explain::written_without_answer_test {
namespace {

using testing::cause_told;
using testing::explained;
using testing::hand_written;
using testing::holds;
using testing::parse;

// traces/written_without_answer.jsonl, written by hand: the reporter sums shard_a (answered), asks
// shard_b for its sum (#9), whose answer (#11) the network drops (#12); it gives up (#13) and puts
// report/r-1 (#14, took effect at #16) with shard_b counted as 0.
TEST(ExplainWrittenWithoutAnswer, AWriteAfterGivingUpOnAReadIsNamed) {
  const auto x = explained(parse(hand_written("written_without_answer.jsonl")));
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  EXPECT_EQ(top.kind, "lost_response") << top.summary;
  EXPECT_EQ(top.facts.value("how", std::string()), "written_without_answer") << top.summary;
  EXPECT_EQ(top.facts.value("timeout_event", 0), 13) << top.summary;
  EXPECT_EQ(top.facts.value("act_event", 0), 14) << top.summary;
  EXPECT_EQ(top.facts.value("act_effect_event", 0), 16) << top.summary;
  for (const std::uint64_t e : {11u, 12u, 13u, 16u}) EXPECT_TRUE(holds(top.events, e)) << e;
}

// A log has no drop: the answer sent and never taken in says the same.
TEST(ExplainWrittenWithoutAnswer, ALogTellsTheSame) {
  const auto x = explained(redact(parse(hand_written("written_without_answer.jsonl"))));
  const auto* c = cause_told(x, "written_without_answer", "lost_response");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(&x.causes.front(), c) << x.causes.front().summary;
}

// traces/written_after_asking_again.jsonl: after giving up, the reporter asked shard_b again and
// wrote from its answer: no silence was taken for an answer.
TEST(ExplainWrittenWithoutAnswer, AWriteAfterAskingAgainIsNotNamed) {
  const auto text = hand_written("written_after_asking_again.jsonl");
  EXPECT_EQ(cause_told(explained(parse(text)), "written_without_answer"), nullptr);
  EXPECT_EQ(cause_told(explained(redact(parse(text))), "written_without_answer"), nullptr);
}

// traces/compensated_on_silence.jsonl: the shop's create of points/o-1 took effect and the KV
// store lost its answer (#10); the shop gave up (#11) and deleted order o-1 (#12, committed at
// #14): the compensation is its act on the silence.
TEST(ExplainActOnSilence, ACompensationAfterALostAnswerIsTheAct) {
  const auto x = explained(parse(hand_written("compensated_on_silence.jsonl")));
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  EXPECT_EQ(top.kind, "lost_response") << top.summary;
  EXPECT_EQ(top.facts.value("timeout_event", 0), 11) << top.summary;
  EXPECT_EQ(top.facts.value("act_event", 0), 12) << top.summary;
  EXPECT_EQ(top.facts.value("act_effect_event", 0), 14) << top.summary;
  for (const std::uint64_t e : {10u, 11u, 14u}) EXPECT_TRUE(holds(top.events, e)) << e;
}

// From a log (no note of the lost answer: a request received and never answered) the same act.
TEST(ExplainActOnSilence, ALogTellsTheSame) {
  const auto x = explained(redact(parse(hand_written("compensated_on_silence.jsonl"))));
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  EXPECT_EQ(top.kind, "lost_response") << top.summary;
  EXPECT_TRUE(top.facts.contains("act_event")) << top.summary;
  EXPECT_TRUE(top.facts.contains("act_effect_event")) << top.summary;
}

// traces/new_order_after_silence.jsonl: after the give-up the shop took another order (o-2),
// which names nothing it had asked: no act on the silence.
TEST(ExplainActOnSilence, AWriteAboutSomethingElseIsNoAct) {
  const auto x = explained(parse(hand_written("new_order_after_silence.jsonl")));
  ASSERT_FALSE(x.causes.empty());
  EXPECT_EQ(x.causes.front().kind, "lost_response");
  EXPECT_FALSE(x.causes.front().facts.contains("act_event")) << x.causes.front().summary;
}

}  // namespace
}  // namespace seer::explain::written_without_answer_test
