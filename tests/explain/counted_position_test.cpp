// A position counted in rows already read (an OFFSET) carried in the reader's next request, moved
// by another process's delete of a row the reader had passed (docs/explain.md, `outdated_read`,
// `counted_position`).
#include "explain_fixture.hpp"

#include <gtest/gtest.h>

#include <string>

namespace seer::explain::counted_position_test {
namespace {

using testing::cause_told;
using testing::explained;
using testing::hand_written;
using testing::holds;
using testing::parse;

// traces/offset_moved_by_delete.jsonl, written by hand: pager reads two rows at offset 0 (a-1,
// a-2; answered #6, delivered #7) and asks for the next two at offset 2 (#8); remover's delete of
// a-1 commits (#11) before that request is served (#14): a-3 moves to offset 1, behind the
// position, and page 2 returns a-4 alone. a-3 is never read.
TEST(ExplainCountedPosition, ADeleteBehindAnOffsetInFlightSkipsTheRowThatSlidBehindIt) {
  const auto trace = parse(hand_written("offset_moved_by_delete.jsonl"));
  const auto x = explained(trace);
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  EXPECT_EQ(top.kind, "outdated_read") << top.summary;
  EXPECT_EQ(top.facts.value("how", std::string()), "counted_position") << top.summary;
  EXPECT_EQ(top.facts.value("decision_event", 0), 8) << top.summary;
  EXPECT_EQ(top.facts.value("read_event", 0), 7);
  EXPECT_EQ(top.facts.value("position", 0), 2);
  EXPECT_EQ(top.facts["skipped"], nlohmann::json::parse(R"([[3, "a-3"]])"));
  for (const std::uint64_t e : {7u, 11u, 8u, 14u}) EXPECT_TRUE(holds(top.events, e)) << e;
  // Where the design acted: the request that carried the position, in the reader's code.
  const auto remedy = explanation_json(x, trace)["causes"][0]["remedy"];
  EXPECT_EQ(remedy["decision"].value("seq", 0), 8) << remedy.dump();
  EXPECT_EQ(remedy["took_effect"].value("seq", 0), 14) << remedy.dump();
}

// traces/offset_page_read_it.jsonl: the same pages and delete, but the next page starts at a-3
// (the position is past the last row read, not a count of rows: keyset pagination). The row the
// delete moved was read: no counted position.
TEST(ExplainCountedPosition, ANextPageThatReadsTheRowThatMovedIsNoSkip) {
  const auto x = explained(parse(hand_written("offset_page_read_it.jsonl")));
  EXPECT_EQ(cause_told(x, "counted_position"), nullptr);
}

}  // namespace
}  // namespace seer::explain::counted_position_test
