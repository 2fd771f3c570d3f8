// A request its requester gave up on (its receive timeout fired) took effect at the server only
// afterwards, and the requester had meanwhile acted as if it had not (a compensation that overtook
// it): a lost response (docs/explain.md, lost_response, how `took_effect_after_give_up`).
#include "explain_fixture.hpp"
#include "seer/explain/explain.hpp"
#include "seer/explain/redact.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace seer::explain::late_effect_test {
namespace {

bool cites(const Cause& c, std::uint64_t event) {
  return std::find(c.events.begin(), c.events.end(), event) != c.events.end();
}

bool took_effect_late(const Cause& c) {
  return c.kind == "lost_response" && c.facts.is_object() &&
         c.facts.value("how", std::string()) == "took_effect_after_give_up";
}

const Cause* late_cause(const Explanation& x) {
  const auto found = std::find_if(x.causes.begin(), x.causes.end(), took_effect_late);
  return found == x.causes.end() ? nullptr : &*found;
}

// traces/reserve_after_release.jsonl, written by hand: saga asks stock to hold o-5 (#3), gives up
// at #4 and sends the undo (#5), which overtakes the hold: stock finds nothing to undo (#6, #7).
// The hold reaches stock only at #11 and takes effect at #12, for a cancelled order.
TEST(TookEffectAfterGiveUp, ACompensationOvertakenByTheLateRequestIsALostResponse) {
  const auto x =
      testing::explained(testing::parse(testing::hand_written("reserve_after_release.jsonl")));
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  ASSERT_TRUE(took_effect_late(top)) << top.kind << ": " << top.summary;
  EXPECT_EQ(top.process, "saga");
  for (const std::uint64_t e : {3u, 4u, 5u, 6u, 11u, 12u}) EXPECT_TRUE(cites(top, e)) << e;
  EXPECT_EQ(top.facts.value("timeout_event", 0u), 4u);
  EXPECT_EQ(top.facts.value("act_event", 0u), 5u);
  EXPECT_EQ(top.facts.value("effect_event", 0u), 12u);
  for (const std::uint64_t e : {3u, 4u, 5u, 12u}) {
    EXPECT_NE(std::find(x.slice.begin(), x.slice.end(), e), x.slice.end()) << e;
  }
}

// Without the timeout the saga never gave up: its undo is not an act on silence.
TEST(TookEffectAfterGiveUp, NoTimeoutNoGiveUp) {
  auto text = testing::hand_written("reserve_after_release.jsonl");
  const std::string timeout = R"("timer": "receive_timeout")";
  text.replace(text.find(timeout), timeout.size(), R"("timer": "sleep")");
  const auto* c = late_cause(testing::explained(testing::parse(text)));
  EXPECT_EQ(c, nullptr) << c->summary;
}

// An undo about another order is not the act taken on that silence.
TEST(TookEffectAfterGiveUp, AnActAboutSomethingElseIsNotIt) {
  auto text = testing::hand_written("reserve_after_release.jsonl");
  const std::string undo = R"("type": "undo", "payload": {"order": "o-5")";
  for (auto at = text.find(undo); at != std::string::npos; at = text.find(undo)) {
    text.replace(at, undo.size(), R"("type": "undo", "payload": {"order": "o-6")");
  }
  const auto* c = late_cause(testing::explained(testing::parse(text)));
  EXPECT_EQ(c, nullptr) << c->summary;
}

// A log keeps the sends, deliveries, timeout and storage writes in the same order: the redacted
// trace tells the same cause (but not why the hold was late: the delay is a forbidden fact).
TEST(TookEffectAfterGiveUp, TheRedactedTraceTellsItToo) {
  const auto full = testing::parse(testing::hand_written("reserve_after_release.jsonl"));
  const auto x = testing::explained(redact(full));
  ASSERT_FALSE(x.causes.empty());
  EXPECT_TRUE(took_effect_late(x.causes.front()))
      << x.causes.front().kind << ": " << x.causes.front().summary;
}

}  // namespace
}  // namespace seer::explain::late_effect_test
