// A log's queue request the queue never answered (docs/explain.md, outdated_read): an enqueue adds
// a new message, whatever its number, and changes no message already handed out; an
// acknowledgement names its message in the request.
#include "explain_fixture.hpp"

#include <gtest/gtest.h>

#include <string>

namespace seer::explain::unanswered_enqueue_test {
namespace {

using testing::explained;
using testing::hand_written;
using testing::parse;
using testing::replaced;

const Cause* outdated_reading(const Explanation& x, std::uint64_t read) {
  for (const auto& c : x.causes) {
    if (c.kind == "outdated_read" && c.facts.is_object() && c.facts.contains("read_event") &&
        c.facts["read_event"].is_number() && c.facts["read_event"].get<std::uint64_t>() == read)
      return &c;
  }
  return nullptr;
}

// traces/unanswered_enqueue.jsonl, a log: b2 receives message 7 (#7); the queue takes in b1's
// enqueue of another order (#9) and never answers it; b2 acknowledges message 7 (#12).
TEST(ExplainUnansweredEnqueue, AnUnansweredEnqueueOutdatesNoMessageHandedOut) {
  const auto x = explained(parse(hand_written("unanswered_enqueue.jsonl")));
  EXPECT_EQ(outdated_reading(x, 7), nullptr);
}

// b1's unanswered request is an acknowledgement of message 7 itself: it may have changed it.
TEST(ExplainUnansweredEnqueue, AnUnansweredAckOfTheSameMessageStillCounts) {
  const auto text = replaced(hand_written("unanswered_enqueue.jsonl"),
                             "\"body\": {\"order\": \"o-6\"}, \"op\": \"enqueue\"",
                             "\"message_id\": 7, \"op\": \"ack\"");
  const auto x = explained(parse(text));
  const auto* c = outdated_reading(x, 7);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->facts.value("decision_event", std::uint64_t{0}), 12u) << c->summary;
}

}  // namespace
}  // namespace seer::explain::unanswered_enqueue_test
