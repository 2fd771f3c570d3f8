// A read's answer of one value (a count) written back elsewhere is a copy, and a read of the
// reader's own claim is a check, not a copy (docs/explain.md, stale_derived_write and
// outdated_read).
#include "explain_fixture.hpp"
#include "seer/explain/explain.hpp"
#include "seer/explain/redact.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace seer::explain::value_copies_test {
namespace {

const Cause* find_kind(const Explanation& x, const std::string& kind, std::uint64_t read_event) {
  const auto found = std::find_if(x.causes.begin(), x.causes.end(), [&](const Cause& c) {
    return c.kind == kind && c.facts.value("read_event", std::uint64_t{0}) == read_event;
  });
  return found == x.causes.end() ? nullptr : &*found;
}

// traces/recount_written_back.jsonl, written by hand: recount counts p-1's comments (1, delivered
// at #7); web adds a comment and increments the counter (#10); recount writes its count, 1, over
// the counter (#14). The count is a value like any other, though 0 and 1 name nothing.
TEST(ValueCopies, ACountWrittenBackOverALiveCounterIsAStaleCopy) {
  const auto x =
      testing::explained(testing::parse(testing::hand_written("recount_written_back.jsonl")));
  ASSERT_FALSE(x.causes.empty());
  const auto& first = x.causes.front();
  EXPECT_EQ(first.kind, "stale_derived_write") << first.summary;
  EXPECT_EQ(first.facts.value("read_event", 0u), 7u);
  EXPECT_EQ(first.facts.value("overtaking_write_event", 0u), 10u);
  EXPECT_EQ(first.facts.value("decision_event", 0u), 14u);
}

// From logs alone: a new comment changes a count, so the copy is stale there too.
TEST(ValueCopies, FromLogsANewRowChangesTheCountWrittenBack) {
  const auto full = testing::parse(testing::hand_written("recount_written_back.jsonl"));
  EXPECT_NE(find_kind(testing::explained(redact(full)), "stale_derived_write", 7), nullptr);
}

// A write that does not take the count as a parameter copied nothing from it.
TEST(ValueCopies, AWriteWithoutTheCountCopiesNothing) {
  const auto text = testing::replaced(testing::hand_written("recount_written_back.jsonl"),
                                      R"("params": [1, "p-1"])", R"("params": [7, "p-1"])");
  EXPECT_EQ(find_kind(testing::explained(testing::parse(text)), "stale_derived_write", 7), nullptr);
}

// traces/own_claim_check.jsonl: writer1 registers token 2 in the fence (#6), reads the fence
// back (2, delivered at #11), writer2 registers token 3 (#14), and writer1 appends under token
// 2 (#18). The append carries writer1's own token: the read checked a claim, it was no source of
// a copy. The append was decided on that check, which writer2's registration outdated.
TEST(ValueCopies, ACheckOfTheReadersOwnClaimIsNoCopyButAnOutdatedRead) {
  const auto x = testing::explained(testing::parse(testing::hand_written("own_claim_check.jsonl")));
  EXPECT_EQ(find_kind(x, "stale_derived_write", 11), nullptr);
  const auto* outdated = find_kind(x, "outdated_read", 11);
  ASSERT_NE(outdated, nullptr);
  EXPECT_EQ(outdated->facts.value("decision_event", 0u), 18u);
  EXPECT_NE(std::find(outdated->events.begin(), outdated->events.end(), 14u),
            outdated->events.end());
}

// The same where writer1 had registered another token (5): the 2 it read was not its own, so
// the append copies it from the read, and that copy is the story (at most the weak latest-read
// guess also names the read, below it).
TEST(ValueCopies, AValueTheReaderDidNotWriteIsACopy) {
  const auto text = testing::replaced(testing::hand_written("own_claim_check.jsonl"),
                                      R"("params": [2, "news"])", R"("params": [5, "news"])");
  const auto x = testing::explained(testing::parse(text));
  ASSERT_FALSE(x.causes.empty());
  EXPECT_EQ(&x.causes.front(), find_kind(x, "stale_derived_write", 11)) << x.causes.front().summary;
  const auto* outdated = find_kind(x, "outdated_read", 11);
  if (outdated) {
    EXPECT_EQ(outdated->facts.value("how", std::string()), "latest_read");
  }
}

}  // namespace
}  // namespace seer::explain::value_copies_test
