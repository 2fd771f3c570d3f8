// seer query's filters, each checked against the trace itself.
#include "seer/explain/query.hpp"
#include "trace_fixture.hpp"

#include <gtest/gtest.h>

namespace seer::explain {
namespace {

TEST(Query, FiltersByProcessKindKeyAndTime) {
  const auto t = testing::recorded("counter", "naive", 1);
  const CausalGraph g(t);
  TraceQuery q;
  q.processes = {"client2"};
  q.kinds = {"send", "deliver"};
  const auto found = run_query(t, g, q);
  ASSERT_FALSE(found.empty());
  for (const auto s : found) {
    EXPECT_EQ(t.lane_name(t.at(s).lane), "client2");
    EXPECT_TRUE(t.at(s).kind == EventKind::kSend || t.at(s).kind == EventKind::kDeliver);
  }
  TraceQuery by_key;
  by_key.key = "counter";
  EXPECT_FALSE(run_query(t, g, by_key).empty());
  by_key.key = "no-such-key";
  EXPECT_TRUE(run_query(t, g, by_key).empty());
  TraceQuery window;
  window.from = 5'000'000;
  window.to = 8'000'000;
  for (const auto s : run_query(t, g, window)) {
    EXPECT_GE(t.at(s).time, 5'000'000);
    EXPECT_LE(t.at(s).time, 8'000'000);
  }
  TraceQuery limited;
  limited.limit = 3;
  EXPECT_EQ(run_query(t, g, limited).size(), 3u);
  TraceQuery unknown;
  unknown.processes = {"nobody"};
  EXPECT_THROW(run_query(t, g, unknown), TraceError);
}

TEST(Query, StaleReadsAndMessagesInFlight) {
  const auto t = testing::recorded("kv-contract", "default", 3, {{"kv", "stale"}});
  const CausalGraph g(t);
  TraceQuery stale;
  stale.stale = true;
  const auto found = run_query(t, g, stale);
  ASSERT_FALSE(found.empty());
  for (const auto s : found) EXPECT_TRUE(t.at(s).oracle()["service"]["stale"].get<bool>());
  // In flight at t: sent at or before t, not delivered or dropped by t.
  const auto at = t.at(t.events.size() / 2).time;
  TraceQuery flight;
  flight.in_flight_at = at;
  for (const auto s : run_query(t, g, flight)) {
    const auto& send = t.at(s);
    EXPECT_EQ(send.kind, EventKind::kSend);
    EXPECT_LE(send.time, at);
    for (const auto& e : t.events) {
      if ((e.kind == EventKind::kDeliver || e.kind == EventKind::kDrop) &&
          e.message == send.message) {
        EXPECT_GT(e.time, at) << "message " << send.message << " had arrived";
        break;
      }
    }
  }
}

TEST(Query, CausalPastAndWhatAProcessKnew) {
  const auto t = testing::recorded("counter", "naive", 1);
  const CausalGraph g(t);
  const std::uint64_t last = t.events.size() - 1;
  TraceQuery before;
  before.before = last;
  const auto past = run_query(t, g, before);
  ASSERT_FALSE(past.empty());
  for (const auto s : past) EXPECT_TRUE(g.happens_before(s, last));
  TraceQuery after;
  after.after = 1;
  for (const auto s : run_query(t, g, after)) EXPECT_TRUE(g.happens_before(1, s));
  // What client3 knew at the violation: nothing of client2's put request, which it never heard of.
  TraceQuery knows;
  knows.knows = "client3";
  knows.at = last;
  const auto known = run_query(t, g, knows);
  ASSERT_FALSE(known.empty());
  for (const auto s : known) {
    EXPECT_TRUE(t.lane_name(t.at(s).lane) == "client3" || g.happens_before(s, known.back()));
  }
  TraceQuery bad;
  bad.before = 99999;
  EXPECT_THROW(run_query(t, g, bad), TraceError);
}

TEST(Query, ParsesDurations) {
  EXPECT_EQ(parse_duration("150ms"), 150'000'000);
  EXPECT_EQ(parse_duration("2s"), 2'000'000'000);
  EXPECT_EQ(parse_duration("900us"), 900'000);
  EXPECT_EQ(parse_duration("1200"), 1200);
  EXPECT_THROW(parse_duration("5 parsecs"), std::invalid_argument);
  EXPECT_THROW(parse_duration("abc"), std::invalid_argument);
}

}  // namespace
}  // namespace seer::explain

namespace seer::explain {
namespace {

Trace tiny(const std::string& events) {
  return testing::parse(R"J({"seer_trace":1,"processes":["janitor","store","writer"]})J"
                        "\n" +
                        events + R"J({"end":true,"events":4})J" + "\n");
}

// An entity is found wherever the data names it: as a path component of a key, in a request's
// parameters, and in the reply to a request that named it, which carries only a request number.
TEST(Query, KeyFindsTheEntityInPathsParametersAndReplies) {
  const auto t = tiny(
      R"J({"seq":1,"time":10,"process":"janitor","kind":"send","parents":[],"peer":"store","message":1,"type":"req","payload":{"req":7,"op":"delete","name":"files/obj-3"}})J"
      "\n"
      R"J({"seq":2,"time":20,"process":"store","kind":"deliver","parents":[1],"peer":"janitor","message":1,"type":"req","payload":{"req":7,"op":"delete","name":"files/obj-3"}})J"
      "\n"
      R"J({"seq":3,"time":30,"process":"store","kind":"send","parents":[2],"peer":"janitor","message":2,"type":"reply","payload":{"req":7,"ok":true}})J"
      "\n"
      R"J({"seq":4,"time":40,"process":"writer","kind":"send","parents":[],"peer":"store","message":3,"type":"sql","payload":{"req":1,"statements":[{"sql":"INSERT INTO refs VALUES (?1)","params":["obj-30"]}]}})J"
      "\n");
  const CausalGraph g(t);
  TraceQuery q;
  q.key = "obj-3";
  EXPECT_EQ(run_query(t, g, q), (std::vector<std::uint64_t>{1, 2, 3}));
  q.from = 25;  // the reply after the time bound is still found
  EXPECT_EQ(run_query(t, g, q), (std::vector<std::uint64_t>{3}));
  q.from.reset();
  q.key = "obj-30";  // in SQL parameters; "obj-3" did not match it
  EXPECT_EQ(run_query(t, g, q), (std::vector<std::uint64_t>{4}));
  q.key = "files";  // a prefix of a path
  EXPECT_EQ(run_query(t, g, q), (std::vector<std::uint64_t>{1, 2, 3}));
  q.key = "7";  // a request number is not data
  EXPECT_TRUE(run_query(t, g, q).empty());
}

}  // namespace
}  // namespace seer::explain
