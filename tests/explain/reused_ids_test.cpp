// A request number kept only in memory and used again by the restarted process: the receiver
// takes a new request for an old one (docs/explain.md, crash_lost_data, id_reused_after_crash).
#include "explain_fixture.hpp"
#include "seer/explain/explain.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace seer::explain::reused_ids_test {
namespace {

const Cause* reuse_of(const Explanation& x) {
  const auto found = std::find_if(x.causes.begin(), x.causes.end(), [](const Cause& c) {
    return c.kind == "crash_lost_data" && c.facts.value("how", "") == "id_reused_after_crash";
  });
  return found == x.causes.end() ? nullptr : &*found;
}

// traces/id_reused_after_crash.jsonl, written by hand: pos records s-1 as seq 1 (delivered #4)
// and s-2 as seq 2, crashes (#13), restarts, and sends s-3 as seq 1 again (#15); the ledger
// answers it (#17) without recording it.
TEST(ReusedIds, ANumberUsedAgainAfterACrashIsNamedWithItsEarlierUse) {
  const auto x = testing::explained(testing::hand_written("id_reused_after_crash.jsonl"));
  ASSERT_FALSE(x.causes.empty());
  const auto* c = reuse_of(x);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(&x.causes.front(), c) << x.causes.front().summary;
  EXPECT_EQ(c->facts.value("field", ""), "seq");
  EXPECT_EQ(c->facts.value("request_event", 0u), 15u);
  EXPECT_EQ(c->facts.value("earlier_delivery_event", 0u), 4u);
  EXPECT_EQ(c->facts.value("crash_event", 0u), 13u);
  EXPECT_EQ(c->facts.value("answer_event", 0u), 17u);
}

// A new life that numbers on (seq 3) reuses nothing.
TEST(ReusedIds, ANewNumberIsNoReuse) {
  const auto text = testing::replaced(testing::hand_written("id_reused_after_crash.jsonl"),
                                      R"("sale": "s-3", "seq": 1)", R"("sale": "s-3", "seq": 3)");
  EXPECT_EQ(reuse_of(testing::explained(text)), nullptr);
}

// The same request sent again after the crash (the same sale under the same number) is a
// repeat, not another request under an old number.
TEST(ReusedIds, TheSameRequestAgainIsNoReuse) {
  const auto text = testing::replaced(testing::hand_written("id_reused_after_crash.jsonl"),
                                      R"("amount": 61, "client": "pos", "sale": "s-3")",
                                      R"("amount": 44, "client": "pos", "sale": "s-1")");
  EXPECT_EQ(reuse_of(testing::explained(text)), nullptr);
}

// traces/answer_value_after_crash.jsonl: the ledger answers deposits (each answer carries its
// request's number) with the wallet's balance; after its crash it answers d-3 with balance 15, a
// value an answer of its first life carried too. An answer is numbered by its requester: its
// values are data that came out the same, not a number the ledger handed out again.
TEST(ReusedIds, AnAnswersValueIsNoReusedId) {
  EXPECT_EQ(reuse_of(testing::explained(testing::hand_written("answer_value_after_crash.jsonl"))),
            nullptr);
}

// traces/unasked_value_after_crash.jsonl: the same messages sent unasked (no request number):
// the value at that place did tell them apart, and the reuse is named.
TEST(ReusedIds, TheSameValueInAnUnaskedMessageIsStillNamed) {
  EXPECT_NE(reuse_of(testing::explained(testing::hand_written("unasked_value_after_crash.jsonl"))),
            nullptr);
}

}  // namespace
}  // namespace seer::explain::reused_ids_test
