// A reply is "dropped" only where the trace shows the drop: a request still unanswered (or a reply
// still in flight) when the run ended, with its requester still waiting, is no lost response
// (docs/explain.md, lost_response).
#include "explain_fixture.hpp"
#include "seer/explain/explain.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace seer::explain {
namespace {

// The lost_response about the client's put delivered to kv at #9, if any.
const Cause* lost_put(const Explanation& x) {
  const auto found = std::find_if(x.causes.begin(), x.causes.end(), [](const Cause& c) {
    return c.kind == "lost_response" && !c.events.empty() && c.events.front() == 9;
  });
  return found == x.causes.end() ? nullptr : &*found;
}

// traces/unanswered_at_end.jsonl, a redacted trace written by hand: kv receives the client's
// put(x, "b") at #9 and the trace ends (another put's reply, then the violation) before kv answers
// it. The client is still waiting (it only sleeps, #10): nothing dropped the answer, and nothing
// the run observed came of its absence.
TEST(InFlightReply, AnAnswerStillDueWhenTheRunEndedIsNotALostResponse) {
  const auto x = testing::explained(testing::hand_written("unanswered_at_end.jsonl"));
  const auto* lost = lost_put(x);
  EXPECT_EQ(lost, nullptr) << lost->summary;
  for (const auto& c : x.causes) {
    EXPECT_EQ(c.summary.find("dropped"), std::string::npos) << c.summary;
  }
}

// The same trace where the client's timer at #10 is its receive timeout: it gave up on the put
// without an answer, which is a lost response, told as what the trace shows (no answer by then),
// never as a drop.
TEST(InFlightReply, AnAnswerMissingWhenTheRequesterGaveUpIsLostButNotDropped) {
  auto text = testing::hand_written("unanswered_at_end.jsonl");
  const std::string sleep = R"("timer": "sleep")";
  text.replace(text.find(sleep), sleep.size(), R"("timer": "receive_timeout")");
  const auto x = testing::explained(text);
  const auto* lost = lost_put(x);
  ASSERT_NE(lost, nullptr);
  EXPECT_NE(std::find(lost->events.begin(), lost->events.end(), 10u), lost->events.end())
      << lost->summary;
  EXPECT_EQ(lost->summary.find("dropped"), std::string::npos) << lost->summary;
  EXPECT_NE(lost->summary.find("gave up waiting at #10"), std::string::npos) << lost->summary;
}

}  // namespace
}  // namespace seer::explain
