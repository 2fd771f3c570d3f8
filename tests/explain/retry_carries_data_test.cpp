// A lost response's retry is a request carrying the lost one's data, not one that shares only its
// requester's own name; once the requester gave up, the data handed back elsewhere as a new
// message (a charge handed back to the queue) is the retry (docs/explain.md, lost_response).
#include "explain_fixture.hpp"
#include "seer/explain/redact.hpp"

#include <gtest/gtest.h>

#include <string>

namespace seer::explain::retry_carries_data_test {
namespace {

using testing::explained;
using testing::hand_written;
using testing::holds;
using testing::parse;
using testing::replaced;

const Cause* lost_response_at(const Explanation& x, std::uint64_t effect) {
  for (const auto& c : x.causes) {
    if (c.kind == "lost_response" && !c.events.empty() && c.events.front() == effect) return &c;
  }
  return nullptr;
}

// traces/retry_handed_back.jsonl, written by hand: db applies biller1's charge of o-6 and loses
// the reply (#6); biller1 gives up (#7) and hands o-6 back to the queue (#8), then charges o-7
// (#12), a request that shares only biller1's own name with the lost one.
TEST(ExplainRetryCarriesData, TheDataHandedBackAfterTheTimeoutIsTheRetry) {
  const auto x = explained(parse(hand_written("retry_handed_back.jsonl")));
  const auto* c = lost_response_at(x, 6);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->facts.value("retry_event", 0), 8) << c->summary;
  EXPECT_TRUE(holds(c->events, 8));
  EXPECT_FALSE(holds(c->events, 12)) << c->summary;
}

// The message to the queue carries another order: nothing retried o-6, and the charge of o-7 is
// no retry of it either.
TEST(ExplainRetryCarriesData, ARequestSharingOnlyTheRequestersNameIsNoRetry) {
  const auto text = replaced(hand_written("retry_handed_back.jsonl"), "\"order\": \"o-6\"}",
                             "\"order\": \"o-9\"}");
  const auto x = explained(parse(text));
  const auto* c = lost_response_at(x, 6);
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(c->facts.contains("retry_event")) << c->summary;
  EXPECT_FALSE(holds(c->events, 12)) << c->summary;
}

// traces/retry_handed_back_returned.jsonl: the same, and then the queue hands o-6 back to
// biller1 (#19), which charges it again (#20): the message that asked again is biller1's own
// retry come back, so the retry is still the hand-back (#8).
TEST(ExplainRetryCarriesData, ItsOwnRetryComingBackStillNamesTheHandBack) {
  const auto x = explained(parse(hand_written("retry_handed_back_returned.jsonl")));
  const auto* c = lost_response_at(x, 6);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->facts.value("retry_event", 0), 8) << c->summary;
}

// A log: the lost reply is a request db received and never answered (its note is the oracle's,
// gone, so every later event moves up one); the charge's own delivery is where it took effect,
// and the retry is the same message to the queue (#7).
TEST(ExplainRetryCarriesData, ALogTellsTheSameRetry) {
  const auto x = explained(redact(parse(hand_written("retry_handed_back.jsonl"))));
  const auto* c = lost_response_at(x, 5);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->facts.value("retry_event", 0), 7) << c->summary;
  EXPECT_FALSE(holds(c->events, 11)) << c->summary;
}

}  // namespace
}  // namespace seer::explain::retry_carries_data_test
