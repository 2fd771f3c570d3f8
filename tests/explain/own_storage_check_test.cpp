// A check answered from one of the design's own processes' storage, acted on after another of its
// processes had acknowledged a write of the same key the check had not seen (stale_read or
// outdated_read, `how: own_storage`): messages, storage events and happens-before alone.
#include "explain_fixture.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace seer::explain {
namespace {

// traces/checked_on_own_replica.jsonl: the leader stores ann's booking of seat/s-12 (#7) and
// acknowledges it (#8). The mirror, which the leader ships bookings to every so often, answers
// bea's check from its disk (read #12, answer #13: free); bea books (#15) and the leader stores
// her booking over ann's (#19, acknowledged #20). Its shipment (#17) was sent after the check.
TEST(OwnStorageCheck, ACheckOnAReplicaMissingAnAcknowledgedWriteIsAStaleRead) {
  const auto x = testing::explained(testing::hand_written("checked_on_own_replica.jsonl"));
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  EXPECT_EQ(top.kind, "stale_read") << top.summary;
  EXPECT_EQ(top.process, "bea");
  EXPECT_EQ(top.facts.value("how", std::string()), "own_storage") << top.summary;
  for (const std::uint64_t seq : {14u, 8u, 19u, 20u}) {
    EXPECT_TRUE(testing::holds(top.events, seq)) << seq << ": " << top.summary;
    EXPECT_TRUE(testing::holds(x.slice, seq)) << seq;
  }
}

// traces/checked_before_own_write.jsonl: the same run, but ann's booking reaches the leader (#10,
// stored #11, acknowledged #12) just after the mirror answered bea (read #8, answer #9): the check
// was true when made and outdated before bea acted on it (#14; the overwrite #19).
TEST(OwnStorageCheck, ACheckOvertakenByAnAcknowledgedWriteIsAnOutdatedRead) {
  const auto x = testing::explained(testing::hand_written("checked_before_own_write.jsonl"));
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  EXPECT_EQ(top.kind, "outdated_read") << top.summary;
  EXPECT_EQ(top.process, "bea");
  EXPECT_EQ(top.facts.value("how", std::string()), "own_storage") << top.summary;
  EXPECT_EQ(top.facts.value("missed_write_event", std::uint64_t{0}), 11u) << top.summary;
  for (const std::uint64_t seq : {8u, 13u, 11u, 12u, 19u}) {
    EXPECT_TRUE(testing::holds(top.events, seq)) << seq << ": " << top.summary;
    EXPECT_TRUE(testing::holds(x.slice, seq)) << seq;
  }
}

// Bea had heard of ann's booking before she asked (the booking's acknowledgement is in her
// check's causal past): the mirror's answer was not the view her booking was decided on alone,
// and the check missed nothing she had not seen.
TEST(OwnStorageCheck, AWriteInTheChecksCausalPastIsNoCause) {
  const auto text =
      testing::replaced_once(testing::hand_written("checked_on_own_replica.jsonl"),
                             R"("process": "bea", "kind": "send", "parents": [4])",
                             R"("process": "bea", "kind": "send", "parents": [4, 8])");
  const auto x = testing::explained(text);
  const auto* c = testing::cause_told(x, "own_storage");
  EXPECT_EQ(c, nullptr) << c->summary;
}

// The leader reads the seat itself while handling bea's booking (and the trace shows no second
// write): nothing was written over ann's booking on the check's word.
TEST(OwnStorageCheck, NoWriteOverTheMissedOneIsNoCause) {
  const auto text = testing::replaced_once(testing::hand_written("checked_on_own_replica.jsonl"),
                                           R"("kind": "storage_write", "parents": [18])",
                                           R"("kind": "storage_read", "parents": [18])");
  const auto x = testing::explained(text);
  const auto* c = testing::cause_told(x, "own_storage");
  EXPECT_EQ(c, nullptr) << c->summary;
}

}  // namespace
}  // namespace seer::explain
