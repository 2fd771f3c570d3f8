// A stamp its writer took from its own clock, read back by a process whose clock had not reached
// it though real time had (docs/explain.md, clock_behind / clock_ahead, how
// `stamp_judged_behind`); and a write made durable ahead of the writes it vouches for, which a
// crash took back (crash_lost_data, how `durable_ahead`).
#include "explain_fixture.hpp"
#include "seer/explain/redact.hpp"

#include <gtest/gtest.h>

#include <string>

namespace seer::explain::stamp_judged_behind_test {
namespace {

using testing::cause_told;
using testing::explained;
using testing::hand_written;
using testing::holds;
using testing::parse;
using testing::replaced;
using testing::replaced_once;

// traces/stamp_in_readers_future.jsonl, written by hand: pub (its clock 40 ms ahead) puts
// `cfg/limits/v1@41000000` (its clock's reading) at #6 and tells node (#9); node lists the entry
// (#13), its clock at 4 ms, and records version 0 (#16).
TEST(ExplainStampJudgedBehind, AStampFromTheWritersClockAheadOfTheReadersIsNamed) {
  const auto x = explained(parse(hand_written("stamp_in_readers_future.jsonl")));
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  EXPECT_EQ(top.kind, "clock_ahead") << top.summary;
  EXPECT_EQ(top.facts.value("how", std::string()), "stamp_judged_behind") << top.summary;
  EXPECT_EQ(top.process, "pub");
  EXPECT_EQ(top.facts.value("read_event", 0), 13) << top.summary;
  EXPECT_EQ(top.facts.value("decision_event", 0), 16) << top.summary;
  for (const std::uint64_t e : {6u, 13u, 16u}) EXPECT_TRUE(holds(top.events, e)) << e;
}

// A log: each event's time is its process's own clock, so pub's put reads 41 ms and node's
// listing, after it, 4 ms. Which clock was off is unknown; node's is named behind pub's.
TEST(ExplainStampJudgedBehind, ALogTellsTheReaderBehindTheWriter) {
  const auto x = explained(redact(parse(hand_written("stamp_in_readers_future.jsonl"))));
  const auto* c = cause_told(x, "stamp_judged_behind");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->kind, "clock_behind") << c->summary;
  EXPECT_EQ(c->process, "node");
  EXPECT_FALSE(c->facts.value("clocks_known", true));
  EXPECT_EQ(&x.causes.front(), c) << x.causes.front().summary;
}

// The same run with pub's clock right: the stamp (1 ms) is in node's past when it lists it.
TEST(ExplainStampJudgedBehind, AStampInTheReadersPastIsNotNamed) {
  const auto text =
      replaced(replaced(hand_written("stamp_in_readers_future.jsonl"), "41000000", "1000000"),
               "\"clock_offset_ns\": 40000000", "\"clock_offset_ns\": 0");
  const auto x = explained(parse(text));
  EXPECT_EQ(cause_told(x, "stamp_judged_behind"), nullptr);
  EXPECT_EQ(cause_told(explained(redact(parse(text))), "stamp_judged_behind"), nullptr);
}

// traces/marker_durable_before_items.jsonl: store writes and syncs `done/b-1` (#7, #8), then
// the items; the crash (#12) takes back `item/b-1/2` (#11); restarted, it reads `done/b-1` (#17)
// and answers `stored` (#18).
TEST(ExplainDurableAhead, AMarkerSyncedBeforeTheItemsItVouchesForIsWhereTheDesignActed) {
  const auto x = explained(parse(hand_written("marker_durable_before_items.jsonl")));
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  EXPECT_EQ(top.kind, "crash_lost_data") << top.summary;
  EXPECT_EQ(top.facts.value("how", std::string()), "durable_ahead") << top.summary;
  EXPECT_EQ(top.facts.value("decision_event", 0), 7) << top.summary;
  EXPECT_EQ(top.facts.value("read_event", 0), 17) << top.summary;
  for (const std::uint64_t e : {7u, 11u, 12u, 18u}) EXPECT_TRUE(holds(top.events, e)) << e;
}

// A log has no list of lost writes: the unsynced write at the crash, the marker synced before
// it, the read and the answer are all there.
TEST(ExplainDurableAhead, ALogTellsTheSame) {
  const auto x = explained(redact(parse(hand_written("marker_durable_before_items.jsonl"))));
  const auto* c = cause_told(x, "durable_ahead", "crash_lost_data");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(&x.causes.front(), c) << x.causes.front().summary;
  EXPECT_EQ(c->facts.value("decision_event", 0), 7) << c->summary;
}

// The restarted store finds no marker (it writes the batch again): nothing vouched for the lost
// item, and the crash is told without a surviving write.
TEST(ExplainDurableAhead, NoReadOfTheSurvivingWriteIsNotNamed) {
  const auto text = replaced_once(hand_written("marker_durable_before_items.jsonl"),
                                  "\"found\": true, \"key\": \"done/b-1\"",
                                  "\"found\": false, \"key\": \"done/b-1\"");
  EXPECT_EQ(cause_told(explained(parse(text)), "durable_ahead"), nullptr);
  EXPECT_EQ(cause_told(explained(redact(parse(text))), "durable_ahead"), nullptr);
}

}  // namespace
}  // namespace seer::explain::stamp_judged_behind_test
