// Causes among the design's own processes, told from messages, storage writes and happens-before
// alone (docs/explain.md): a copy relayed from one process to another and stored over a
// concurrent newer write (stale_derived_write, `how: relayed`), and a stale read whose decision was
// a message it routed (stale_read's `routed_event`), with or without the oracle's facts.
#include "explain_fixture.hpp"
#include "seer/explain/redact.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace seer::explain {
namespace {

// traces/relayed_copy.jsonl: the editor sends rev 5 of d7 to west (#5), slowly. The syncer
// fetches d7 from east (rev 4, #15) and west (rev 3, #14) and pushes east's copy to west (#16).
// The editor's rev 5 reaches west first (#17, stored #18, acknowledged #19); the push arrives at
// #20 and west stores it (#21) over rev 5. No oracle facts.
TEST(RelayedCopy, ACopyStoredOverAConcurrentNewerWriteIsAStaleDerivedWrite) {
  const auto x = testing::explained(testing::hand_written("relayed_copy.jsonl"));
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  EXPECT_EQ(top.kind, "stale_derived_write") << top.summary;
  EXPECT_EQ(top.process, "syncer");
  EXPECT_EQ(top.facts.value("how", std::string()), "relayed");
  for (const std::uint64_t seq : {15u, 14u, 19u, 20u, 21u}) {
    EXPECT_TRUE(testing::holds(top.events, seq)) << seq << ": " << top.summary;
    EXPECT_TRUE(testing::holds(x.slice, seq)) << seq;
  }
}

// The push arrives and west keeps its own copy (it stores nothing): no copy went back.
TEST(RelayedCopy, ACopyTheReceiverDidNotStoreIsNoCause) {
  const auto text = testing::replaced_once(testing::hand_written("relayed_copy.jsonl"),
                                           R"("kind": "storage_write", "parents": [20])",
                                           R"("kind": "storage_read", "parents": [20])");
  const auto x = testing::explained(text);
  const auto* c = testing::cause_told(x, "relayed", "stale_derived_write");
  EXPECT_EQ(c, nullptr) << c->summary;
}

// The syncer had learned of the editor's rev 5 before it fetched (the update's send is in the
// push's causal past): the push was decided knowing that write, so storing it over that write is
// no stale copy.
TEST(RelayedCopy, AWriteInTheCopysCausalPastIsNotOvertakingIt) {
  const auto text =
      testing::replaced_once(testing::hand_written("relayed_copy.jsonl"),
                             R"("process": "syncer", "kind": "send", "parents": [2])",
                             R"("process": "syncer", "kind": "send", "parents": [2, 5])");
  const auto x = testing::explained(text);
  const auto* c = testing::cause_told(x, "relayed", "stale_derived_write");
  EXPECT_EQ(c, nullptr) << c->summary;
}

// traces/relayed_copy_late.jsonl: the same copy, but the syncer tells the editor it synced d7
// (#14) and the editor then sends rev 5 (#16): the update is causally after the push's send, not
// concurrent with it, and it still reaches west first (#17, acknowledged #19). The syncer never
// saw rev 5, so the push stored at #21 is a stale copy all the same.
TEST(RelayedCopy, AWriteCausallyAfterTheCopysSendIsStillOvertakingIt) {
  const auto x = testing::explained(testing::hand_written("relayed_copy_late.jsonl"));
  const auto* c = testing::cause_told(x, "relayed", "stale_derived_write");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(&x.causes.front(), c) << x.causes.front().summary;
  for (const std::uint64_t seq : {12u, 11u, 19u, 20u, 21u}) {
    EXPECT_TRUE(testing::holds(c->events, seq)) << seq << ": " << c->summary;
  }
}

// traces/stale_route.jsonl: the router reads a stale routing table twice (#17, #26: epoch 1 after
// the admin's epoch 2 was acknowledged at #12). After the first it routes u5's mail to its old
// shard (#18), the loss the violation names; after the later one, u2's mail (#27), which is still
// where it belongs. The stale read named first is the one that routed the lost item.
TEST(RoutedStaleRead, TheStaleReadThatRoutedTheViolatedEntityRanksFirst) {
  const auto x = testing::explained(testing::hand_written("stale_route.jsonl"));
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  EXPECT_EQ(top.kind, "stale_read") << top.summary;
  EXPECT_TRUE(testing::holds(top.events, 17)) << top.summary;
  EXPECT_TRUE(testing::holds(top.events, 18)) << top.summary;
  EXPECT_EQ(top.facts.value("routed_event", std::uint64_t{0}), 18u) << top.summary;
  EXPECT_TRUE(testing::holds(x.slice, 18));
}

// The same trace without the oracle's facts: the store's own log shows it acknowledged revision 2
// of `routes` (#12) before it answered the router's read with revision 1 (#16), so the read
// missed an acknowledged write, whatever replica served it.
TEST(RoutedStaleRead, ALogShowingAnOlderRevisionAfterAnAcknowledgedWriteIsAStaleRead) {
  const auto trace = redact(testing::parse(testing::hand_written("stale_route.jsonl")));
  const auto x = testing::explained(trace);
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  EXPECT_EQ(top.kind, "stale_read") << top.summary;
  const auto read = top.events.front();
  ASSERT_TRUE(trace.has(read));
  EXPECT_EQ(trace.at(read).type, "kv_reply");
  EXPECT_EQ(trace.at(read).line["payload"].value("revision", 0), 1);
  const auto routed = top.facts.value("routed_event", std::uint64_t{0});
  ASSERT_TRUE(trace.has(routed)) << top.summary;
  EXPECT_EQ(trace.at(routed).line["payload"].value("user", std::string()), "u5");
}

}  // namespace
}  // namespace seer::explain
