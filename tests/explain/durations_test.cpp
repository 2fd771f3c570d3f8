// A number under a field named for a length of time is a duration, not a clock reading: no lease
// expires at it (docs/explain.md, expired_lease).
#include "seer/explain/explain.hpp"
#include "trace_fixture.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace seer::explain::durations_test {
namespace {

bool names_expired_lease(const std::string& text) {
  const auto trace = testing::parse(text);
  const CausalGraph graph(trace);
  const auto x = explain_trace(trace, graph);
  return std::any_of(x.causes.begin(), x.causes.end(),
                     [](const Cause& c) { return c.kind == "expired_lease"; });
}

// traces/delayed_retry.jsonl, written by hand: at 18 ms the notifier enqueues n-2 with a delay
// of 20 ms (delay_ns: 20,000,000), and at 40 ms enqueues it again. Clocks start at zero in a
// simulation, so the delay's number looks like a deadline 2 ms ahead.
TEST(Durations, AQueuedDelayIsNoLeaseDeadline) {
  EXPECT_FALSE(names_expired_lease(testing::hand_written("delayed_retry.jsonl")));
}

// The same number under a name that says it is a point in time is a deadline, and the second
// enqueue, carrying the first one's body, acts after it.
TEST(Durations, TheSameNumberAsAPointInTimeIsADeadline) {
  EXPECT_TRUE(names_expired_lease(testing::replaced(testing::hand_written("delayed_retry.jsonl"),
                                                    "delay_ns", "not_before_ns")));
}

}  // namespace
}  // namespace seer::explain::durations_test
