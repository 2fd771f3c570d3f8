// Child processes as the live tests and benchmarks use them: their output read by line or whole,
// their exit status, and a child that will not stop is killed and reported hung.
#include "seer/runtime/child_process.hpp"

#include <gtest/gtest.h>

#include <csignal>

namespace seer::runtime {
namespace {

using std::chrono::milliseconds;

TEST(ChildProcess, ItsLinesAndItsExitStatus) {
  ChildProcess child({"/bin/sh", "-c", "echo one; echo two; exit 3"});
  EXPECT_EQ(child.read_line(milliseconds(5000)), "one");
  EXPECT_EQ(child.read_line(milliseconds(5000)), "two");
  EXPECT_EQ(child.read_line(milliseconds(5000)), std::nullopt);  // the end of its output
  EXPECT_EQ(child.stop(0), 3);
  EXPECT_FALSE(child.running());
}

TEST(ChildProcess, StandardErrorToo) {
  ChildProcess child({"/bin/sh", "-c", "echo out; echo err >&2"}, true);
  EXPECT_EQ(child.read_all(), "out\nerr\n");
  EXPECT_EQ(child.stop(0), 0);
}

TEST(ChildProcess, ASignalEndsItAndOneThatIsIgnoredIsAHang) {
  ChildProcess sleeper({"/bin/sleep", "30"});
  EXPECT_EQ(sleeper.read_line(milliseconds(50)), std::nullopt);  // nothing written: a timeout
  EXPECT_EQ(sleeper.stop(SIGTERM), 128 + SIGTERM);
  ChildProcess stubborn({"/bin/sh", "-c", "trap '' TERM; echo ready; exec sleep 30"});
  ASSERT_EQ(stubborn.read_line(milliseconds(5000)), "ready");
  EXPECT_EQ(stubborn.stop(SIGTERM, milliseconds(200)), ChildProcess::kHung);
  EXPECT_FALSE(stubborn.running());
}

TEST(ChildProcess, AProgramThatDoesNotExistIsAnError) {
  EXPECT_THROW(ChildProcess({"/nonexistent/program"}), std::runtime_error);
}

}  // namespace
}  // namespace seer::runtime
