// A delete that names no row and removed more rows than its deleter's read had returned: an insert
// between the read and the delete was removed unseen (docs/explain.md, racing_delete, how
// `wider_than_read`).
#include "explain_fixture.hpp"
#include "seer/explain/redact.hpp"

#include <gtest/gtest.h>

#include <string>

namespace seer::explain::delete_wider_than_read_test {
namespace {

using testing::cause_told;
using testing::explained;
using testing::hand_written;
using testing::holds;
using testing::parse;

// traces/delete_wider_than_read.jsonl, written by hand: keeper reads log's two rows (answered #6,
// delivered #7); adder's insert of e-3 commits (#10); keeper's `DELETE FROM log` commits (#14),
// removing 3 rows where its read returned 2.
TEST(ExplainDeleteWiderThanRead, AnInsertBetweenTheReadAndAnUnboundedDeleteIsNamed) {
  const auto x = explained(parse(hand_written("delete_wider_than_read.jsonl")));
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  EXPECT_EQ(top.kind, "racing_delete") << top.summary;
  EXPECT_EQ(top.facts.value("how", std::string()), "wider_than_read") << top.summary;
  EXPECT_EQ(top.facts.value("read_event", 0), 7) << top.summary;
  EXPECT_EQ(top.facts.value("concurrent_write_event", 0), 10) << top.summary;
  EXPECT_EQ(top.facts.value("decision_event", 0), 14) << top.summary;
  EXPECT_EQ(top.facts.value("rows_read", 0), 2);
  EXPECT_EQ(top.facts.value("rows_deleted", 0), 3);
}

// A log holds the SQL and the row counts: the redacted trace tells the same.
TEST(ExplainDeleteWiderThanRead, ALogTellsItToo) {
  const auto x = explained(redact(parse(hand_written("delete_wider_than_read.jsonl"))));
  const auto* cause = cause_told(x, "wider_than_read", "racing_delete");
  ASSERT_NE(cause, nullptr);
  for (const std::uint64_t e : {7u, 10u, 14u}) EXPECT_TRUE(holds(cause->events, e)) << e;
}

// traces/delete_bounded_by_read.jsonl: the same, but the delete is bounded by the read
// (`WHERE id <= ?1`) and removes the 2 rows read: e-3 is left, nothing is named.
TEST(ExplainDeleteWiderThanRead, ADeleteBoundedByItsReadIsNotNamed) {
  const auto x = explained(parse(hand_written("delete_bounded_by_read.jsonl")));
  EXPECT_EQ(cause_told(x, "wider_than_read"), nullptr);
}

}  // namespace
}  // namespace seer::explain::delete_wider_than_read_test
