// A position saved in an ordered listing (a cursor): the lister saves the last key it listed, and
// a key created behind it after the listing is never listed again. The listing was outdated
// (outdated_read, `how: position`), not copied: the saved key is a bound over the listed range.
#include "explain_fixture.hpp"
#include "seer/explain/explain.hpp"

#include <gtest/gtest.h>

#include <string>

namespace seer::explain {
namespace {

using testing::cause_told;
using testing::holds;
using testing::replaced_once;

std::string position_trace() {
  return testing::hand_written("position_passed_new_key.jsonl");
}

// traces/position_passed_new_key.jsonl: the indexer lists jobs/ (served #16: jobs/0003-a,
// jobs/0007-a); p2's slow create of jobs/0005-b lands at #18; the indexer saves mark =
// jobs/0007-a (#23), past the new key, which sorts below it.
TEST(ExplainSavedPosition, AKeyCreatedBehindTheSavedPositionOutdatedTheListing) {
  const auto x = testing::explained(position_trace());
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  EXPECT_EQ(top.kind, "outdated_read") << top.summary;
  EXPECT_EQ(top.facts.value("how", std::string()), "position") << top.summary;
  EXPECT_EQ(top.facts.value("position", std::string()), "jobs/0007-a");
  for (const std::uint64_t seq : {19u, 18u, 23u}) {
    EXPECT_TRUE(holds(top.events, seq)) << seq << ": " << top.summary;
    EXPECT_TRUE(holds(x.slice, seq)) << seq;
  }
  // The saved key is no copy of what was read.
  for (const auto& c : x.causes) EXPECT_NE(c.kind, "stale_derived_write") << c.summary;
}

// The new key sorts after the saved position: the next listing returns it, nothing was passed.
TEST(ExplainSavedPosition, AKeyCreatedAheadOfThePositionIsNotBehindIt) {
  auto text = position_trace();
  for (auto at = text.find("jobs/0005-b"); at != std::string::npos; at = text.find("jobs/0005-b")) {
    text.replace(at, 11, "jobs/0009-b");
  }
  const auto x = testing::explained(text);
  EXPECT_EQ(cause_told(x, "position"), nullptr);
}

// The saved value is not one of the listed keys (a count of them): no position.
TEST(ExplainSavedPosition, AValueThatIsNoListedKeyIsNoPosition) {
  auto text = position_trace();
  for (int copy = 0; copy < 2; ++copy) {  // the indexer's request and the store's delivery of it
    text = replaced_once(text, R"("op": "put", "req": 2, "value": "jobs/0007-a")",
                         R"("op": "put", "req": 2, "value": "jobs/0003-a jobs/0007-a")");
  }
  const auto x = testing::explained(text);
  EXPECT_EQ(cause_told(x, "position"), nullptr);
}

}  // namespace
}  // namespace seer::explain
