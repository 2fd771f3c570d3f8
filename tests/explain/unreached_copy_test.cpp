// A check answered by one copy before a write reached it, while other copies had stored and
// acknowledged that write before the check was asked, and the asker answered on it
// (docs/explain.md, stale_read, how `unreached_copy`).
#include "explain_fixture.hpp"

#include <gtest/gtest.h>

#include <string>

namespace seer::explain::unreached_copy_test {
namespace {

using testing::explained;
using testing::hand_written;
using testing::holds;
using testing::parse;

const Cause* unreached_copy(const Explanation& x) {
  for (const auto& c : x.causes) {
    if (c.kind == "stale_read" && c.facts.value("how", std::string()) == "unreached_copy") {
      return &c;
    }
  }
  return nullptr;
}

// traces/unreached_copy.jsonl, written by hand: client sends put x-1 to a, b and c (#6-#8); a and
// b store it and acknowledge (#11, #14), both delivered (#15, #16); then client's use goes to
// front (#17), which checks at c (#19); the put to c is still in flight, c reads set/x-1 absent
// (#21) and answers (#22); front takes it in (#23) and allows the use (#24).
TEST(ExplainUnreachedCopy, AnAnswerFromACopyTheAcknowledgedWriteHadNotReached) {
  const auto x = explained(parse(hand_written("unreached_copy.jsonl")));
  ASSERT_FALSE(x.causes.empty());
  const auto* cause = unreached_copy(x);
  ASSERT_NE(cause, nullptr);
  EXPECT_EQ(&x.causes.front(), cause) << x.causes.front().summary;
  EXPECT_EQ(cause->process, "front");
  EXPECT_EQ(cause->facts.value("read_event", 0), 21) << cause->summary;
  EXPECT_EQ(cause->facts.value("decision_event", 0), 24) << cause->summary;
  for (const std::uint64_t e : {11u, 14u, 22u, 23u, 24u}) EXPECT_TRUE(holds(cause->events, e)) << e;
}

// traces/unreached_copy_concurrent.jsonl: the same, but the check was asked (#17) before client
// was told the put was done (#18, #19): the read was concurrent with the write, not stale.
TEST(ExplainUnreachedCopy, ACheckAskedBeforeTheAcknowledgementIsNotNamed) {
  const auto x = explained(parse(hand_written("unreached_copy_concurrent.jsonl")));
  EXPECT_EQ(unreached_copy(x), nullptr);
}

}  // namespace
}  // namespace seer::explain::unreached_copy_test
