// A decision on a peer's state copied by message (a gossiped count, the object named only as a
// key of a map), after the peer had answered the same kind of request about the same object
// itself (outdated_read, `how: peer_copy`).
#include "explain_fixture.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace seer::explain {
namespace {

// traces/gossiped_count.jsonl: east sends west its counts unasked ({"taken": {"acct-7": 3}}, #5,
// delivered #6), then grants c1 a unit of acct-7 (#9). West grants c2 one too (#12), counting
// east's copy, which did not hold #9 (concurrent with it).
TEST(OwnPeerCopy, AnAnswerOnAPeersOutdatedCopyIsAnOutdatedRead) {
  const auto x = testing::explained(testing::hand_written("gossiped_count.jsonl"));
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  EXPECT_EQ(top.kind, "outdated_read") << top.summary;
  EXPECT_EQ(top.process, "west");
  EXPECT_EQ(top.facts.value("how", std::string()), "peer_copy") << top.summary;
  for (const std::uint64_t seq : {6u, 9u, 12u}) {
    EXPECT_TRUE(testing::holds(top.events, seq)) << seq << ": " << top.summary;
  }
}

// West's answer is about another account: east's grant changed nothing it decided on.
TEST(OwnPeerCopy, AnAnswerAboutAnotherObjectIsNoCause) {
  const auto x = testing::explained(testing::replaced(testing::hand_written("gossiped_count.jsonl"),
                                                      R"("ok": true, "acct": "acct-7")",
                                                      R"("ok": true, "acct": "acct-9")"));
  const auto* c = testing::cause_told(x, "peer_copy");
  EXPECT_EQ(c, nullptr) << c->summary;
}

// West asked for the counts (the copy answers a request): a read of the peer, which its own
// request-and-answer rules judge, not a copy pushed unasked.
TEST(OwnPeerCopy, ACopyThatAnswersARequestIsNotAPushedCopy) {
  const auto x = testing::explained(testing::replaced(testing::hand_written("gossiped_count.jsonl"),
                                                      R"("payload": {"from": "east")",
                                                      R"("payload": {"req": 4, "from": "east")"));
  const auto* c = testing::cause_told(x, "peer_copy");
  EXPECT_EQ(c, nullptr) << c->summary;
}

}  // namespace
}  // namespace seer::explain
