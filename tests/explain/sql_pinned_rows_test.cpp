// What a log's SQL pins down (docs/explain.md, outdated_read): a write whose WHERE clause fixes a
// column to another value than a read's did not change what that read returned, and a check of
// the row a write to another table is about (every column the check fixed, the write fixed alike)
// is what that write was decided on.
#include "explain_fixture.hpp"

#include <gtest/gtest.h>

#include <string>

namespace seer::explain::sql_pinned_rows_test {
namespace {

using testing::explained;
using testing::hand_written;
using testing::holds;
using testing::parse;
using testing::replaced;

const Cause* outdated_deciding(const Explanation& x, std::uint64_t decision) {
  for (const auto& c : x.causes) {
    if (c.kind == "outdated_read" && c.facts.is_object() && c.facts.contains("decision_event") &&
        c.facts["decision_event"].is_number() &&
        c.facts["decision_event"].get<std::uint64_t>() == decision)
      return &c;
  }
  return nullptr;
}

// traces/revoked_during_edit.jsonl, written by hand, no oracle facts: app1 checks (d-1, u3) and
// app2 checks (d-4, u1) (its answer delivered at #12); app2 sends its edit of (d-4, u1); admin
// revokes (d-1, u1) (#16) and (d-4, u1) (#20) before the edit commits (#23); app1 then edits
// (d-1, u3) (#27), still allowed.
TEST(ExplainSqlPinnedRows, TheCheckOfTheEditedRowIsTheOutdatedRead) {
  const auto x = explained(parse(hand_written("revoked_during_edit.jsonl")));
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  EXPECT_EQ(top.kind, "outdated_read") << top.summary;
  EXPECT_EQ(top.facts.value("read_event", 0), 12) << top.summary;
  EXPECT_EQ(top.facts.value("decision_event", 0), 23) << top.summary;
  EXPECT_TRUE(holds(top.events, 20));
  EXPECT_FALSE(holds(top.events, 16)) << top.summary;
}

// The revocation of (d-1, u1) changed no row app1's check of (d-1, u3) counted.
TEST(ExplainSqlPinnedRows, ARevocationOfAnotherPairIsNotAnOutdatingWrite) {
  const auto x = explained(parse(hand_written("revoked_during_edit.jsonl")));
  EXPECT_EQ(outdated_deciding(x, 27), nullptr);
}

// app2's edit is of another user than its check: the check is not the edit's basis, and the
// revocation during the edit's round trip outdates nothing it was decided on (only the structural
// fallback, which walks back from the edit's send, may still name the check).
TEST(ExplainSqlPinnedRows, AnEditOfAnotherRowThanTheCheckIsNotNamed) {
  const auto text = replaced(hand_written("revoked_during_edit.jsonl"),
                             "[\"d-4\", \"u1\", \"app2\"]", "[\"d-4\", \"u2\", \"app2\"]");
  EXPECT_EQ(outdated_deciding(explained(parse(text)), 23), nullptr);
}

// traces/revoked_during_edit_cached.jsonl: app2 checks (d-4, u1) (#12), then another pair
// (d-1, u2) (#16), then edits (d-4, u1) on its kept answer; the revocation of (d-4, u1) (#24)
// commits before the edit (#27). The check of the edited row is the basis, not the latest read.
TEST(ExplainSqlPinnedRows, AKeptAnswerOfTheEditedRowIsTheBasis) {
  const auto x = explained(parse(hand_written("revoked_during_edit_cached.jsonl")));
  const auto* c = outdated_deciding(x, 27);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->facts.value("read_event", std::uint64_t{0}), 12u) << c->summary;
  EXPECT_TRUE(holds(c->events, 24));
}

}  // namespace
}  // namespace seer::explain::sql_pinned_rows_test
