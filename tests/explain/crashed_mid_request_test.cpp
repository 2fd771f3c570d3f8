// A request one of the design's processes took in, wrote part of and crashed before answering:
// the rest of the work was only in its memory (docs/explain.md, the structural fallback,
// `crash_lost_data`, how `crashed_mid_request`).
#include "explain_fixture.hpp"

#include <gtest/gtest.h>

#include <string>

namespace seer::explain::crashed_mid_request_test {
namespace {

using testing::cause_told;
using testing::explained;
using testing::hand_written;
using testing::holds;
using testing::parse;

// traces/crashed_mid_request.jsonl, written by hand: coordinator takes in teller's transfer x-3
// (#5), debits ann (the put naming x-3 takes effect at #8) and crashes (#10) before answering or
// crediting bo; it restarts knowing nothing of x-3.
TEST(ExplainCrashedMidRequest, AWriteNamingTheRequestThenACrashBeforeAnsweringIsLostWork) {
  const auto x = explained(parse(hand_written("crashed_mid_request.jsonl")));
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  EXPECT_EQ(top.kind, "crash_lost_data") << top.summary;
  EXPECT_EQ(top.facts.value("how", std::string()), "crashed_mid_request") << top.summary;
  EXPECT_EQ(top.facts.value("request_event", 0), 5);
  EXPECT_EQ(top.facts.value("crash_event", 0), 10);
  for (const std::uint64_t e : {6u, 8u, 10u}) EXPECT_TRUE(holds(top.events, e)) << e;
}

// traces/crashed_after_answering.jsonl: the same, but coordinator answered the transfer (#10)
// before it crashed: the request was finished as far as the process knew, not interrupted.
TEST(ExplainCrashedMidRequest, ACrashAfterTheAnswerIsNoLostWork) {
  const auto x = explained(parse(hand_written("crashed_after_answering.jsonl")));
  EXPECT_EQ(cause_told(x, "crashed_mid_request"), nullptr);
}

}  // namespace
}  // namespace seer::explain::crashed_mid_request_test
