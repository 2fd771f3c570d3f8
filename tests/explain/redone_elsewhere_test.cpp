// A request whose answer was lost after it took effect, redone by its requester through another
// path: a message to a third process, which passed it on to the same server (docs/explain.md,
// lost_response, how `redone_elsewhere`).
#include "explain_fixture.hpp"
#include "seer/explain/redact.hpp"

#include <gtest/gtest.h>

#include <string>

namespace seer::explain::redone_elsewhere_test {
namespace {

using testing::cause_told;
using testing::explained;
using testing::hand_written;
using testing::holds;
using testing::parse;

std::string all_replaced(std::string text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// traces/redone_through_relay.jsonl, written by hand: the till asks the bank to pay p-4 (#4); the
// bank pays (#6) and answers (#7), but the network drops the answer (#8). The till gives up (#9)
// and defers the order to clearing (#10), which settles it at the bank (#12): paid again (#14,
// #15).
TEST(ExplainRedoneElsewhere, TheLostAnswerAndTheRetryByAnotherPathAreOneCause) {
  const auto x = explained(parse(hand_written("redone_through_relay.jsonl")));
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  EXPECT_EQ(top.kind, "lost_response") << top.summary;
  EXPECT_EQ(top.facts.value("how", std::string()), "redone_elsewhere") << top.summary;
  EXPECT_EQ(top.process, "till");
  for (const std::uint64_t e : {4u, 6u, 7u, 8u, 9u, 10u, 12u, 13u, 15u}) {
    EXPECT_TRUE(holds(top.events, e)) << e << ": " << top.summary;
  }
  EXPECT_EQ(top.facts.value("drop_event", 0u), 8u);
  EXPECT_EQ(top.facts.value("retry_event", 0u), 10u);
  for (const std::uint64_t e : {7u, 8u, 9u, 10u, 15u}) EXPECT_TRUE(holds(x.slice, e)) << e;
}

// A deferred order that is another one is no retry of p-4.
TEST(ExplainRedoneElsewhere, AMessageAboutAnotherEntityIsNoRetry) {
  auto text = hand_written("redone_through_relay.jsonl");
  text = all_replaced(text, R"("orders": [{"order": "p-4")", R"("orders": [{"order": "p-9")");
  text = all_replaced(text, R"("type": "settle", "payload": {"req": 1, "order": "p-4")",
                      R"("type": "settle", "payload": {"req": 1, "order": "p-9")");
  const auto* c = cause_told(explained(parse(text)), "redone_elsewhere");
  EXPECT_EQ(c, nullptr) << c->summary;
}

// A till that never gave up (no receive timeout) redid nothing on silence.
TEST(ExplainRedoneElsewhere, NoTimeoutNoGiveUp) {
  const auto text = testing::replaced_once(hand_written("redone_through_relay.jsonl"),
                                           R"("timer": "receive_timeout")", R"("timer": "sleep")");
  const auto* c = cause_told(explained(parse(text)), "redone_elsewhere");
  EXPECT_EQ(c, nullptr) << c->summary;
}

// Sends, deliveries, the drop, the timeout and the storage writes are what a log keeps.
TEST(ExplainRedoneElsewhere, TheRedactedTraceTellsItToo) {
  const auto x = explained(redact(parse(hand_written("redone_through_relay.jsonl"))));
  ASSERT_FALSE(x.causes.empty());
  EXPECT_EQ(x.causes.front().facts.value("how", std::string()), "redone_elsewhere")
      << x.causes.front().kind << ": " << x.causes.front().summary;
}

}  // namespace
}  // namespace seer::explain::redone_elsewhere_test
