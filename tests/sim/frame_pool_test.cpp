// Task frames from the thread's free lists (frame_pool.hpp): a frame's block is reused by the next
// frame of its size class, and coroutines work the same on reused blocks.
#include "seer/sim/frame_pool.hpp"
#include "seer/sim/task.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace seer::sim::frame_pool_test {
namespace {

using detail::FramePool;

#if !defined(SEER_FRAME_POOL_OFF)
TEST(FramePool, AFreedBlockServesTheNextFrameOfItsSizeClass) {
  void* a = FramePool::allocate(100);
  FramePool::deallocate(a, 100);
  void* b = FramePool::allocate(120);  // 65..128 bytes: the same class
  EXPECT_EQ(a, b);
  void* c = FramePool::allocate(120);  // the list is empty again: a new block
  EXPECT_NE(b, c);
  FramePool::deallocate(b, 120);
  FramePool::deallocate(c, 120);
}

TEST(FramePool, OtherClassesAndLargeFramesAreNotMixedUp) {
  void* small = FramePool::allocate(64);
  FramePool::deallocate(small, 64);
  void* other = FramePool::allocate(65);  // the next class
  EXPECT_NE(small, other);
  void* large = FramePool::allocate(FramePool::kGranule * FramePool::kClasses + 1);
  FramePool::deallocate(large, FramePool::kGranule * FramePool::kClasses + 1);
  FramePool::deallocate(other, 65);
}
#endif

Task<int> leaf(int i) {
  co_return i * 2;
}

Task<int> sum(int n) {
  int total = 0;
  for (int i = 0; i < n; ++i) total += co_await leaf(i);
  co_return total;
}

TEST(FramePool, CoroutinesOnReusedFramesComputeTheSame) {
  for (int round = 0; round < 3; ++round) {
    std::vector<Task<int>> tasks;
    for (int n = 0; n < 50; ++n) tasks.push_back(sum(n));
    for (int n = 0; n < 50; ++n) {
      auto h = tasks[n].handle();
      h.resume();  // runs to completion: every await is of a task that completes synchronously
      ASSERT_TRUE(h.done());
      EXPECT_EQ(h.promise().take(), n * (n - 1));
    }
  }
}

}  // namespace
}  // namespace seer::sim::frame_pool_test
