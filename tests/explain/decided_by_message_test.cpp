// A value read and acted on by a message to one of the design's own processes, the write after it
// only recording what was done: the message is the decision, and a change to the value before it
// took effect makes the read outdated (docs/explain.md, outdated_read, how `decided_by_message`).
#include "explain_fixture.hpp"

#include <gtest/gtest.h>

#include <string>

namespace seer::explain::decided_by_message_test {
namespace {

using testing::cause_told;
using testing::explained;
using testing::hand_written;
using testing::holds;
using testing::parse;

// traces/decided_by_message.jsonl, written by hand: the worker reads the owners (#8: itself and a
// spare), tells the runner to run t-6 (#9); the admin takes the worker off the owners (#12) before
// the run reaches the runner (#14); the worker then records the run under its name (#19).
TEST(ExplainDecidedByMessage, TheMessageIsTheDecisionNotTheRecord) {
  const auto x = explained(parse(hand_written("decided_by_message.jsonl")));
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  EXPECT_EQ(top.kind, "outdated_read") << top.summary;
  EXPECT_EQ(top.facts.value("how", std::string()), "decided_by_message") << top.summary;
  EXPECT_EQ(top.facts.value("decision_event", 0u), 9u);
  EXPECT_EQ(top.facts.value("recorded_event", 0u), 19u);
  for (const std::uint64_t e : {8u, 12u, 9u, 14u}) {
    EXPECT_TRUE(holds(top.events, e)) << e << ": " << top.summary;
  }
  for (const std::uint64_t e : {8u, 9u, 12u}) EXPECT_TRUE(holds(x.slice, e)) << e;
}

// The run reached the runner (#10) before the admin's change (#14): the decision took effect on a
// current view; the write is a copy of a read overtaken later, as before.
TEST(ExplainDecidedByMessage, AMessageThatTookEffectBeforeTheChangeIsNotIt) {
  const auto x = explained(parse(hand_written("decided_before_change.jsonl")));
  EXPECT_EQ(cause_told(x, "decided_by_message"), nullptr);
  ASSERT_FALSE(x.causes.empty());
  EXPECT_EQ(x.causes.front().kind, "stale_derived_write") << x.causes.front().summary;
}

// A message about another task is not the decision the violation counts.
TEST(ExplainDecidedByMessage, AMessageAboutAnotherEntityIsNotIt) {
  auto text = hand_written("decided_by_message.jsonl");
  const std::string run = R"("type": "run", "payload": {"req": 1, "task": "t-6")";
  for (auto at = text.find(run); at != std::string::npos; at = text.find(run)) {
    text.replace(at, run.size(), R"("type": "run", "payload": {"req": 1, "task": "t-7")");
  }
  const auto x = explained(parse(text));
  EXPECT_EQ(cause_told(x, "decided_by_message"), nullptr);
}

}  // namespace
}  // namespace seer::explain::decided_by_message_test
