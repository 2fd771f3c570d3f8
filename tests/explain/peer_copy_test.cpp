// A decision on a peer's state copied by message (a gossiped count, the object named only as a
// key of a map), after the peer had answered the same kind of request about the same object
// itself (outdated_read, `how: peer_copy`).
#include "seer/explain/explain.hpp"
#include "trace_fixture.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace seer::explain {
namespace {

Explanation explain_peer_copy(const std::string& text) {
  const auto trace = testing::parse(text);
  const CausalGraph graph(trace);
  return explain_trace(trace, graph);
}

const Cause* peer_copy_cause(const Explanation& x) {
  const auto found = std::find_if(x.causes.begin(), x.causes.end(), [](const Cause& c) {
    return c.facts.is_object() && c.facts.value("how", std::string()) == "peer_copy";
  });
  return found == x.causes.end() ? nullptr : &*found;
}

std::string peer_copy_text(std::string text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// traces/gossiped_count.jsonl: east sends west its counts unasked ({"taken": {"acct-7": 3}}, #5,
// delivered #6), then grants c1 a unit of acct-7 (#9). West grants c2 one too (#12), counting
// east's copy, which did not hold #9 (concurrent with it).
TEST(OwnPeerCopy, AnAnswerOnAPeersOutdatedCopyIsAnOutdatedRead) {
  const auto x = explain_peer_copy(testing::hand_written("gossiped_count.jsonl"));
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  EXPECT_EQ(top.kind, "outdated_read") << top.summary;
  EXPECT_EQ(top.process, "west");
  EXPECT_EQ(top.facts.value("how", std::string()), "peer_copy") << top.summary;
  for (const std::uint64_t seq : {6u, 9u, 12u}) {
    EXPECT_TRUE(std::find(top.events.begin(), top.events.end(), seq) != top.events.end())
        << seq << ": " << top.summary;
  }
}

// West's answer is about another account: east's grant changed nothing it decided on.
TEST(OwnPeerCopy, AnAnswerAboutAnotherObjectIsNoCause) {
  const auto x = explain_peer_copy(peer_copy_text(testing::hand_written("gossiped_count.jsonl"),
                                                  R"("ok": true, "acct": "acct-7")",
                                                  R"("ok": true, "acct": "acct-9")"));
  const auto* c = peer_copy_cause(x);
  EXPECT_EQ(c, nullptr) << c->summary;
}

// West asked for the counts (the copy answers a request): a read of the peer, which its own
// request-and-answer rules judge, not a copy pushed unasked.
TEST(OwnPeerCopy, ACopyThatAnswersARequestIsNotAPushedCopy) {
  const auto x = explain_peer_copy(peer_copy_text(testing::hand_written("gossiped_count.jsonl"),
                                                  R"("payload": {"from": "east")",
                                                  R"("payload": {"req": 4, "from": "east")"));
  const auto* c = peer_copy_cause(x);
  EXPECT_EQ(c, nullptr) << c->summary;
}

}  // namespace
}  // namespace seer::explain
