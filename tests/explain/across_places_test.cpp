// Causes whose two halves sit on different places: a check of one key and a write of another
// about the same object (outdated_read), and a peer's own copy stored over a write its sender
// had not seen (stale_derived_write, relayed) (docs/explain.md).
#include "explain_fixture.hpp"
#include "seer/explain/explain.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace seer::explain::across_places_test {
namespace {

const Cause* first_of(const Explanation& x, const std::string& kind) {
  const auto found = std::find_if(x.causes.begin(), x.causes.end(),
                                  [&](const Cause& c) { return c.kind == kind; });
  return found == x.causes.end() ? nullptr : &*found;
}

// traces/lost_wakeup.jsonl, written by hand: dev gets result/b-9 (not found, served #6, its
// reply in flight until #15); the builder puts result/b-9 (#9) and lists waiters/b-9/ (#13,
// empty); dev then creates waiters/b-9/dev (#18) and waits for a wakeup that never comes.
TEST(AcrossPlaces, ACheckOfOneKeyAndAWriteOfAnotherAboutTheSameObjectIsAnOutdatedRead) {
  const auto x = testing::explained(testing::hand_written("lost_wakeup.jsonl"));
  ASSERT_FALSE(x.causes.empty());
  const auto& c = x.causes.front();
  EXPECT_EQ(c.kind, "outdated_read") << c.summary;
  EXPECT_EQ(c.facts.value("read_event", 0u), 15u);
  EXPECT_EQ(c.facts.value("decision_event", 0u), 18u);
  EXPECT_EQ(c.facts.value("other_read_event", 0u), 13u);  // the listing that missed it
  EXPECT_NE(std::find(c.events.begin(), c.events.end(), 9u), c.events.end());
}

// A registration about another object (b-8) was not decided on the check of b-9: at most the
// weak latest-read guess names that read, never the check of the same object.
TEST(AcrossPlaces, AWriteAboutAnotherObjectIsNotDecidedOnTheCheck) {
  const auto text = testing::replaced(testing::hand_written("lost_wakeup.jsonl"), "waiters/b-9/dev",
                                      "waiters/b-8/dev");
  for (const auto& c : testing::explained(text).causes) {
    if (c.kind != "outdated_read") continue;
    EXPECT_EQ(c.facts.value("how", std::string()), "latest_read") << c.summary;
    EXPECT_FALSE(c.facts.contains("other_read_event")) << c.summary;
  }
}

// traces/gossip_after_tombstone_gc.jsonl: r2 stores i-7 (#6, a shopper's add); r1 removes it
// and gossips the tombstone to r3 (delivered #12); r3 erases the tombstone (#14); r2's gossip,
// sent without having heard of the removal (#15), brings i-7 back on r3 (#17).
TEST(AcrossPlaces, APeersOwnCopyStoredOverAWriteItHadNotSeenIsAStaleCopy) {
  const auto x = testing::explained(testing::hand_written("gossip_after_tombstone_gc.jsonl"));
  const auto* c = first_of(x, "stale_derived_write");
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->facts.value("own_copy", false));
  EXPECT_EQ(c->facts.value("read_event", 0u), 15u);
  EXPECT_EQ(c->facts.value("overtaking_write_event", 0u), 12u);
  EXPECT_EQ(c->facts.value("own_change_event", 0u), 14u);
  EXPECT_EQ(c->facts.value("decision_event", 0u), 16u);
}

// A sender that never stored the key itself sends a new write, not a copy: no stale copy.
TEST(AcrossPlaces, ASenderWithoutACopyOfItsOwnSendsNoCopy) {
  auto text = testing::hand_written("gossip_after_tombstone_gc.jsonl");
  const auto line = text.find(R"("process": "r2", "kind": "storage_write")");
  ASSERT_NE(line, std::string::npos);
  const auto key = text.find("cart/i-7", line);
  text.replace(key, 8, "cart/i-0");
  EXPECT_EQ(first_of(testing::explained(text), "stale_derived_write"), nullptr);
}

// traces/cached_switch.jsonl: app reads the migration switch ('old', delivered #7); the
// migrator flips it (#10); app then writes a change to the old location (#14), a write that
// names nothing it read. Its latest read is the only candidate, named as such.
TEST(AcrossPlaces, TheLatestReadBeforeAWriteThatNamesNothingIsAWeakOutdatedRead) {
  const auto x = testing::explained(testing::hand_written("cached_switch.jsonl"));
  const auto* c = first_of(x, "outdated_read");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->facts.value("how", ""), "latest_read");
  EXPECT_EQ(c->facts.value("read_event", 0u), 7u);
  EXPECT_EQ(c->facts.value("decision_event", 0u), 14u);
}

// traces/cached_switch_reread.jsonl: the same, but app read the switch again after the flip
// ('new') before writing: its latest read was fresh, and nothing is blamed.
TEST(AcrossPlaces, AFreshLatestReadIsNoOutdatedRead) {
  const auto x = testing::explained(testing::hand_written("cached_switch_reread.jsonl"));
  EXPECT_EQ(first_of(x, "outdated_read"), nullptr);
}

}  // namespace
}  // namespace seer::explain::across_places_test
