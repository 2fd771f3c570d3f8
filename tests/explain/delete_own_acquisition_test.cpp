// A delete decided on the deleter's own acquisition (a lock it took, then lost across a pause):
// the acquisition the concurrent write replaced is part of the racing delete's evidence.
#include "explain_fixture.hpp"
#include "seer/explain/explain.hpp"

#include <gtest/gtest.h>

namespace seer::explain {
namespace {

using testing::holds;

const Cause* racing_delete(const Explanation& x) {
  for (const auto& c : x.causes) {
    if (c.kind == "racing_delete") return &c;
  }
  return nullptr;
}

// traces/delete_after_lock_taken.jsonl: w1 reads lock/printer (#7), takes it (create, #10) and
// pauses past its lease; w2 takes the expired lock (update, #18); w1 resumes and deletes it (#22).
TEST(ExplainDeleteOwnAcquisition, TheDeletersAcquisitionIsPartOfTheRacingDelete) {
  const auto x =
      testing::explained(testing::parse(testing::hand_written("delete_after_lock_taken.jsonl")));
  const auto* c = racing_delete(x);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c, &x.causes.front()) << x.causes.front().summary;
  EXPECT_EQ(c->facts.value("own_write_event", std::uint64_t{0}), 10u) << c->summary;
  for (const std::uint64_t seq : {10u, 18u, 22u}) {
    EXPECT_TRUE(holds(c->events, seq)) << seq << ": " << c->summary;
    EXPECT_TRUE(holds(x.slice, seq)) << seq;
  }
}

// traces/delete_without_own_lock.jsonl: the same run, but w1's earlier write was of another key
// (claim/printer): it never held lock/printer, so no acquisition of it is named.
TEST(ExplainDeleteOwnAcquisition, AWriteOfAnotherKeyIsNoAcquisition) {
  const auto x =
      testing::explained(testing::parse(testing::hand_written("delete_without_own_lock.jsonl")));
  const auto* c = racing_delete(x);
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(c->facts.contains("own_write_event")) << c->summary;
  EXPECT_FALSE(holds(c->events, 10)) << c->summary;
}

}  // namespace
}  // namespace seer::explain
