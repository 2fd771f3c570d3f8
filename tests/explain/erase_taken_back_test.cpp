// Erases a crash took back behind a durable write that already counts what they erased (a
// snapshot of the entries, then their truncation, unsynced): the crash revived the entries
// beside the snapshot (docs/explain.md, crash_lost_data, how `erase_taken_back`).
#include "explain_fixture.hpp"
#include "seer/explain/redact.hpp"

#include <gtest/gtest.h>

#include <string>

namespace seer::explain::erase_taken_back_test {
namespace {

using testing::cause_told;
using testing::explained;
using testing::hand_written;
using testing::holds;
using testing::parse;
using testing::replaced;

// traces/erases_taken_back.jsonl, written by hand: the ledger appends and syncs two entries,
// lists `entry/` (#15), writes snapshot/w-1 (#16) and syncs it (#17), erases both entries (#18,
// #19) and crashes before the next sync (#20), which takes the erases back; the check finds the
// disk counting the deposits twice.
TEST(ExplainEraseTakenBack, ErasesTakenBackBehindADurableSnapshotAreNamed) {
  const auto x = explained(parse(hand_written("erases_taken_back.jsonl")));
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  EXPECT_EQ(top.kind, "crash_lost_data") << top.summary;
  EXPECT_EQ(top.facts.value("how", std::string()), "erase_taken_back") << top.summary;
  EXPECT_EQ(top.facts.value("decision_event", 0), 16) << top.summary;
  EXPECT_EQ(top.facts.value("read_event", 0), 15) << top.summary;
  for (const std::uint64_t e : {16u, 18u, 19u, 20u}) EXPECT_TRUE(holds(top.events, e)) << e;
}

// A log has no list of lost writes: the erases since the last sync are what the crash may take
// back, and the check came while the ledger was down.
TEST(ExplainEraseTakenBack, ALogTellsTheSame) {
  const auto x = explained(redact(parse(hand_written("erases_taken_back.jsonl"))));
  const auto* c = cause_told(x, "erase_taken_back", "crash_lost_data");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(&x.causes.front(), c) << x.causes.front().summary;
}

// traces/erases_synced.jsonl: the erases were synced before the crash: nothing revived.
TEST(ExplainEraseTakenBack, ErasesSyncedBeforeTheCrashAreNotNamed) {
  const auto text = hand_written("erases_synced.jsonl");
  EXPECT_EQ(cause_told(explained(parse(text)), "erase_taken_back"), nullptr);
  EXPECT_EQ(cause_told(explained(redact(parse(text))), "erase_taken_back"), nullptr);
}

// The snapshot was not computed from the erased entries (the ledger listed another prefix): it
// does not count them, and reviving them counts nothing twice.
TEST(ExplainEraseTakenBack, ASummaryNotReadFromTheErasedDataIsNotNamed) {
  const auto text = replaced(hand_written("erases_taken_back.jsonl"), "\"prefix\": \"entry/\"",
                             "\"prefix\": \"wallet/\"");
  EXPECT_EQ(cause_told(explained(parse(text)), "erase_taken_back"), nullptr);
  EXPECT_EQ(cause_told(explained(redact(parse(text))), "erase_taken_back"), nullptr);
}

}  // namespace
}  // namespace seer::explain::erase_taken_back_test
