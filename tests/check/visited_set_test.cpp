// The search's memo stores a linearized set as the window between its leading full words and its
// trailing empty ones: the same set is one key however it was reached, and a long history checked
// in order costs a few words per key instead of one bit per operation.
#include "visited_set.hpp"

#include <gtest/gtest.h>

namespace seer::check {
namespace {

TEST(VisitedSet, TheSameSetReachedTwoWaysIsOneKey) {
  LinearizedSet a(200);
  LinearizedSet b(200);
  for (const int op : {0, 1, 130, 2}) a.set(op, true);
  for (const int op : {2, 130, 70, 1, 0}) b.set(op, true);
  b.set(70, false);
  VisitedSet visited;
  EXPECT_TRUE(visited.insert(a, 7));
  EXPECT_FALSE(visited.insert(b, 7));
  EXPECT_TRUE(visited.insert(b, 8)) << "another state is another key";
  b.set(3, true);
  EXPECT_TRUE(visited.insert(b, 7));
}

TEST(VisitedSet, LeadingFullAndTrailingEmptyWordsAreNotStored) {
  constexpr int kOps = 100'000;
  LinearizedSet set(kOps);
  VisitedSet visited;
  for (int op = 0; op < kOps; ++op) {
    set.set(op, true);
    ASSERT_TRUE(visited.insert(set, op));
  }
  // Per key: the state, the window's first word, and at most one word of window.
  EXPECT_LE(visited.words_stored(), 3u * kOps);
  EXPECT_EQ(set.begin(), set.size_in_words() - 1) << "every word below the last is full";
  // Taking an early op back widens the window down to it.
  set.set(5, false);
  EXPECT_EQ(set.begin(), 0u);
  EXPECT_TRUE(set.has(6));
  EXPECT_FALSE(set.has(5));
  EXPECT_TRUE(visited.insert(set, 0));
  set.set(5, true);
  EXPECT_FALSE(visited.insert(set, kOps - 1)) << "the full set again, in the last state";
}

}  // namespace
}  // namespace seer::check
