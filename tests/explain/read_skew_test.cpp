// A decision on two reads of one value split in parts, between which another process moved rows
// from the part read first to the part read next (read skew): the structural fallback names the
// first read (docs/explain.md, `outdated_read`, `decision_input_overtaken`).
#include "explain_fixture.hpp"

#include <gtest/gtest.h>

#include <string>

namespace seer::explain::read_skew_test {
namespace {

using testing::cause_told;
using testing::explained;
using testing::hand_written;
using testing::parse;

// traces/sum_over_moved_rows.jsonl, written by hand: publisher counts post-1's likes in shard 0
// (1, delivered #7); mover moves them to shard 1 (#10); publisher counts shard 1 (3, with the
// moved row, #15) and publishes 4 (#16). Its later read saw the move arrive in shard 1, never that
// it left shard 0.
TEST(ExplainReadSkew, AReadOfAnotherPartThatSawTheMovedRowsDoesNotClearTheFirstRead) {
  const auto x = explained(parse(hand_written("sum_over_moved_rows.jsonl")));
  const auto* cause = cause_told(x, "decision_input_overtaken", "outdated_read");
  ASSERT_NE(cause, nullptr);
  EXPECT_EQ(cause->facts.value("read_event", 0), 7) << cause->summary;
  EXPECT_EQ(cause->facts.value("overtaking_event", 0), 10) << cause->summary;
  EXPECT_EQ(cause->facts.value("decision_event", 0), 16) << cause->summary;
}

// traces/sum_over_moved_rows_reread.jsonl: the same, but publisher counts shard 0 again after
// the move (the same request) before publishing: it read again and knew. Nothing is named.
TEST(ExplainReadSkew, TheSameReadAgainAfterTheMoveClearsIt) {
  const auto x = explained(parse(hand_written("sum_over_moved_rows_reread.jsonl")));
  EXPECT_EQ(cause_told(x, "decision_input_overtaken"), nullptr);
}

}  // namespace
}  // namespace seer::explain::read_skew_test
