// A write acknowledged by a node that crashed before it passed the write on: the acknowledged
// data's only copy was on the crashed node (docs/explain.md, crash_lost_data, how
// `acknowledged_then_crashed`).
#include "explain_fixture.hpp"
#include "seer/explain/redact.hpp"

#include <gtest/gtest.h>

#include <string>

namespace seer::explain::acknowledged_then_crashed_test {
namespace {

using testing::cause_told;
using testing::explained;
using testing::hand_written;
using testing::holds;
using testing::parse;
using testing::replaced_once;

// traces/acknowledged_then_crashed.jsonl, written by hand: node1 stores o-5 (#6) on the writer's
// put (#5) and acknowledges it (#7); its next heartbeat to node2 carries no orders (#9) and it
// crashes (#10); node2 takes over (#13, #14) without o-5.
TEST(ExplainAcknowledgedThenCrashed, TheAcknowledgementAndTheCrashAreOneCause) {
  const auto x = explained(parse(hand_written("acknowledged_then_crashed.jsonl")));
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  EXPECT_EQ(top.kind, "crash_lost_data") << top.summary;
  EXPECT_EQ(top.facts.value("how", std::string()), "acknowledged_then_crashed") << top.summary;
  EXPECT_EQ(top.process, "node1");
  for (const std::uint64_t e : {5u, 6u, 7u, 10u}) {
    EXPECT_TRUE(holds(top.events, e)) << e << ": " << top.summary;
  }
  for (const std::uint64_t e : {7u, 10u}) EXPECT_TRUE(holds(x.slice, e)) << e;
}

// A heartbeat that carried the order passed a copy on before the crash.
TEST(ExplainAcknowledgedThenCrashed, AnOrderShippedBeforeTheCrashIsNotThisLoss) {
  auto text = hand_written("acknowledged_then_crashed.jsonl");
  for (int copy = 0; copy < 2; ++copy) {
    text = replaced_once(text, R"("type": "heartbeat", "payload": {"orders": []})",
                         R"("type": "heartbeat", "payload": {"orders": ["o-5"]})");
  }
  const auto x = explained(parse(text));
  const auto* c = cause_told(x, "acknowledged_then_crashed");
  EXPECT_EQ(c, nullptr) << c->summary;
}

// A node that never crashed took nothing out of service.
TEST(ExplainAcknowledgedThenCrashed, NoCrashNoLoss) {
  const auto text =
      replaced_once(hand_written("acknowledged_then_crashed.jsonl"),
                    R"("process": "node1", "kind": "crash", "parents": [9]})",
                    R"("process": "node1", "kind": "timer", "parents": [9], "timer": "sleep"})");
  const auto x = explained(parse(text));
  const auto* c = cause_told(x, "acknowledged_then_crashed");
  EXPECT_EQ(c, nullptr) << c->summary;
}

// Messages, the storage write and the crash are what a log keeps.
TEST(ExplainAcknowledgedThenCrashed, TheRedactedTraceTellsItToo) {
  const auto x = explained(redact(parse(hand_written("acknowledged_then_crashed.jsonl"))));
  const auto* c = cause_told(x, "acknowledged_then_crashed");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->process, "node1");
}

}  // namespace
}  // namespace seer::explain::acknowledged_then_crashed_test
