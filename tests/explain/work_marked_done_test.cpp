// Work a process read, held in memory, and had already marked done in its own durable record (a
// watermark written before the work) when it crashed; its next life read the mark back and never
// came back to the work (docs/explain.md, crash_lost_data, how `marked_done_before_crash`).
#include "explain_fixture.hpp"
#include "seer/explain/redact.hpp"

#include <gtest/gtest.h>

#include <string>

namespace seer::explain::work_marked_done_test {
namespace {

using testing::cause_told;
using testing::explained;
using testing::hand_written;
using testing::holds;
using testing::parse;
using testing::replaced;

// traces/work_marked_done_before_crash.jsonl, written by hand: worker reads jobs j-1 and j-2
// (#6), puts its mark `{"last": 2}` (took effect at #9), does j-1 (#13) and crashes (#15);
// restarted, it reads the mark back (#20) and never reads j-2 again.
TEST(ExplainWorkMarkedDone, AMarkWrittenBeforeTheWorkAndReadBackAfterTheCrashIsNamed) {
  const auto x = explained(parse(hand_written("work_marked_done_before_crash.jsonl")));
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  EXPECT_EQ(top.kind, "crash_lost_data") << top.summary;
  EXPECT_EQ(top.facts.value("how", std::string()), "marked_done_before_crash") << top.summary;
  EXPECT_EQ(top.facts.value("decision_event", 0), 9) << top.summary;
  EXPECT_EQ(top.facts.value("crash_event", 0), 15) << top.summary;
  EXPECT_EQ(top.facts.value("read_event", 0), 20) << top.summary;
  for (const std::uint64_t e : {6u, 9u, 15u, 20u}) EXPECT_TRUE(holds(top.events, e)) << e;
}

// A log tells it too: the reads, the writes, the crash and the restart are all messages.
TEST(ExplainWorkMarkedDone, ALogTellsTheSame) {
  const auto x = explained(redact(parse(hand_written("work_marked_done_before_crash.jsonl"))));
  const auto* c = cause_told(x, "marked_done_before_crash", "crash_lost_data");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(&x.causes.front(), c) << x.causes.front().summary;
}

// The restarted worker reads a mark someone else moved (not the value it wrote): nothing says
// its own record skipped the work.
TEST(ExplainWorkMarkedDone, AMarkReadBackWithAnotherValueIsNotNamed) {
  const auto text = replaced(
      hand_written("work_marked_done_before_crash.jsonl"),
      "\"payload\": {\"req\": 4, \"status\": \"ok\", \"revision\": 2, \"value\": {\"last\": 2}}",
      "\"payload\": {\"req\": 4, \"status\": \"ok\", \"revision\": 2, \"value\": {\"last\": 1}}");
  EXPECT_EQ(cause_told(explained(parse(text)), "marked_done_before_crash"), nullptr);
}

// The worker did j-2 (a write naming it) before the crash: the mark covered work done.
TEST(ExplainWorkMarkedDone, WorkWrittenBeforeTheCrashIsNotNamed) {
  const auto text = replaced(hand_written("work_marked_done_before_crash.jsonl"),
                             "\"value\": {\"job\": \"j-1\"}", "\"value\": {\"job\": \"j-2\"}");
  EXPECT_EQ(cause_told(explained(parse(text)), "marked_done_before_crash"), nullptr);
  EXPECT_EQ(cause_told(explained(redact(parse(text))), "marked_done_before_crash"), nullptr);
}

}  // namespace
}  // namespace seer::explain::work_marked_done_test
