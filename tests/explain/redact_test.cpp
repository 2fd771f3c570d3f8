// Redaction keeps what production logs could hold and nothing the simulator alone knew.
#include "seer/explain/redact.hpp"

#include "seer/explain/causal_graph.hpp"
#include "seer/explain/explain.hpp"
#include "trace_fixture.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace seer::explain {
namespace {

// The first promises/validated seed whose swarm profile skews a clock.
Trace skewed_run() {
  for (std::uint64_t seed = 1; seed < 60; ++seed) {
    auto t = testing::recorded("promises", "validated", seed);
    for (const auto& e : t.events) {
      if (e.kind == EventKind::kStart && e.oracle().value("clock_offset_ns", std::int64_t{0}) != 0)
        return t;
    }
  }
  ADD_FAILURE() << "no seed with clock skew";
  return {};
}

TEST(Redact, DropsEveryForbiddenFactAndUnobservableEvent) {
  const auto full = testing::recorded("jobs", "naive", 1);
  const auto r = redact(full);
  ASSERT_LT(r.events.size(), full.events.size());  // the network's drops and duplicates went
  EXPECT_TRUE(r.header.value("redacted", false));
  EXPECT_FALSE(r.header.contains("profile"));
  EXPECT_FALSE(r.footer.contains("trace_hash"));
  for (const auto& e : r.events) {
    EXPECT_FALSE(e.line.contains("oracle")) << e.line.dump();
    EXPECT_TRUE(e.lane != kSimLane || e.kind == EventKind::kViolation) << e.line.dump();
    EXPECT_NE(e.kind, EventKind::kAnnotation);
    EXPECT_NE(e.kind, EventKind::kPause);
  }
}

TEST(Redact, KeepsHappensBeforeBetweenKeptEvents) {
  const auto full = testing::recorded("jobs", "naive", 1);
  const auto r = redact(full);
  // Round trip through the file format: a redacted trace is a valid trace.
  std::stringstream text;
  write_trace(r, text);
  const auto back = parse_trace(text, "redacted.jsonl");
  ASSERT_EQ(back.events.size(), r.events.size());
  // Every delivery of a kept send still has that send as an ancestor.
  const CausalGraph g(back);
  std::map<std::uint64_t, std::uint64_t> send_of;
  for (const auto& e : back.events) {
    if (e.kind == EventKind::kSend) send_of.emplace(e.message, e.seq);
    if (e.kind == EventKind::kDeliver && send_of.count(e.message)) {
      EXPECT_TRUE(g.happens_before(send_of[e.message], e.seq)) << e.line.dump();
    }
  }
  // The violation still points at a kept event of the same run.
  const auto v = back.violation();
  ASSERT_TRUE(v.is_object());
  ASSERT_TRUE(back.has(v.value("event", std::uint64_t{0})));
  EXPECT_EQ(v.value("message", std::string()), full.violation().value("message", std::string()));
}

TEST(Redact, StampsEachEventWithItsProcesssClock) {
  const auto full = skewed_run();
  ASSERT_FALSE(full.events.empty());
  const auto r = redact(full);
  // Pair kept events to their originals by process and per-process order.
  std::map<int, std::vector<const TraceEvent*>> kept_by_lane;
  for (const auto& e : r.events) kept_by_lane[e.lane].push_back(&e);
  std::map<int, std::int64_t> offset;
  bool some_moved = false;
  std::map<int, std::size_t> next;
  for (const auto& e : full.events) {
    if (e.kind == EventKind::kStart)
      offset[e.lane] = e.oracle().value("clock_offset_ns", std::int64_t{0});
    if (e.lane == kSimLane || e.kind == EventKind::kPause || e.kind == EventKind::kResume ||
        e.kind == EventKind::kAnnotation) {
      continue;
    }
    auto& i = next[e.lane];
    ASSERT_LT(i, kept_by_lane[e.lane].size());
    const auto* k = kept_by_lane[e.lane][i++];
    EXPECT_EQ(k->kind, e.kind);
    if (offset[e.lane] != 0 && k->time != e.time) some_moved = true;
  }
  EXPECT_TRUE(some_moved);
}

}  // namespace
}  // namespace seer::explain

namespace seer::explain {
namespace {

// Without the oracle, explain still reads the services' requests and replies as a log would show
// them: the counter's lost update is found from the messages alone.
TEST(Redact, ExplainStillFindsWhatTheMessagesShow) {
  const auto r = redact(testing::recorded("counter", "naive", 1));
  const CausalGraph g(r);
  const auto x = explain_trace(r, g);
  ASSERT_TRUE(x.violation.is_object());
  ASSERT_FALSE(x.causes.empty());
  EXPECT_EQ(x.causes.front().kind, "outdated_read");
  EXPECT_EQ(x.causes.front().process, "client2");
  ASSERT_FALSE(x.stories.empty());
  EXPECT_EQ(x.stories.front().entity == "counter" || x.stories.back().entity == "counter", true);
  // What only the oracle could say is gone: no stale reads, no clocks.
  for (const auto& c : x.causes) {
    EXPECT_NE(c.kind, "stale_read");
    EXPECT_NE(c.kind, "clock_behind");
  }
}

}  // namespace
}  // namespace seer::explain
