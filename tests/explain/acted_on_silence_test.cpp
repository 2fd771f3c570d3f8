// A requester whose answer is a message of its own (no reply to a request number) gave up waiting
// while that answer was on its way, and wrote on the silence: a lost response
// (docs/explain.md, lost_response, how `acted_on_silence`).
#include "explain_fixture.hpp"
#include "seer/explain/explain.hpp"
#include "seer/explain/redact.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace seer::explain::silence_test {
namespace {

bool has(const Cause& c, std::uint64_t event) {
  return std::find(c.events.begin(), c.events.end(), event) != c.events.end();
}

bool acted_on_silence(const Cause& c) {
  return c.kind == "lost_response" && c.facts.is_object() &&
         c.facts.value("how", std::string()) == "acted_on_silence";
}

const Cause* silence_cause(const Explanation& x) {
  const auto found = std::find_if(x.causes.begin(), x.causes.end(), acted_on_silence);
  return found == x.causes.end() ? nullptr : &*found;
}

// traces/verdict_after_give_up.jsonl, written by hand: voter sends its ballot for round r-7 (#4);
// decider records the outcome (its put, taking effect at #8) and sends its verdict at #10; voter's
// receive timeout fires at #11, before the verdict arrives (#15), and voter writes the round as
// rejected (#12, taking effect at #14). The ballot had taken effect and its answer was in flight:
// voter acted on a silence that was not a refusal.
TEST(ActedOnSilence, AWriteAfterGivingUpOnAnAnswerInFlightIsALostResponse) {
  const auto x =
      testing::explained(testing::parse(testing::hand_written("verdict_after_give_up.jsonl")));
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  ASSERT_TRUE(acted_on_silence(top)) << top.kind << ": " << top.summary;
  EXPECT_EQ(top.process, "voter");
  for (const std::uint64_t e : {4u, 8u, 10u, 11u, 14u}) EXPECT_TRUE(has(top, e)) << e;
  EXPECT_EQ(top.facts.value("timeout_event", 0u), 11u);
  EXPECT_EQ(top.facts.value("decision_event", 0u), 14u);
  EXPECT_NE(top.summary.find("gave up waiting at #11"), std::string::npos) << top.summary;
  for (const std::uint64_t e : {4u, 8u, 11u, 14u}) {
    EXPECT_NE(std::find(x.slice.begin(), x.slice.end(), e), x.slice.end()) << e;
  }
}

// Without the timeout (the voter only slept) it never gave up waiting: its write is not on
// silence, and no lost response is told.
TEST(ActedOnSilence, NoTimeoutNoSilence) {
  auto text = testing::hand_written("verdict_after_give_up.jsonl");
  const std::string timeout = R"("timer": "receive_timeout")";
  text.replace(text.find(timeout), timeout.size(), R"("timer": "sleep")");
  const auto x = testing::explained(testing::parse(text));
  const auto* c = silence_cause(x);
  EXPECT_EQ(c, nullptr) << c->summary;
}

// A write about something else than what was asked is not the one taken on that silence.
TEST(ActedOnSilence, AWriteAboutSomethingElseIsNotTheDecision) {
  auto text = testing::hand_written("verdict_after_give_up.jsonl");
  for (auto at = text.find("ledger/r-7"); at != std::string::npos; at = text.find("ledger/r-7")) {
    text.replace(at, 10, "ledger/r-9");
  }
  const auto x = testing::explained(testing::parse(text));
  const auto* c = silence_cause(x);
  EXPECT_EQ(c, nullptr) << c->summary;
}

// A log holds the same sends, deliveries and timeout in the same order: the redacted trace still
// shows the verdict sent before the timeout and delivered after it, and tells the same cause.
TEST(ActedOnSilence, TheRedactedTraceTellsItToo) {
  const auto full = testing::parse(testing::hand_written("verdict_after_give_up.jsonl"));
  const auto x = testing::explained(redact(full));
  ASSERT_FALSE(x.causes.empty());
  EXPECT_TRUE(acted_on_silence(x.causes.front()))
      << x.causes.front().kind << ": " << x.causes.front().summary;
}

}  // namespace
}  // namespace seer::explain::silence_test
