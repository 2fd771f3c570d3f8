// The simulated services' record of the requests they took (seen_messages.hpp): a copy of a
// message (the network's duplicate, same id) is refused, every other id taken once.
#include "seen_messages.hpp"

#include <gtest/gtest.h>

namespace seer::services::seen_messages_test {
namespace {

TEST(SeenMessages, TakesAnIdOnceInAnyOrder) {
  SeenMessages seen;
  EXPECT_TRUE(seen.take(5));
  EXPECT_FALSE(seen.take(5));
  EXPECT_TRUE(seen.take(1));
  EXPECT_TRUE(seen.take(64));  // the next word
  EXPECT_TRUE(seen.take(100'000));
  EXPECT_FALSE(seen.take(64));
  EXPECT_FALSE(seen.take(100'000));
  EXPECT_FALSE(seen.take(1));
  EXPECT_TRUE(seen.take(63));
  EXPECT_TRUE(seen.take(99'999));
  EXPECT_TRUE(seen.take(0));
  EXPECT_FALSE(seen.take(0));
}

}  // namespace
}  // namespace seer::services::seen_messages_test
