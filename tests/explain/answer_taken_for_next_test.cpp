// An answer that came after its requester gave up, taken for its next request's: the requester
// is one answer behind from then on and acts on another request's answer (docs/explain.md,
// lost_response, how `answer_taken_for_next`).
#include "explain_fixture.hpp"
#include "seer/explain/redact.hpp"

#include <gtest/gtest.h>

#include <string>

namespace seer::explain::answer_taken_for_next_test {
namespace {

using testing::cause_told;
using testing::explained;
using testing::hand_written;
using testing::holds;
using testing::parse;

// traces/answer_taken_for_next.jsonl, written by hand: the shop asks prices for i-2 (#4) and
// gives up (#6); it asks again (#7), and the first answer (req 1, #8) arrives while it waits for
// that one (#10): harmless, both were i-2's. It then asks for i-7 (#13) and takes the answer to
// its second request (req 2, i-2's price, sent #12, delivered #14) for it: the offer for i-7
// carries i-2's price (#15).
TEST(ExplainAnswerTakenForNext, TheTimeoutTheLateAnswerAndTheActAreOneCause) {
  const auto x = explained(parse(hand_written("answer_taken_for_next.jsonl")));
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  EXPECT_EQ(top.kind, "lost_response") << top.summary;
  EXPECT_EQ(top.facts.value("how", std::string()), "answer_taken_for_next") << top.summary;
  EXPECT_EQ(top.process, "shop");
  for (const std::uint64_t e : {6u, 10u, 12u, 14u, 15u}) {
    EXPECT_TRUE(holds(top.events, e)) << e << ": " << top.summary;
  }
  EXPECT_EQ(top.facts.value("timeout_event", 0u), 6u);
  EXPECT_EQ(top.facts.value("late_answer_event", 0u), 10u);
  EXPECT_EQ(top.facts.value("awaited_request_event", 0u), 13u);
  EXPECT_EQ(top.facts.value("decision_event", 0u), 15u);
  for (const std::uint64_t e : {6u, 10u, 12u, 14u, 15u}) EXPECT_TRUE(holds(x.slice, e)) << e;
}

// traces/answers_two_behind.jsonl: the shop gives up on req 1 (#6) and takes its late answer for
// req 2's (#9); it then gives up on req 3 (#14) too, and takes req 2's answer (#16, #17) for req
// 4's, offering i-9 at i-3's price (#18). The chain from the first give-up reaches that offer,
// and the second give-up, which put the shop two answers behind, joins the evidence.
TEST(ExplainAnswerTakenForNext, TwoAnswersBehindTheLastActAndTheLastTimeout) {
  const auto x = explained(parse(hand_written("answers_two_behind.jsonl")));
  const auto* c = cause_told(x, "answer_taken_for_next");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c, &x.causes.front()) << x.causes.front().summary;
  EXPECT_EQ(c->facts.value("decision_event", 0u), 18u) << c->summary;
  EXPECT_EQ(c->facts.value("taken_event", 0u), 17u) << c->summary;
  EXPECT_EQ(c->facts.value("timeout_event", 0u), 6u) << c->summary;
  EXPECT_EQ(c->facts.value("last_timeout_event", 0u), 14u) << c->summary;
  for (const std::uint64_t e : {6u, 9u, 14u, 16u, 17u, 18u}) {
    EXPECT_TRUE(holds(c->events, e)) << e << ": " << c->summary;
  }
}

// A requester that never gave up (no receive timeout) was never behind.
TEST(ExplainAnswerTakenForNext, NoTimeoutNoLateAnswer) {
  const auto text = testing::replaced_once(hand_written("answer_taken_for_next.jsonl"),
                                           R"("timer": "receive_timeout")", R"("timer": "sleep")");
  const auto x = explained(parse(text));
  const auto* c = cause_told(x, "answer_taken_for_next");
  EXPECT_EQ(c, nullptr) << c->summary;
}

// traces/late_answer_discarded.jsonl: the same give-up and late answer (#10), but the shop drops
// it (no offer on it) and waits for its own: every later answer is the awaited request's.
TEST(ExplainAnswerTakenForNext, ALateAnswerDroppedLeavesTheRequesterInStep) {
  const auto x = explained(parse(hand_written("late_answer_discarded.jsonl")));
  const auto* c = cause_told(x, "answer_taken_for_next");
  EXPECT_EQ(c, nullptr) << c->summary;
}

// Sends, deliveries, the timeout and the request numbers are what a log keeps.
TEST(ExplainAnswerTakenForNext, TheRedactedTraceTellsItToo) {
  const auto x = explained(redact(parse(hand_written("answer_taken_for_next.jsonl"))));
  ASSERT_FALSE(x.causes.empty());
  EXPECT_EQ(x.causes.front().facts.value("how", std::string()), "answer_taken_for_next")
      << x.causes.front().kind << ": " << x.causes.front().summary;
}

}  // namespace
}  // namespace seer::explain::answer_taken_for_next_test
