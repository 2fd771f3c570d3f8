// What would have prevented a cause (docs/explain.md, "What would have prevented it"): where the
// design acted, in the code of the process that decided, what it acted on, and the kind's fixes.
#include "explain_fixture.hpp"

#include <gtest/gtest.h>

#include <string>

namespace seer::explain::remedies_test {
namespace {

using testing::explained;
using testing::hand_written;
using testing::parse;

struct Explained {
  Trace trace;
  Explanation x;
};

Explained explain_file(const std::string& name) {
  auto trace = parse(hand_written(name));
  auto x = explained(trace);
  return {std::move(trace), std::move(x)};
}

nlohmann::json top_remedy(const Explained& r) {
  const auto j = explanation_json(r.x, r.trace);
  EXPECT_FALSE(j["causes"].empty());
  return j["causes"].empty() ? nlohmann::json() : j["causes"][0].value("remedy", nlohmann::json());
}

bool any_option_says(const nlohmann::json& remedy, const std::string& words) {
  for (const auto& option : remedy.value("options", nlohmann::json::array())) {
    if (option.get<std::string>().find(words) != std::string::npos) return true;
  }
  return false;
}

// traces/verdict_after_give_up.jsonl: the voter gives up on its request (#11) and writes its
// verdict (#12), which the KV store applies (#14). The decision is the voter's request, in the
// voter's code, not the store's reply.
TEST(ExplainRemedies, ADecisionAppliedByAServiceIsTheRequestThatAskedForIt) {
  const auto r = explain_file("verdict_after_give_up.jsonl");
  ASSERT_FALSE(r.x.causes.empty());
  ASSERT_EQ(r.x.causes.front().kind, "lost_response");
  const auto remedy = top_remedy(r);
  ASSERT_TRUE(remedy.is_object());
  EXPECT_EQ(remedy["decision"].value("seq", 0), 12) << remedy.dump();
  EXPECT_NE(remedy["decision"].value("text", std::string()).find("voter send kv_request"),
            std::string::npos)
      << remedy.dump();
  EXPECT_EQ(remedy["took_effect"].value("seq", 0), 14) << remedy.dump();
  EXPECT_EQ(remedy["relied_on"].value("seq", 0), 11) << remedy.dump();
  EXPECT_EQ(remedy["relied_on"].value("as", std::string()), "after giving up at");
  EXPECT_TRUE(any_option_says(remedy, "id")) << remedy.dump();
}

// traces/stale_route.jsonl: the router acted on a stale reply (#17), and the cause names no action
// of its own: where it acted is the router's next action after the read, its mail to shardA (#18),
// which took effect when shardA answered it (#21).
TEST(ExplainRemedies, AStaleReplyIsActedOnByTheReadersNextAction) {
  const auto r = explain_file("stale_route.jsonl");
  ASSERT_FALSE(r.x.causes.empty());
  ASSERT_EQ(r.x.causes.front().kind, "stale_read");
  ASSERT_FALSE(r.x.causes.front().facts.contains("decision_event"));
  const auto remedy = top_remedy(r);
  ASSERT_TRUE(remedy.is_object());
  EXPECT_EQ(remedy["relied_on"].value("seq", 0), 17) << remedy.dump();
  EXPECT_EQ(remedy["relied_on"].value("as", std::string()), "acting on");
  EXPECT_EQ(remedy["decision"].value("seq", 0), 18) << remedy.dump();
  EXPECT_EQ(remedy["took_effect"].value("seq", 0), 21) << remedy.dump();
  EXPECT_TRUE(any_option_says(remedy, "authoritative copy")) << remedy.dump();
}

// traces/republish_after_crash.jsonl: a side effect repeated after a crash: the relay enqueues
// o-1 again (#18). Its fix is the outbox, not acknowledging after a sync.
TEST(ExplainRemedies, ARepeatAfterACrashGetsTheOutboxNotTheSync) {
  const auto r = explain_file("republish_after_crash.jsonl");
  ASSERT_FALSE(r.x.causes.empty());
  ASSERT_EQ(r.x.causes.front().kind, "crash_lost_data");
  const auto remedy = top_remedy(r);
  ASSERT_TRUE(remedy.is_object());
  EXPECT_EQ(remedy["decision"].value("seq", 0), 18) << remedy.dump();
  EXPECT_TRUE(any_option_says(remedy, "outbox")) << remedy.dump();
  EXPECT_FALSE(any_option_says(remedy, "durable (synced")) << remedy.dump();
}

// traces/answer_taken_for_next.jsonl: the shop gave up on its request (#6) and took the late
// answer for its next request's. The fix is matching answers to requests, not an idempotent server.
TEST(ExplainRemedies, AnAnswerTakenForTheNextRequestsIsFixedByMatchingAnswersToRequests) {
  const auto r = explain_file("answer_taken_for_next.jsonl");
  ASSERT_FALSE(r.x.causes.empty());
  ASSERT_EQ(r.x.causes.front().facts.value("how", std::string()), "answer_taken_for_next");
  const auto remedy = top_remedy(r);
  EXPECT_TRUE(any_option_says(remedy, "carry the request's id in the answer")) << remedy.dump();
  EXPECT_FALSE(any_option_says(remedy, "idempotent retries")) << remedy.dump();
  EXPECT_EQ(remedy["relied_on"].value("seq", 0), 6) << remedy.dump();
}

// register/naive seed 7: replica3 acknowledged writes it had not synced, then crashed. The
// decision is the acknowledgement of the write the violation names (tag [22,1]), and what it
// acknowledged is replica3's storage write just before it.
TEST(ExplainRemedies, ACrashLossIsActedOnByTheAcknowledgementOfTheViolatedWrite) {
  auto trace = testing::recorded("register", "naive", 7);
  const auto x = explained(trace);
  ASSERT_FALSE(x.causes.empty());
  ASSERT_EQ(x.causes.front().kind, "crash_lost_data");
  const auto remedy = explanation_json(x, trace)["causes"][0].value("remedy", nlohmann::json());
  ASSERT_TRUE(remedy.contains("decision")) << remedy.dump();
  const auto& ack = trace.at(remedy["decision"].value("seq", std::uint64_t{0}));
  EXPECT_EQ(ack.type, "store_ack");
  EXPECT_EQ(ack.line["payload"]["tag"], nlohmann::json::array({22, 1}));
  const auto& write = trace.at(remedy["relied_on"].value("seq", std::uint64_t{0}));
  EXPECT_EQ(write.kind, EventKind::kStorageWrite);
  EXPECT_EQ(write.lane, ack.lane);
  EXPECT_LT(write.seq, ack.seq);
  EXPECT_EQ(remedy["relied_on"].value("as", std::string()), "acknowledging the write at");
}

// traces/cached_switch.jsonl: the app changed a row (#12) on a read (#7) another write had
// overtaken. The text says where and on what, then the fixes for an outdated read.
TEST(ExplainRemedies, TheTextSaysWhereTheDesignActedAndWhatPreventsIt) {
  const auto r = explain_file("cached_switch.jsonl");
  ASSERT_FALSE(r.x.causes.empty());
  ASSERT_EQ(r.x.causes.front().kind, "outdated_read");
  const auto text = explanation_text(r.x, r.trace);
  const auto at = text.find("What would have prevented it:\n  where it acted: #12 ");
  ASSERT_NE(at, std::string::npos) << text;
  EXPECT_NE(text.find("  acting on: #7 ", at), std::string::npos) << text;
  EXPECT_NE(text.find("  - make the decision's write conditional on what it read", at),
            std::string::npos)
      << text;
  EXPECT_LT(at, text.find("Minimal event sequence")) << text;
}

// traces/cached_switch_reread.jsonl: the same design re-reads before it changes the row: no cause,
// so nothing to prevent.
TEST(ExplainRemedies, NoCauseNoRemedy) {
  const auto r = explain_file("cached_switch_reread.jsonl");
  ASSERT_TRUE(r.x.causes.empty());
  const auto text = explanation_text(r.x, r.trace);
  EXPECT_EQ(text.find("What would have prevented it"), std::string::npos) << text;
}

// Every cause kind explain names first gets a remedy; the faults listed behind a cause do not.
TEST(ExplainRemedies, FaultsBehindACauseGetNone) {
  const auto r = explain_file("stale_route.jsonl");
  const auto j = explanation_json(r.x, r.trace);
  ASSERT_FALSE(j["causes"].empty());
  for (const auto& c : j["causes"]) {
    EXPECT_TRUE(c.contains("remedy")) << c.dump();
    ASSERT_FALSE(c["behind"].empty()) << c.dump();
    for (const auto& b : c["behind"]) EXPECT_FALSE(b.contains("remedy")) << b.dump();
  }
}

}  // namespace
}  // namespace seer::explain::remedies_test
