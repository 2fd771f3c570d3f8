// A write acknowledged before its copy was passed on, whose copy then arrived at a crashed peer
// and was dropped: the acknowledgement, sent before the request that a crash lost, is where the
// design acted (docs/explain.md, crash_lost_data, how `dropped_while_down`).
#include "explain_fixture.hpp"

#include <gtest/gtest.h>

#include <string>

namespace seer::explain::acknowledged_before_shipping_test {
namespace {

using testing::explained;
using testing::hand_written;
using testing::holds;
using testing::parse;

const Cause* lost_request(const Explanation& x) {
  for (const auto& c : x.causes) {
    if (c.kind == "crash_lost_data" &&
        c.facts.value("how", std::string()) == "dropped_while_down") {
      return &c;
    }
  }
  return nullptr;
}

// traces/acknowledged_before_shipping.jsonl, written by hand: primary stores writer's order o-1
// (#5, #6) and acknowledges it at once (#7); backup crashes (#9); primary ships o-1 (#10), which
// is dropped at the down backup (#11); primary gives up waiting (#12). The acknowledgement came
// before the copy was made.
TEST(ExplainAcknowledgedBeforeShipping, TheAcknowledgementBeforeTheLostCopyIsWhereItActed) {
  const auto x = explained(parse(hand_written("acknowledged_before_shipping.jsonl")));
  const auto* cause = lost_request(x);
  ASSERT_NE(cause, nullptr);
  EXPECT_EQ(cause->facts.value("acknowledgement_event", 0), 7) << cause->summary;
  EXPECT_EQ(cause->facts.value("request_event", 0), 10) << cause->summary;
  for (const std::uint64_t e : {7u, 9u, 10u, 11u}) EXPECT_TRUE(holds(cause->events, e)) << e;
}

// traces/acknowledged_after_giving_up.jsonl: primary ships first and acknowledges only after
// giving up on the backup (#11): that later acknowledgement is the one named, as before.
TEST(ExplainAcknowledgedBeforeShipping, AnAcknowledgementAfterTheGiveUpIsStillTheOneNamed) {
  const auto x = explained(parse(hand_written("acknowledged_after_giving_up.jsonl")));
  const auto* cause = lost_request(x);
  ASSERT_NE(cause, nullptr);
  EXPECT_EQ(cause->facts.value("acknowledgement_event", 0), 11) << cause->summary;
}

}  // namespace
}  // namespace seer::explain::acknowledged_before_shipping_test
