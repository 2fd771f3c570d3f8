// SEER_ASSERT: always on, one line on stderr naming the condition, the message, the file and the
// line, then abort.
#include "seer/assert.hpp"

#include <gtest/gtest.h>

namespace {

int checked_half(int n) {
  SEER_ASSERT(n % 2 == 0, "only even numbers halve");
  return n / 2;
}

TEST(Assert, AHoldingAssertionDoesNothing) {
  EXPECT_EQ(checked_half(8), 4);
}

TEST(AssertDeathTest, AFailedAssertionPrintsOneLineAndAborts) {
  EXPECT_DEATH(checked_half(7),
               "^seer: assertion failed: n % 2 == 0 \\(only even numbers halve\\) at "
               ".*assert_test\\.cpp:[0-9]+\n$");
}

// Release builds define NDEBUG; SEER_ASSERT does not depend on it.
TEST(AssertDeathTest, ItIsOnInReleaseBuilds) {
#ifdef NDEBUG
  EXPECT_DEATH(SEER_ASSERT(false, "release"), "assertion failed: false \\(release\\)");
#else
  GTEST_SKIP() << "not a release build";
#endif
}

}  // namespace
