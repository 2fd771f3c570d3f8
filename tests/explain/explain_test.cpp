// seer explain on each example system's failing regression seed: the top cause names the decision
// taken on a bad view (or the lost knowledge) and the process behind it, with evidence events that
// really are what the cause says. Asserted on the structure, not on the wording.
#include "seer/explain/explain.hpp"
#include "trace_fixture.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

namespace seer::explain {
namespace {

struct Explained {
  Trace trace;
  Explanation x;
};

Explained explain_run(const std::string& system, const std::string& variant, std::uint64_t seed,
                      std::map<std::string, std::string> services = {}) {
  Explained out{testing::recorded(system, variant, seed, std::move(services)), {}};
  const CausalGraph graph(out.trace);
  out.x = explain_trace(out.trace, graph);
  return out;
}

bool service_fact(const TraceEvent& e, const char* field) {
  const auto& o = e.oracle();
  return o.is_object() && o.contains("service") && o["service"].value(field, false);
}

void expect_short_slice(const Explained& r) {
  // The causes' evidence plus the violated entities' latest events on the causal path.
  EXPECT_LE(r.x.slice.size(), 24u);
  EXPECT_TRUE(std::is_sorted(r.x.slice.begin(), r.x.slice.end()));
  ASSERT_FALSE(r.x.slice.empty());
  EXPECT_EQ(r.trace.at(r.x.slice.back()).kind, EventKind::kViolation);
  for (const auto s : r.x.causes.front().events) {
    EXPECT_TRUE(std::binary_search(r.x.slice.begin(), r.x.slice.end(), s)) << s;
  }
}

TEST(Explain, CounterNaiveIsADecisionOnAnOutdatedRead) {
  const auto r = explain_run("counter", "naive", 1);
  ASSERT_FALSE(r.x.causes.empty());
  const auto& top = r.x.causes.front();
  EXPECT_EQ(top.kind, "outdated_read");
  EXPECT_EQ(top.process, "client2");
  EXPECT_TRUE(top.causally_before);
  // Evidence: client2's read reply, the kv's answer, another client's put, then client2's put.
  const auto& read = r.trace.at(top.events[0]);
  EXPECT_EQ(read.kind, EventKind::kDeliver);
  EXPECT_EQ(r.trace.lane_name(read.lane), "client2");
  EXPECT_FALSE(service_fact(read, "stale"));  // fresh when served
  const auto& other = r.trace.at(top.events[2]);
  EXPECT_EQ(r.trace.lane_name(other.peer), "client3");
  const auto decision = top.facts["decision_event"].get<std::uint64_t>();
  EXPECT_EQ(r.trace.lane_name(r.trace.at(decision).peer), "client2");
  EXPECT_LT(other.seq, decision);
  expect_short_slice(r);
}

TEST(Explain, RegisterNaiveIsACrashThatLostAnAcknowledgedWrite) {
  const auto r = explain_run("register", "naive", 7);
  ASSERT_FALSE(r.x.causes.empty());
  const auto& top = r.x.causes.front();
  EXPECT_EQ(top.kind, "crash_lost_data");
  const auto& crash = r.trace.at(top.events[0]);
  EXPECT_EQ(crash.kind, EventKind::kCrash);
  EXPECT_EQ(r.trace.lane_name(crash.lane), top.process);
  EXPECT_FALSE(crash.oracle()["lost_unsynced_writes"].empty());
  // The acknowledgement it sent before the data was durable, for the write the violation names.
  const auto& ack = r.trace.at(top.events[1]);
  EXPECT_EQ(ack.type, "store_ack");
  EXPECT_EQ(ack.line["payload"]["tag"], nlohmann::json::array({22, 1}));
  expect_short_slice(r);
}

TEST(Explain, JobsNaiveIsALostEnqueueResponseThenARetry) {
  const auto r = explain_run("jobs", "naive", 55);
  ASSERT_FALSE(r.x.causes.empty());
  const auto& top = r.x.causes.front();
  EXPECT_EQ(top.kind, "lost_response");
  EXPECT_EQ(top.process, "producer");
  const auto retry = top.facts["retry_event"].get<std::uint64_t>();
  EXPECT_EQ(r.trace.at(retry).line["payload"]["op"], "enqueue");
  EXPECT_EQ(r.trace.at(retry).line["payload"]["body"]["job"], 19);  // the job that ran twice
  // Behind it: the reply that was still on its way to the producer when it gave up.
  ASSERT_FALSE(top.behind.empty());
  const auto& delayed = top.behind.front();
  EXPECT_EQ(delayed.kind, "message_delayed");
  const auto& reply = r.trace.at(delayed.events.front());
  EXPECT_EQ(reply.kind, EventKind::kSend);
  EXPECT_EQ(r.trace.lane_name(reply.peer), "producer");
  expect_short_slice(r);
}

TEST(Explain, SegmentsListThenPutIsAStaleListing) {
  const auto r = explain_run("segments", "list-then-put", 1, {{"object-store", "stale-list"}});
  ASSERT_FALSE(r.x.causes.empty());
  const auto& top = r.x.causes.front();
  EXPECT_EQ(top.kind, "stale_read");
  const auto& listing = r.trace.at(top.events[0]);
  EXPECT_TRUE(service_fact(listing, "stale"));
  EXPECT_EQ(r.trace.lane_name(listing.lane), top.process);
  EXPECT_EQ(top.facts["op"], "list");
  // The decision taken on it: a put to a key the listing omitted.
  const auto decision = top.facts["decision_event"].get<std::uint64_t>();
  const auto& missing = top.facts["missing"];
  const auto request = r.trace.at(decision).line;
  EXPECT_EQ(r.trace.at(decision).kind, EventKind::kSend);
  ASSERT_FALSE(top.behind.empty());
  EXPECT_EQ(top.behind.front().kind, "lagging_replica");
  EXPECT_FALSE(missing.empty());
  expect_short_slice(r);
}

TEST(Explain, BankCheckThenActIsAnOutdatedBalanceCheck) {
  const auto r = explain_run("bank", "check-then-act", 3);
  ASSERT_FALSE(r.x.causes.empty());
  const auto& top = r.x.causes.front();
  EXPECT_EQ(top.kind, "outdated_read");
  EXPECT_TRUE(top.causally_before);
  expect_short_slice(r);
}

// A linearizability violation starts from the operation the checker could not place: on a stale
// KV store it is a read, and the top cause is that read's own stale answer.
TEST(Explain, LinearizabilityViolationStartsAtTheFailingRead) {
  int explained = 0;
  for (std::uint64_t seed = 1; seed <= 20 && explained < 5; ++seed) {
    const auto r = explain_run("kv-contract", "default", seed, {{"kv", "stale"}});
    if (!r.x.violation.is_object()) continue;
    ASSERT_EQ(r.x.violation["invariant"], "linearizable");
    ++explained;
    const auto& op = r.x.failing_op;
    ASSERT_TRUE(op.is_object()) << "seed " << seed;
    const auto invoke = op["invoke_event"].get<std::uint64_t>();
    const auto complete = op["complete_event"].get<std::uint64_t>();
    EXPECT_EQ(r.trace.at(invoke).kind, EventKind::kInvoke);
    EXPECT_EQ(r.trace.lane_name(r.trace.at(invoke).lane), op["process"]);
    ASSERT_EQ(r.x.anchors.size(), 1u);
    EXPECT_EQ(r.x.anchors.front(), complete ? complete : invoke);
    ASSERT_FALSE(r.x.causes.empty());
    const auto& top = r.x.causes.front();
    EXPECT_EQ(top.kind, "stale_read") << "seed " << seed << ": " << top.summary;
    EXPECT_EQ(top.process, op["process"]);
    const auto read = top.events.front();
    EXPECT_GT(read, invoke);
    if (complete) {
      EXPECT_LT(read, complete);
    }
  }
  EXPECT_GE(explained, 3);
}

TEST(Explain, AHeldRunHasNothingToExplain) {
  const auto r = explain_run("counter", "cas", 1);
  EXPECT_TRUE(r.x.violation.is_null());
  EXPECT_TRUE(r.x.causes.empty());
  const auto j = explanation_json(r.x, r.trace);
  EXPECT_TRUE(j["causes"].empty());
}

TEST(Explain, JsonCarriesRanksEventsAndTheSlice) {
  const auto r = explain_run("counter", "naive", 1);
  const auto j = explanation_json(r.x, r.trace);
  EXPECT_EQ(j["system"], "counter");
  EXPECT_EQ(j["seed"], 1);
  ASSERT_FALSE(j["causes"].empty());
  EXPECT_EQ(j["causes"][0]["rank"], 1);
  EXPECT_EQ(j["causes"][0]["kind"], "outdated_read");
  for (const auto& s : j["slice"]) {
    EXPECT_TRUE(s.contains("seq") && s.contains("text") && s.contains("process"));
  }
  const auto text = explanation_text(r.x, r.trace);
  EXPECT_NE(text.find("Most likely cause (outdated_read)"), std::string::npos) << text;
}

// A network copy can overtake its original: the copy is delivered (and acted on) first, the
// original after it. Both deliveries are the cause's evidence, whichever came first.
TEST(Explain, ACopyThatOvertookItsOriginalCitesBothDeliveries) {
  const std::string request =
      R"("peer":"server","message":7,"type":"reserve","payload":{"req":1,"id":"r1"})";
  const std::string text =
      R"({"seer_trace":1,"system":"hand","variant":"v","seed":1,"processes":["client","server"]})"
      "\n"
      R"({"seq":1,"time":0,"process":"client","kind":"start","parents":[],"incarnation":0})"
      "\n"
      R"({"seq":2,"time":0,"process":"server","kind":"start","parents":[],"incarnation":0})"
      "\n"
      R"({"seq":3,"time":10,"process":"client","kind":"send","parents":[1],)" +
      request +
      "}\n"
      R"({"seq":4,"time":11,"process":"sim","kind":"duplicate","parents":[3],)" +
      request +
      "}\n"
      R"({"seq":5,"time":20,"process":"server","kind":"deliver","parents":[2,3],"peer":"client","message":7,"type":"reserve","payload":{"req":1,"id":"r1"},"oracle":{"duplicate":true}})"
      "\n"
      R"({"seq":6,"time":30,"process":"server","kind":"deliver","parents":[5,3],"peer":"client","message":7,"type":"reserve","payload":{"req":1,"id":"r1"}})"
      "\n"
      R"({"seq":7,"time":31,"process":"sim","kind":"violation","parents":[6],"invariant":"once","message":"r1 was recorded 2 times"})"
      "\n"
      R"({"end":true,"events":7,"violation":{"event":7,"invariant":"once","message":"r1 was recorded 2 times","time":31}})"
      "\n";
  const auto trace = testing::parse(text);
  const CausalGraph graph(trace);
  const auto x = explain_trace(trace, graph);
  const auto dup = std::find_if(x.causes.begin(), x.causes.end(),
                                [](const Cause& c) { return c.kind == "duplicate_delivery"; });
  ASSERT_NE(dup, x.causes.end());
  EXPECT_NE(std::find(dup->events.begin(), dup->events.end(), 5u), dup->events.end());
  EXPECT_NE(std::find(dup->events.begin(), dup->events.end(), 6u), dup->events.end())
      << "the original's later delivery is evidence too";
  EXPECT_EQ(dup->facts.value("original_delivery_event", std::uint64_t{0}), 6u);
}

// traces/concurrent_server_lost_reply.jsonl, written by hand: an API server takes two charges at
// once (orders o-A and o-B), writes o-B's then o-A's to the KV store, and the network drops o-A's
// reply; the client charges o-A again. The lost response's write is o-A's (#13), not the first
// write the server made while o-A's request was open (o-B's, #11).
TEST(Explain, AConcurrentServersLostReplyCitesTheWriteThatCarriesItsRequest) {
  std::ifstream in(std::string(SEER_EXPLAIN_TRACES) + "/concurrent_server_lost_reply.jsonl");
  ASSERT_TRUE(in);
  const auto trace = parse_trace(in, "concurrent_server_lost_reply.jsonl");
  const CausalGraph graph(trace);
  const auto x = explain_trace(trace, graph);
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  EXPECT_EQ(top.kind, "lost_response");
  EXPECT_NE(std::find(top.events.begin(), top.events.end(), 13u), top.events.end());
  EXPECT_EQ(std::find(top.events.begin(), top.events.end(), 11u), top.events.end())
      << "o-B's write is not o-A's effect";
}

// traces/accepted_then_reassigned.jsonl, written by hand: a scheduler assigns job j-7 to w1, which
// answers `accepted` and only then runs the job (its KV write, #11); the network drops the
// acceptance, and the scheduler hands the job to w2, which runs it too. The lost response is w1's
// acceptance, its effect the write after it, and the retry the assignment to the other worker.
TEST(Explain, AnAcceptanceLostBeforeTheWorkIsALostResponseRetriedElsewhere) {
  std::ifstream in(std::string(SEER_EXPLAIN_TRACES) + "/accepted_then_reassigned.jsonl");
  ASSERT_TRUE(in);
  const auto trace = parse_trace(in, "accepted_then_reassigned.jsonl");
  const CausalGraph graph(trace);
  const auto x = explain_trace(trace, graph);
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  EXPECT_EQ(top.kind, "lost_response") << top.summary;
  EXPECT_EQ(top.process, "sched");
  for (const std::uint64_t key : {7u, 8u, 11u, 14u}) {
    EXPECT_NE(std::find(top.events.begin(), top.events.end(), key), top.events.end())
        << "#" << key << " missing from " << top.summary;
  }
  EXPECT_EQ(top.facts.value("retry_event", std::uint64_t{0}), 14u);
  EXPECT_NE(top.summary.find("to w2"), std::string::npos) << top.summary;
}

// traces/deposed_primary.jsonl, written by hand: node1 claims `primary` ({node: node1}), is paused
// with a booking in its mailbox, node2 claims `primary` and sells seat-1, and node1 resumes and
// sells seat-1 as the primary it no longer is. The claim carries no deadline (an epoch), so this is
// the takeover half of expired_lease: node1's answer, its claim, node2's takeover and the pause.
TEST(Explain, AHolderActingAfterAnotherClaimedItsPlaceIsDeposed) {
  std::ifstream in(std::string(SEER_EXPLAIN_TRACES) + "/deposed_primary.jsonl");
  ASSERT_TRUE(in);
  const auto trace = parse_trace(in, "deposed_primary.jsonl");
  const CausalGraph graph(trace);
  const auto x = explain_trace(trace, graph);
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  EXPECT_EQ(top.kind, "expired_lease") << top.summary;
  EXPECT_EQ(top.process, "node1");
  for (const std::uint64_t key : {20u, 7u, 13u, 10u}) {
    EXPECT_NE(std::find(top.events.begin(), top.events.end(), key), top.events.end())
        << "#" << key << " missing from " << top.summary;
  }
  EXPECT_EQ(top.facts.value("takeover_event", std::uint64_t{0}), 13u);
  // node2's own sale, under its own claim, is no deposed act.
  for (const auto& cause : x.causes) {
    if (cause.kind == "expired_lease") {
      EXPECT_EQ(cause.process, "node1") << cause.summary;
    }
  }
}

}  // namespace
}  // namespace seer::explain
