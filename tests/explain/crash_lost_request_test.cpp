// A write request lost to its server's crash (received and not answered, or dropped on arrival
// while the server was down), acknowledged anyway by the process that forwarded it
// (docs/explain.md, crash_lost_data, how `request_lost_in_crash` / `dropped_while_down`).
#include "explain_fixture.hpp"
#include "seer/explain/redact.hpp"

#include <gtest/gtest.h>

#include <string>

namespace seer::explain::crash_lost_request_test {
namespace {

using testing::cause_told;
using testing::explained;
using testing::hand_written;
using testing::holds;
using testing::parse;
using testing::replaced_once;

// traces/write_lost_in_crash.jsonl, written by hand: the gateway hands batch b-2 (i-5, i-6) to the
// importer (#4); the store writes i-5 and answers (#8); the importer sends i-6 (#10), the store
// crashes (#11) and the request is dropped on arrival (#12). The importer gives up (#13) and tells
// the gateway the batch is imported with nothing failed (#14).
TEST(ExplainCrashLostRequest, AWriteDroppedWhileTheServerWasDownThenAcknowledged) {
  const auto x = explained(parse(hand_written("write_lost_in_crash.jsonl")));
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  EXPECT_EQ(top.kind, "crash_lost_data") << top.summary;
  EXPECT_EQ(top.facts.value("how", std::string()), "dropped_while_down") << top.summary;
  EXPECT_EQ(top.process, "store");
  for (const std::uint64_t e : {10u, 11u, 12u, 13u, 14u}) {
    EXPECT_TRUE(holds(top.events, e)) << e << ": " << top.summary;
  }
  EXPECT_EQ(top.facts.value("acknowledgement_event", 0u), 14u);
  for (const std::uint64_t e : {10u, 11u, 14u}) EXPECT_TRUE(holds(x.slice, e)) << e;
}

// The store received i-6 (#11) and crashed before answering (#12): the crash lost it all the same.
TEST(ExplainCrashLostRequest, AWriteReceivedAndNotAnsweredBeforeTheCrash) {
  auto text = hand_written("write_lost_in_crash.jsonl");
  text = replaced_once(
      text, R"({"seq": 11, "time": 45, "process": "store", "kind": "crash", "parents": [8]})",
      R"({"seq": 11, "time": 45, "process": "store", "kind": "deliver", "parents": [8, 10], "peer": "importer", "message": 4, "type": "write", "payload": {"req": 2, "item": "i-6"}})");
  text = replaced_once(
      text,
      R"({"seq": 12, "time": 50, "process": "sim", "kind": "drop", "parents": [10], "peer": "store", "message": 4, "type": "write", "payload": {"req": 2, "item": "i-6"}, "from": "importer", "reason": "receiver_down"})",
      R"({"seq": 12, "time": 50, "process": "store", "kind": "crash", "parents": [11]})");
  text = replaced_once(text, R"("kind": "restart", "parents": [11])",
                       R"("kind": "restart", "parents": [12])");
  const auto x = explained(parse(text));
  const auto* c = cause_told(x, "request_lost_in_crash", "crash_lost_data");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c, &x.causes.front()) << x.causes.front().summary;
  EXPECT_EQ(c->facts.value("crash_event", 0u), 12u);
  for (const std::uint64_t e : {10u, 11u, 12u, 13u, 14u}) EXPECT_TRUE(holds(c->events, e)) << e;
}

// The violation is about i-5, which the store wrote and answered before it crashed: the crash lost
// no request about it.
TEST(ExplainCrashLostRequest, AnAnsweredWriteWasNotLost) {
  auto text = hand_written("write_lost_in_crash.jsonl");
  for (int i = 0; i < 2; ++i) {
    text = replaced_once(
        text,
        R"("message": "item i-6 of batch b-2 was acknowledged but is not stored", "entities": ["i-6"])",
        R"("message": "item i-5 was acknowledged but is not stored", "entities": ["i-5"])");
  }
  const auto x = explained(parse(text));
  EXPECT_EQ(cause_told(x, "dropped_while_down"), nullptr);
  EXPECT_EQ(cause_told(x, "request_lost_in_crash"), nullptr);
}

// An importer that told the gateway nothing after giving up acknowledged nothing.
TEST(ExplainCrashLostRequest, NoAcknowledgementNoCause) {
  auto text = hand_written("write_lost_in_crash.jsonl");
  text = replaced_once(
      text, R"("process": "importer", "kind": "send", "parents": [13], "peer": "gateway")",
      R"("process": "importer", "kind": "send", "parents": [13], "peer": "store")");
  text = replaced_once(
      text, R"("process": "gateway", "kind": "deliver", "parents": [4, 14], "peer": "importer")",
      R"("process": "store", "kind": "deliver", "parents": [11, 14], "peer": "importer")");
  const auto x = explained(parse(text));
  EXPECT_EQ(cause_told(x, "dropped_while_down"), nullptr);
}

// The messages, the crash and the timeout survive redaction; the drop does not.
TEST(ExplainCrashLostRequest, TheRedactedTraceTellsItToo) {
  const auto x = explained(redact(parse(hand_written("write_lost_in_crash.jsonl"))));
  ASSERT_FALSE(x.causes.empty());
  // No drop in a log: the request was never received, and the server crashed after it was sent.
  EXPECT_EQ(x.causes.front().facts.value("how", std::string()), "request_lost_in_crash")
      << x.causes.front().kind << ": " << x.causes.front().summary;
}

}  // namespace
}  // namespace seer::explain::crash_lost_request_test
