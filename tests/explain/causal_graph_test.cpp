// Happens-before from the trace's parent links, checked against what must hold in any run.
#include "seer/explain/causal_graph.hpp"
#include "trace_fixture.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace seer::explain {
namespace {

TEST(CausalGraph, OrdersProgramOrderAndMessagesAndNothingElse) {
  const auto t = testing::recorded("register", "naive", 7);
  const CausalGraph g(t);
  std::map<std::uint64_t, std::uint64_t> send_of;
  std::map<int, std::uint64_t> last_on_lane;
  int concurrent_pairs = 0;
  for (const auto& e : t.events) {
    if (e.kind == EventKind::kSend) send_of[e.message] = e.seq;
    if (e.kind == EventKind::kDeliver) {
      ASSERT_TRUE(send_of.count(e.message));
      EXPECT_TRUE(g.happens_before(send_of[e.message], e.seq)) << e.seq;
      EXPECT_FALSE(g.happens_before(e.seq, send_of[e.message]));
    }
    if (e.lane >= 0) {
      if (last_on_lane.count(e.lane)) {
        EXPECT_TRUE(g.happens_before(last_on_lane[e.lane], e.seq)) << e.seq;
      }
      last_on_lane[e.lane] = e.seq;
    }
    for (const auto p : e.parents) EXPECT_TRUE(g.happens_before(p, e.seq));
    // Two processes' first events after start are concurrent until a message links them.
    if (e.seq > 1 && g.concurrent(e.seq - 1, e.seq)) ++concurrent_pairs;
  }
  EXPECT_GT(concurrent_pairs, 0);
  // Vector clocks grow along every parent link.
  for (const auto& e : t.events) {
    for (const auto p : e.parents) {
      const auto& a = g.clock(p);
      const auto& b = g.clock(e.seq);
      for (std::size_t i = 0; i < a.size(); ++i) EXPECT_LE(a[i], b[i]);
    }
  }
}

TEST(CausalGraph, PastIsClosedUnderParents) {
  const auto t = testing::recorded("counter", "naive", 1);
  const CausalGraph g(t);
  const auto last = t.events.size() - 1;  // the event before the violation
  const auto past = g.past({last});
  const std::set<std::uint64_t> in(past.begin(), past.end());
  ASSERT_TRUE(in.count(last));
  for (const auto s : past) {
    for (const auto p : t.at(s).parents) EXPECT_TRUE(in.count(p)) << p << " parent of " << s;
    if (s != last) {
      EXPECT_TRUE(g.happens_before(s, last)) << s;
    }
  }
  // Everything outside the past is not before it.
  for (std::uint64_t s = 1; s < last; ++s) {
    if (!in.count(s)) {
      EXPECT_FALSE(g.happens_before(s, last)) << s;
    }
  }
}

}  // namespace
}  // namespace seer::explain
