// ddmin finds a 1-minimal failing subset, asks about the empty set first, and honours `stop`.
#include "ddmin.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace seer::shrink {
namespace {

bool contains(const std::vector<std::size_t>& v, std::size_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

TEST(Ddmin, FindsTheTwoElementsThatTogetherFail) {
  std::size_t calls = 0;
  const auto kept = ddmin(
      200,
      [&](const std::vector<std::size_t>& c) {
        ++calls;
        return contains(c, 17) && contains(c, 163);
      },
      [] { return false; });
  EXPECT_EQ(kept, (std::vector<std::size_t>{17, 163}));
  EXPECT_LT(calls, 200u);  // far fewer than one test per element
}

TEST(Ddmin, ReturnsTheEmptySetWhenNothingIsNeeded) {
  std::size_t calls = 0;
  const auto kept = ddmin(
      50, [&](const std::vector<std::size_t>&) { return ++calls > 0; }, [] { return false; });
  EXPECT_TRUE(kept.empty());
  EXPECT_EQ(calls, 1u);
}

TEST(Ddmin, ResultIsOneMinimalForAThresholdPredicate) {
  // Fails when at least 3 of the even elements are present: any 3 evens are 1-minimal.
  const auto fails = [](const std::vector<std::size_t>& c) {
    return std::count_if(c.begin(), c.end(), [](std::size_t x) { return x % 2 == 0; }) >= 3;
  };
  const auto kept = ddmin(40, fails, [] { return false; });
  ASSERT_TRUE(fails(kept));
  EXPECT_EQ(kept.size(), 3u);
  for (std::size_t i = 0; i < kept.size(); ++i) {
    auto smaller = kept;
    smaller.erase(smaller.begin() + static_cast<std::ptrdiff_t>(i));
    EXPECT_FALSE(fails(smaller));
  }
  EXPECT_TRUE(std::is_sorted(kept.begin(), kept.end()));
}

TEST(Ddmin, StopsEarlyWithTheBestSubsetSoFar) {
  std::size_t calls = 0;
  const auto kept = ddmin(
      1000,
      [&](const std::vector<std::size_t>& c) {
        ++calls;
        return contains(c, 999);
      },
      [&] { return calls >= 3; });
  EXPECT_LE(calls, 3u);
  EXPECT_TRUE(contains(kept, 999));
  EXPECT_LT(kept.size(), 1000u);  // one complement removal happened before the stop
}

}  // namespace
}  // namespace seer::shrink
