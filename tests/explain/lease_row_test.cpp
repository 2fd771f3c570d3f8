// A lease held as a SQL row (its holder and a deadline from the holder's clock), acted on by its
// holder after the deadline passed and another holder took the row over (docs/explain.md,
// expired_lease on a leased row).
#include "explain_fixture.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace seer::explain::lease_row_test {
namespace {

using testing::explained;
using testing::hand_written;
using testing::holds;
using testing::parse;
using testing::replaced_once;

const Cause* first_of_kind(const Explanation& x, const std::string& kind) {
  const auto found = std::find_if(x.causes.begin(), x.causes.end(),
                                  [&](const Cause& c) { return c.kind == kind; });
  return found == x.causes.end() ? nullptr : &*found;
}

// traces/room_held_past_deadline.jsonl, written by hand: desk1 holds room r-3 until 20 ms on its
// clock (#4, answered #6), then is busy (#8); desk2 finds the hold expired and holds
// r-3 itself at 31 ms (#11); desk1 books r-3 unguarded at 41 ms (#15), and desk2 books it too
// (#19).
TEST(ExplainLeaseRow, TheHoldTheTakeoverAndTheBookingAreOneCause) {
  const auto x = explained(parse(hand_written("room_held_past_deadline.jsonl")));
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  EXPECT_EQ(top.kind, "expired_lease") << top.summary;
  EXPECT_EQ(top.process, "desk1");
  for (const std::uint64_t e : {6u, 11u, 15u}) {
    EXPECT_TRUE(holds(top.events, e)) << e << ": " << top.summary;
  }
  EXPECT_EQ(top.facts.value("lease_event", 0u), 6u);
  EXPECT_EQ(top.facts.value("takeover_event", 0u), 11u);
  EXPECT_EQ(top.facts.value("act_event", 0u), 15u);
}

// desk2's own hold ends at 42 ms, before its booking at 44 ms: its act is late too, on a hold
// nobody took from it, while desk1's made two holders of r-3. desk1's lease still comes first.
TEST(ExplainLeaseRow, TheLeaseTakenOverOutranksItsTakersLateAct) {
  auto text = hand_written("room_held_past_deadline.jsonl");
  for (auto at = text.find("60000000"); at != std::string::npos; at = text.find("60000000", at)) {
    text.replace(at, 8, "42000000");
  }
  const auto x = explained(parse(text));
  ASSERT_FALSE(x.causes.empty());
  EXPECT_EQ(x.causes.front().kind, "expired_lease") << x.causes.front().summary;
  EXPECT_EQ(x.causes.front().process, "desk1") << x.causes.front().summary;
  const auto taker = std::find_if(x.causes.begin(), x.causes.end(), [](const Cause& c) {
    return c.kind == "expired_lease" && c.process == "desk2";
  });
  EXPECT_NE(taker, x.causes.end());
}

// A row written without a deadline is no lease: nothing expired.
TEST(ExplainLeaseRow, ARowWithoutADeadlineIsNoLease) {
  // The request's parameters, and the row the oracle saw written (the reply's send and delivery).
  auto text = hand_written("room_held_past_deadline.jsonl");
  for (int copy = 0; copy < 4; ++copy) {
    text = replaced_once(text, R"("b-1", 20000000)", R"("b-1", null)");
  }
  const auto* c = first_of_kind(explained(parse(text)), "expired_lease");
  EXPECT_TRUE(c == nullptr || c->process != "desk1") << c->summary;
}

// A booking guarded by the hold changes no row once the hold is taken over: no act on it.
TEST(ExplainLeaseRow, AGuardedBookingThatChangedNothingIsNoAct) {
  // The reply's send and its delivery both carry it.
  auto text = hand_written("room_held_past_deadline.jsonl");
  for (int copy = 0; copy < 2; ++copy) {
    text = replaced_once(
        text,
        R"("rows_changed": 1, "statements": [{"reads": ["rooms"], "writes": [{"table": "rooms", )"
        R"("op": "update", "rowid": 3, "row": ["r-3", "b-2", 60000000, "b-1"]}]}])",
        R"("rows_changed": 0, "statements": [{"reads": ["rooms"], "writes": []}])");
    text = replaced_once(text, R"("results": [[]], "changes": [1], "serial": 3)",
                         R"("results": [[]], "changes": [0], "serial": 3)");
  }
  const auto x = explained(parse(text));
  const auto* c = first_of_kind(x, "expired_lease");
  EXPECT_TRUE(c == nullptr || c->process != "desk1") << c->summary;
}

}  // namespace
}  // namespace seer::explain::lease_row_test
