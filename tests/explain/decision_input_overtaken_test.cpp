// The structural fallback: where no kind-specific rule explains the violation, a decision on the
// violated entity whose input (a read of its process) another process's write changed before the
// decision took effect (docs/explain.md, outdated_read, how `decision_input_overtaken`).
#include "explain_fixture.hpp"
#include "seer/explain/redact.hpp"

#include <gtest/gtest.h>

#include <string>

namespace seer::explain::decision_input_overtaken_test {
namespace {

using testing::cause_told;
using testing::explained;
using testing::hand_written;
using testing::holds;
using testing::parse;
using testing::replaced_once;

// traces/decision_input_overtaken.jsonl, written by hand: the worker reads the owners (#7, #8:
// itself and a spare) and tells the runner to run t-6 (#9); the admin takes the worker off the
// owners (#12) before the run reaches the runner (#14). Nothing is written on the read: no
// derived write, no lease, no lost answer.
TEST(ExplainDecisionInputOvertaken, TheDecisionsReadOvertakenBeforeItTookEffect) {
  const auto x = explained(parse(hand_written("decision_input_overtaken.jsonl")));
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  EXPECT_EQ(top.kind, "outdated_read") << top.summary;
  EXPECT_EQ(top.facts.value("how", std::string()), "decision_input_overtaken") << top.summary;
  EXPECT_EQ(top.process, "worker");
  for (const std::uint64_t e : {7u, 8u, 9u, 12u, 14u}) {
    EXPECT_TRUE(holds(top.events, e)) << e << ": " << top.summary;
  }
  EXPECT_EQ(top.facts.value("decision_event", 0u), 9u);
  EXPECT_EQ(top.facts.value("overtaking_event", 0u), 12u);
}

// The admin's write of another key changed nothing the worker read.
TEST(ExplainDecisionInputOvertaken, AWriteElsewhereOvertookNothing) {
  auto text = hand_written("decision_input_overtaken.jsonl");
  for (int copy = 0; copy < 4; ++copy) {
    text =
        replaced_once(text, R"("op": "put", "key": "owners")", R"("op": "put", "key": "admins")");
  }
  const auto x = explained(parse(text));
  const auto* c = cause_told(x, "decision_input_overtaken");
  EXPECT_EQ(c, nullptr) << c->summary;
}

// traces/decision_before_overtake.jsonl: the same, but the run reached the runner (#10) before
// the admin's write (#13): the decision took effect on a view still right.
TEST(ExplainDecisionInputOvertaken, ADecisionThatTookEffectFirstIsNotIt) {
  const auto x = explained(parse(hand_written("decision_before_overtake.jsonl")));
  const auto* c = cause_told(x, "decision_input_overtaken");
  EXPECT_EQ(c, nullptr) << c->summary;
}

// Reads and writes rebuilt from the key-value messages are what a log keeps.
TEST(ExplainDecisionInputOvertaken, TheRedactedTraceTellsItToo) {
  const auto x = explained(redact(parse(hand_written("decision_input_overtaken.jsonl"))));
  const auto* c = cause_told(x, "decision_input_overtaken");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->process, "worker");
}

}  // namespace
}  // namespace seer::explain::decision_input_overtaken_test
