// A new row does not make the rows a SQL read returned wrong: a copy taken from them is stale only
// when a row it carries changed or left the answer (docs/explain.md, stale_derived_write).
#include "explain_fixture.hpp"
#include "seer/explain/explain.hpp"
#include "seer/explain/redact.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace seer::explain::derived_rows_test {
namespace {

// A stale_derived_write blaming the poll delivered at `read` for the put.
const Cause* blamed_copy(const Explanation& x) {
  const auto found = std::find_if(x.causes.begin(), x.causes.end(), [](const Cause& c) {
    return c.kind == "stale_derived_write" && c.facts.value("read_event", 0u) == 8u;
  });
  return found == x.causes.end() ? nullptr : &*found;
}

std::string with_poll_answer_after(std::string text, const std::string& after) {
  const std::string grown = R"("after": [[7, "o-7"], [8, "o-8"]])";
  for (auto at = text.find(grown); at != std::string::npos; at = text.find(grown)) {
    text.replace(at, grown.size(), R"("after": )" + after);
  }
  return text;
}

// traces/poll_then_new_row.jsonl, written by hand: relay polls the outbox for unsent rows (LIMIT
// 4) and gets row 7 (o-7, #8); shop inserts row 8 (o-8), which the oracle records as changing the
// poll's answer (#11: one row more); relay then publishes row 7 (#15). Row 7 is what it was: the
// publication is no stale copy.
TEST(DerivedRows, ANewRowDoesNotMakeTheRowsReadStale) {
  const auto x =
      testing::explained(testing::parse(testing::hand_written("poll_then_new_row.jsonl")));
  const auto* c = blamed_copy(x);
  EXPECT_EQ(c, nullptr) << c->summary;
}

// The same where the write changed row 7 itself (its order became o-9): the copy carries a row
// that changed, and is stale.
TEST(DerivedRows, AChangedRowTheCopyCarriesMakesItStale) {
  const auto text =
      with_poll_answer_after(testing::hand_written("poll_then_new_row.jsonl"), R"([[7, "o-9"]])");
  const auto* c = blamed_copy(testing::explained(testing::parse(text)));
  EXPECT_NE(c, nullptr);
}

// A row the copy carries that left the answer (marked sent by someone else) makes it stale too.
TEST(DerivedRows, ACarriedRowGoneFromTheAnswerMakesItStale) {
  const auto text =
      with_poll_answer_after(testing::hand_written("poll_then_new_row.jsonl"), R"([])");
  const auto* c = blamed_copy(testing::explained(testing::parse(text)));
  EXPECT_NE(c, nullptr);
}

// From logs alone (no row-level record), an insert into the polled table changes none of the
// rows a non-aggregate read returned when its answer did not fill its LIMIT.
TEST(DerivedRows, FromLogsAnInsertBelowTheLimitChangesNoRowRead) {
  const auto full = testing::parse(testing::hand_written("poll_then_new_row.jsonl"));
  const auto x = testing::explained(redact(full));
  for (const auto& c : x.causes) EXPECT_NE(c.kind, "stale_derived_write") << c.summary;
}

// An answer that filled its LIMIT can lose a row to a new one ordered before it: from logs, the
// insert may then have changed the copy's row.
TEST(DerivedRows, FromLogsAnInsertIntoAFullLimitMayChangeIt) {
  auto text = testing::hand_written("poll_then_new_row.jsonl");
  for (auto at = text.find(R"("params": [4])"); at != std::string::npos;
       at = text.find(R"("params": [4])")) {
    text.replace(at, 13, R"("params": [1])");
  }
  const auto x = testing::explained(redact(testing::parse(text)));
  EXPECT_TRUE(std::any_of(x.causes.begin(), x.causes.end(),
                          [](const Cause& c) { return c.kind == "stale_derived_write"; }));
}

}  // namespace
}  // namespace seer::explain::derived_rows_test
