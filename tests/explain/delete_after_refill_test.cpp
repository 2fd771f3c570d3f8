// A delete of a key that another process re-filled after the deleter read it: the delete removed
// what its check never saw (docs/explain.md, `racing_delete`, the re-upload case, ranked above the
// outdated read that names the same delete and write).
#include "explain_fixture.hpp"

#include <gtest/gtest.h>

#include <string>

namespace seer::explain::delete_after_refill_test {
namespace {

using testing::explained;
using testing::hand_written;
using testing::holds;
using testing::parse;

// traces/delete_after_refill.jsonl, written by hand: filer gets inbox/d-1 (version 1, delivered
// #11); scanner puts version 2 under the same key (#14) and then a notice naming it elsewhere
// (notices/n-2, #18); filer archives version 1 (#22) and deletes inbox/d-1 (#26): version 2 is
// gone. The delete was checked on the key itself, so the re-fill is what it missed, not the
// notice; and the delete is the more specific story than the lost update of the same events.
TEST(ExplainDeleteAfterRefill, TheReFillTheDeletersReadOfTheKeyMissedIsTheRacingWrite) {
  const auto x = explained(parse(hand_written("delete_after_refill.jsonl")));
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  EXPECT_EQ(top.kind, "racing_delete") << top.summary;
  EXPECT_EQ(top.facts.value("read_event", 0), 11) << top.summary;
  EXPECT_EQ(top.facts.value("concurrent_write_event", 0), 14) << top.summary;
  EXPECT_EQ(top.facts.value("delete_event", 0), 26) << top.summary;
  // The outdated read of the same delete and write is still told, below it.
  const auto read = std::find_if(x.causes.begin(), x.causes.end(), [](const Cause& c) {
    return c.kind == "outdated_read" && c.facts.value("decision_event", 0) == 26;
  });
  ASSERT_NE(read, x.causes.end());
  EXPECT_TRUE(holds(read->events, 14));
  EXPECT_GT(top.score, read->score);
}

// traces/delete_after_reading_refill.jsonl: the re-fill and its notice come before filer's get,
// which reads version 2 and archives it: the delete removed what it had read. No racing delete,
// no outdated read.
TEST(ExplainDeleteAfterRefill, ADeleteAfterReadingTheReFillIsNoRace) {
  const auto x = explained(parse(hand_written("delete_after_reading_refill.jsonl")));
  for (const auto& c : x.causes) {
    EXPECT_NE(c.kind, "racing_delete") << c.summary;
    EXPECT_NE(c.kind, "outdated_read") << c.summary;
  }
}

}  // namespace
}  // namespace seer::explain::delete_after_refill_test
