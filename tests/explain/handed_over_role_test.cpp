// A role handed over by message (no lease, no record of the holder) and still acted on: the old
// holder answers a request as the holder after its handover, and the new holder answers the same
// kind of request with the same value (expired_lease, `how: handed_over`).
#include "explain_fixture.hpp"
#include "seer/explain/explain.hpp"
#include "seer/explain/redact.hpp"

#include <gtest/gtest.h>

namespace seer::explain {
namespace {

using testing::cause_told;
using testing::holds;
using testing::replaced_once;

std::string role_trace() {
  return testing::hand_written("role_handed_over.jsonl");
}

// traces/role_handed_over.jsonl: a answers c1's reserve with a seat (#8) while b refuses c2's
// (#12). An operator moves the role: a sends b `take` (#18) and still answers c1's queued
// reserve with seat 6 (#21); b takes over (#23) and answers c2 with seat 6 too (#26).
TEST(ExplainHandedOverRole, TheOldHoldersAnswerAfterItsHandoverIsAnExpiredLease) {
  const auto x = testing::explained(role_trace());
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  EXPECT_EQ(top.kind, "expired_lease") << top.summary;
  EXPECT_EQ(top.process, "a");
  EXPECT_EQ(top.facts.value("how", std::string()), "handed_over") << top.summary;
  for (const std::uint64_t seq : {18u, 23u, 21u, 26u}) {
    EXPECT_TRUE(holds(top.events, seq)) << seq << ": " << top.summary;
    EXPECT_TRUE(holds(x.slice, seq)) << seq;
  }
}

// Messages and their order are all it reads: the redacted trace tells the same.
TEST(ExplainHandedOverRole, TheRedactedTraceStillNamesIt) {
  const auto x = testing::explained(redact(testing::parse(role_trace())));
  const auto* c = cause_told(x, "handed_over", "expired_lease");
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(holds(c->events, 21)) << c->summary;
}

// The refusal is the same message type shaped otherwise (`seat {holder}`, not `seat {seat}`): the
// role still shows in who answers with a seat.
TEST(ExplainHandedOverRole, ARefusalOfTheSameTypeShapedOtherwiseStillTellsIt) {
  auto text = role_trace();
  for (int copy = 0; copy < 2; ++copy) {  // b's answer and c2's delivery of it
    text = replaced_once(text, R"("type": "refused", "payload": {"req": 1, "holder": "a"}})",
                         R"("type": "seat", "payload": {"req": 1, "holder": "a"}})");
  }
  const auto x = testing::explained(text);
  const auto* c = cause_told(x, "handed_over", "expired_lease");
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(holds(c->events, 21)) << c->summary;
}

// After its handover the old holder refuses the queued request: it gave the role away whole.
TEST(ExplainHandedOverRole, AnOldHolderThatOnlyRefusesAfterwardsActedOnNothing) {
  const auto text = replaced_once(role_trace(), R"("type": "seat", "payload": {"req": 2, "seat": 6}}
{"seq": 22)",
                                  R"("type": "refused", "payload": {"req": 2, "holder": "b"}}
{"seq": 22)");
  const auto x =
      testing::explained(replaced_once(text, R"("type": "seat", "payload": {"req": 2, "seat": 6}}
{"seq": 23)",
                                       R"("type": "refused", "payload": {"req": 2, "holder": "b"}}
{"seq": 23)"));
  EXPECT_EQ(cause_told(x, "handed_over"), nullptr);
}

// b never refused: both answer the request alike (replicas serving one value), so no role moved.
TEST(ExplainHandedOverRole, TwoProcessesThatBothAlwaysAnswerHoldNoRole) {
  auto text =
      replaced_once(role_trace(), R"("type": "refused", "payload": {"req": 1, "holder": "a"}})",
                    R"("type": "seat", "payload": {"req": 1, "seat": 4}})");
  text = replaced_once(text, R"("type": "refused", "payload": {"req": 1, "holder": "a"}})",
                       R"("type": "seat", "payload": {"req": 1, "seat": 4}})");
  const auto x = testing::explained(text);
  EXPECT_EQ(cause_told(x, "handed_over"), nullptr);
}

// The two answers hand out different seats: no conflict for the role to explain.
TEST(ExplainHandedOverRole, DifferentValuesAreNoConflict) {
  auto text = replaced_once(role_trace(), R"("seat": 6}}
{"seq": 27)",
                            R"("seat": 7}}
{"seq": 27)");
  text = replaced_once(text, R"("seat": 6}}
{"seq": 28)",
                       R"("seat": 7}}
{"seq": 28)");
  const auto x = testing::explained(text);
  EXPECT_EQ(cause_told(x, "handed_over"), nullptr);
}

// The violation is about something else (no seat number in it): two answers that agree on a value
// it does not name do not explain it.
TEST(ExplainHandedOverRole, AValueTheViolationDoesNotNameExplainsNothing) {
  auto text = role_trace();
  for (int copy = 0; copy < 2; ++copy) {  // the violation event and the trace's footer
    text = replaced_once(text, R"x("seat 6 held twice (c1, c2)", "entities": ["seat 6"])x",
                         R"("c2 waited too long", "entities": ["c2"])");
  }
  const auto x = testing::explained(text);
  EXPECT_EQ(cause_told(x, "handed_over"), nullptr);
}

}  // namespace
}  // namespace seer::explain
