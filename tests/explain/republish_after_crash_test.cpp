// A crash between a side effect and the durable record of it, and the restarted life doing it
// again: crash_lost_data (docs/explain.md, crash_lost_data, how `repeated_after_crash`).
#include "explain_fixture.hpp"
#include "seer/explain/explain.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace seer::explain::republish_test {
namespace {

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

bool has(const Cause& c, std::uint64_t event) {
  return std::find(c.events.begin(), c.events.end(), event) != c.events.end();
}

bool repeated_after_crash(const Cause& c) {
  return c.kind == "crash_lost_data" && c.facts.is_object() &&
         c.facts.value("how", std::string()) == "repeated_after_crash";
}

// traces/republish_after_crash.jsonl, written by hand: relay reads its outbox (["o-1"]), sends
// the enqueue of o-1 (#8) and crashes (#9) with it in flight; the queue applies it (#11). The
// restarted relay (#13) reads the same outbox, which nothing marked, and enqueues o-1 again (#18).
TEST(RepeatedAfterCrash, ASideEffectRepeatedByTheNextLifeIsTheCrashsLoss) {
  const auto x = testing::explained(testing::hand_written("republish_after_crash.jsonl"));
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  ASSERT_TRUE(repeated_after_crash(top)) << top.kind << ": " << top.summary;
  EXPECT_EQ(top.process, "relay");
  for (const std::uint64_t e : {9u, 11u, 8u, 18u}) EXPECT_TRUE(has(top, e)) << e;
  EXPECT_EQ(top.events.front(), 9u);
}

// The same trace with the crash and restart turned into sleeps: one life sent it twice, which is
// no crash's doing.
TEST(RepeatedAfterCrash, WithoutTheCrashNoCrashIsBlamed) {
  auto text = testing::hand_written("republish_after_crash.jsonl");
  replace_all(text, R"("kind": "crash")", R"("kind": "timer", "timer": "sleep")");
  replace_all(text, R"("kind": "restart")", R"("kind": "timer", "timer": "sleep")");
  replace_all(text, R"("reason": "receiver_down")", R"("reason": "network")");
  const auto x = testing::explained(text);
  for (const auto& c : x.causes) EXPECT_FALSE(repeated_after_crash(c)) << c.summary;
}

// The restarted life asked for something else: nothing was repeated.
TEST(RepeatedAfterCrash, ADifferentRequestIsNoRepeat) {
  auto text = testing::hand_written("republish_after_crash.jsonl");
  const std::string second = R"("seq": 18,)";
  const auto at = text.find(second);
  ASSERT_NE(at, std::string::npos);
  const auto body = text.find(R"("order": "o-1")", at);
  text.replace(body, 14, R"("order": "o-2")");
  const auto x = testing::explained(text);
  for (const auto& c : x.causes) EXPECT_FALSE(repeated_after_crash(c)) << c.summary;
}

}  // namespace
}  // namespace seer::explain::republish_test
