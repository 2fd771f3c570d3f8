// Unit and property tests of the promises model against systems/promises/spec.md.
#include "sweep_scale.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "promises/model/invariants.hpp"
#include "promises/model/model.hpp"
#include "promises/model/parse.hpp"
#include "promises/model/state_codec.hpp"
#include "random_requests.hpp"

namespace {

using namespace seer::promises::testing;  // NOLINT(google-build-using-namespace)
using json = nlohmann::json;
using seer::promises::PromiseState;
using seer::promises::State;
using seer::promises::Step;
using seer::promises::TaskState;
using seer::promises::TimeoutKind;

// ---- a fixture that checks the state invariants (spec §9.1) after every step ----

class PromisesModel : public ::testing::Test {
 protected:
  Step step(const json& r, std::int64_t now) {
    Step s = seer::promises::apply(state, r, now);
    const std::vector<std::string> broken = seer::promises::check_invariants(state);
    EXPECT_TRUE(broken.empty()) << broken.front() << " after " << r.dump();
    return s;
  }
  static int status(const Step& s) { return s.response["head"]["status"].get<int>(); }
  static const json& promise(const Step& s) { return s.response["data"]["promise"]; }

  State state;
};

// ---- promises (spec §5.1) ----

TEST_F(PromisesModel, ResponseEchoesKindCorrIdAndVersion) {
  json r = by_id("promise.get", "x");
  r["head"]["corrId"] = "abc";
  r["head"]["version"] = "2026-04-01";
  const Step s = step(r, 0);
  EXPECT_EQ(s.response, json::parse(R"({"kind":"promise.get","head":{"corrId":"abc","status":404,
      "version":"2026-04-01"},"data":"Promise not found"})"));
}

TEST_F(PromisesModel, CreateIsIdempotentById) {
  const Step first =
      step(create("a", 100, tags_of({{"k", "1"}}), json::parse(R"({"data":"x"})")), 10);
  ASSERT_EQ(status(first), 200);
  EXPECT_EQ(promise(first), json::parse(R"({"id":"a","state":"pending","param":{"data":"x"},
      "value":{},"tags":{"k":"1"},"timeoutAt":100,"createdAt":10})"));
  const State before = state;
  const Step again =
      step(create("a", 500, tags_of({{"k", "2"}}), json::parse(R"({"data":"y"})")), 20);
  EXPECT_EQ(status(again), 200);
  EXPECT_EQ(promise(again), promise(first)) << "PC1: the repeated request's fields are ignored";
  EXPECT_EQ(state, before);
  EXPECT_TRUE(again.messages.empty());
}

TEST_F(PromisesModel, BornExpiredPromiseIsCreatedTimedOut) {
  const Step plain = step(create("a", 100), 100);
  EXPECT_EQ(promise(plain)["state"], "rejected_timedout");
  EXPECT_EQ(promise(plain)["createdAt"], 100);
  EXPECT_EQ(promise(plain)["settledAt"], 100);
  const Step timer = step(create("t", 50, tags_of({{"resonate:timer", "true"}})), 100);
  EXPECT_EQ(promise(timer)["state"], "resolved") << "timer promises resolve on timeout";
  const Step targeted = step(create("g", 50, tags_of({{"resonate:target", "T"}})), 100);
  EXPECT_TRUE(targeted.messages.empty());
  EXPECT_EQ(state.tasks.at("g").state, TaskState::fulfilled);
  EXPECT_EQ(state.tasks.at("g").version, 0);
}

TEST_F(PromisesModel, TargetedCreateDispatchesOrDefers) {
  const Step now = step(create("a", 1000, tags_of({{"resonate:target", "T"}})), 10);
  ASSERT_EQ(now.messages.size(), 1u);
  EXPECT_EQ(now.messages[0], execute("T", "a", 0));
  EXPECT_EQ(state.tasks.at("a").state, TaskState::pending);
  EXPECT_EQ(state.task_timeouts.find("a")->at, 10 + seer::promises::kRetry);

  const Step later =
      step(create("d", 1000, tags_of({{"resonate:target", "T"}, {"resonate:delay", "500"}})), 10);
  EXPECT_TRUE(later.messages.empty()) << "PC4: deferred first dispatch";
  EXPECT_EQ(state.task_timeouts.find("d")->at, 500);
  EXPECT_TRUE(step(tick(499), 499).messages.empty());
  EXPECT_EQ(step(tick(500), 500).messages, std::vector<json>{execute("T", "d", 0)});
}

TEST_F(PromisesModel, SettleOnceFirstSettleWins) {
  step(create("a", 1000), 0);
  const Step first = step(settle("a", "resolved", "one"), 10);
  EXPECT_EQ(promise(first)["state"], "resolved");
  EXPECT_EQ(promise(first)["value"], json::parse(R"({"data":"one"})"));
  EXPECT_EQ(promise(first)["settledAt"], 10);
  const State before = state;
  const Step second = step(settle("a", "rejected", "two"), 20);
  EXPECT_EQ(status(second), 200);
  EXPECT_EQ(promise(second), promise(first)) << "PS2: the existing state, not the requested one";
  EXPECT_EQ(state, before);
  EXPECT_EQ(status(step(settle("missing", "resolved"), 30)), 404);
}

TEST_F(PromisesModel, LazyTimeoutAtTheDeadline) {
  step(create("a", 100), 0);
  step(create("t", 100, tags_of({{"resonate:timer", "true"}})), 0);
  EXPECT_EQ(promise(step(by_id("promise.get", "a"), 99))["state"], "pending");
  EXPECT_EQ(state.promises.at("a").state, PromiseState::pending);
  const Step at = step(by_id("promise.get", "a"), 100);
  EXPECT_EQ(promise(at)["state"], "rejected_timedout") << "view: timed out at now >= timeoutAt";
  EXPECT_EQ(promise(at)["settledAt"], 100);
  EXPECT_EQ(state.promises.at("a").state, PromiseState::rejected_timedout) << "converged";
  EXPECT_EQ(promise(step(settle("t", "rejected"), 150))["state"], "resolved")
      << "a settle after the deadline sees the timer's timeout, not its own state";
  EXPECT_EQ(state.promises.at("t").settled_at, 100);
}

TEST_F(PromisesModel, SweepSettlesOnlyTargetedPromises) {
  step(create("plain", 100), 0);
  step(create("job", 100, tags_of({{"resonate:target", "T"}})), 0);
  step(tick(100), 100);
  EXPECT_EQ(state.promises.at("plain").state, PromiseState::pending) << "D6: lazy only";
  EXPECT_EQ(state.promises.at("job").state, PromiseState::rejected_timedout);
  EXPECT_EQ(state.tasks.at("job").state, TaskState::fulfilled);
}

TEST_F(PromisesModel, ListenersFireOnceOnSettle) {
  step(create("a", 1000, tags_of({{"resonate:scope", "global"}})), 0);
  step(create("local", 1000), 0);
  EXPECT_EQ(status(step(listener("local", "L1"), 1)), 422);
  step(listener("a", "L1"), 1);
  step(listener("a", "L2"), 1);
  step(listener("a", "L1"), 1);  // set semantics
  const Step s = step(settle("a", "resolved"), 5);
  ASSERT_EQ(s.messages.size(), 2u);
  EXPECT_EQ(s.messages[0]["address"], "L1");
  EXPECT_EQ(s.messages[1]["address"], "L2");
  EXPECT_EQ(s.messages[0]["message"]["kind"], "unblock");
  EXPECT_EQ(s.messages[0]["message"]["data"]["promise"], promise(s));
  EXPECT_TRUE(step(listener("a", "L3"), 6).messages.empty()) << "RL4: settled, no unblock";
  EXPECT_TRUE(state.promises.at("a").listeners.empty());
}

TEST_F(PromisesModel, TimeoutNotifiesListenersOnConverge) {
  step(create("a", 100, tags_of({{"resonate:external", "true"}})), 0);
  step(listener("a", "L"), 1);
  // task.halt on a non-task still converges its id (spec §3.2): 404, but the timeout fires.
  const Step s = step(by_id("task.halt", "a"), 100);
  EXPECT_EQ(status(s), 404);
  ASSERT_EQ(s.messages.size(), 1u);
  EXPECT_EQ(s.messages[0]["message"]["data"]["promise"]["state"], "rejected_timedout");
}

TEST_F(PromisesModel, RegisterCallbackCases) {
  step(create("awaited", 1000), 0);
  step(create("plain", 1000), 0);
  step(create("w", 1000, tags_of({{"resonate:target", "T"}})), 0);
  EXPECT_EQ(status(step(callback("x", "w"), 1)), 404);
  EXPECT_EQ(status(step(callback("awaited", "x"), 1)), 422);
  EXPECT_EQ(step(callback("awaited", "plain"), 1).response["data"], "Awaiter has no address");
  EXPECT_EQ(status(step(callback("w", "w"), 1)), 400);
  EXPECT_EQ(status(step(callback("awaited", "w"), 1)), 200);
  EXPECT_TRUE(state.promises.at("awaited").callbacks.contains("w"));
  // Settling the awaited promise of a pending (not suspended) task only buffers the resume.
  EXPECT_TRUE(step(settle("awaited", "resolved"), 2).messages.empty());
  EXPECT_TRUE(state.tasks.at("w").resumes.contains("awaited"));
}

// ---- tasks (spec §5.2, §5.3) ----

TEST_F(PromisesModel, TaskLifecycleWithGrowingVersions) {
  const Step created = step(task_create("t", 100000, 1000), 0);
  ASSERT_EQ(status(created), 200);
  EXPECT_EQ(created.response["data"]["task"], json::parse(R"({"id":"t","state":"acquired",
      "version":1,"resumes":[],"pid":"p1","ttl":1000})"));
  EXPECT_TRUE(created.messages.empty());
  EXPECT_EQ(status(step(task_create("t", 100000, 1000), 1)), 409) << "TC3";

  step(heartbeat("p1", "t", 1), 500);
  EXPECT_EQ(state.task_timeouts.find("t")->at, 1500);
  step(heartbeat("p2", "t", 1), 600);  // wrong pid: skipped, still 200
  EXPECT_EQ(state.task_timeouts.find("t")->at, 1500);

  EXPECT_EQ(step(release("t", 0), 700).response["data"], "Version mismatch");
  const Step released = step(release("t", 1), 700);
  EXPECT_EQ(status(released), 200);
  EXPECT_EQ(released.messages, std::vector<json>{execute("T", "t", 1)});
  EXPECT_EQ(state.tasks.at("t").state, TaskState::pending);
  EXPECT_EQ(state.tasks.at("t").version, 1) << "release keeps the version";
  EXPECT_EQ(step(release("t", 1), 701).response["data"], "Task not acquired");

  EXPECT_EQ(status(step(acquire("t", 0), 800)), 409);
  const Step acquired = step(acquire("t", 1, 5000, "p2"), 800);
  EXPECT_EQ(acquired.response["data"]["task"]["version"], 2);
  EXPECT_EQ(state.task_timeouts.find("t")->kind, TimeoutKind::lease);

  EXPECT_EQ(status(step(fulfill("t", 1), 900)), 409) << "fenced by version";
  const Step fulfilled = step(fulfill("t", 2, "rejected"), 900);
  EXPECT_EQ(status(fulfilled), 200);
  EXPECT_EQ(promise(fulfilled)["state"], "rejected");
  EXPECT_EQ(state.tasks.at("t").state, TaskState::fulfilled);
  EXPECT_EQ(state.tasks.at("t").version, 2);
  EXPECT_EQ(step(fulfill("t", 2), 901).response["data"], "Task not acquired") << "not idempotent";
  EXPECT_EQ(status(step(task_create("t", 100000, 1000), 902)), 200) << "TC2 returns it";
  EXPECT_EQ(status(step(by_id("task.get", "nope"), 903)), 404);
}

TEST_F(PromisesModel, SuspendAndResume) {
  step(task_create("w", 100000, 1000), 0);
  step(create("p", 100000), 0);
  step(create("q", 100000), 0);
  const Step suspended = step(suspend("w", 1, {"p", "q"}), 10);
  EXPECT_EQ(status(suspended), 200);
  EXPECT_EQ(state.tasks.at("w").state, TaskState::suspended);
  EXPECT_EQ(state.task_timeouts.find("w"), nullptr);

  const Step woken = step(settle("q", "resolved"), 20);
  EXPECT_EQ(woken.messages, std::vector<json>{execute("T", "w", 1)}) << "same version";
  EXPECT_EQ(state.tasks.at("w").state, TaskState::pending);
  EXPECT_EQ(state.tasks.at("w").resumes.items(), std::vector<std::string>{"q"});
  EXPECT_EQ(state.task_timeouts.find("w")->at, 20 + seer::promises::kRetry);

  step(acquire("w", 1), 30);
  EXPECT_TRUE(step(settle("p", "resolved"), 40).messages.empty()) << "acquired: buffered";
  EXPECT_TRUE(state.tasks.at("w").resumes.contains("p"));
  const Step redirect = step(suspend("w", 2, {"p"}), 50);
  EXPECT_EQ(status(redirect), 300) << "TS2: an awaited promise is already settled";
  EXPECT_EQ(redirect.response["data"], json::parse(R"({"preload":[]})"));
  EXPECT_TRUE(state.tasks.at("w").resumes.empty());
  EXPECT_EQ(state.tasks.at("w").state, TaskState::acquired);

  const Step missing = step(suspend("w", 2, {"zzz"}), 60);
  EXPECT_EQ(status(missing), 422);
  EXPECT_EQ(missing.response["data"], "Awaited promise not found") << "A10";
  EXPECT_EQ(status(step(suspend("w", 2, {"w"}), 60)), 400);
  EXPECT_EQ(status(step(suspend("w", 2, {}), 60)), 400);
}

TEST_F(PromisesModel, FenceRunsTheActionUnderTheVersion) {
  step(task_create("t", 100000, 1000), 0);
  json child = create("child", 100000, tags_of({{"resonate:target", "U"}}));
  child["head"]["corrId"] = "inner";
  EXPECT_EQ(step(fence("t", 7, child), 1).response["data"], "Fence check failed");
  EXPECT_EQ(state.promises.count("child"), 0u);
  const Step s = step(fence("t", 1, child), 1);
  EXPECT_EQ(status(s), 200);
  const json& action = s.response["data"]["action"];
  EXPECT_EQ(action["kind"], "promise.create");
  EXPECT_EQ(action["head"], json::parse(R"({"corrId":"inner","status":200,"version":"v"})"));
  EXPECT_EQ(action["data"]["promise"]["id"], "child");
  EXPECT_EQ(s.response["data"]["preload"], json::array());
  EXPECT_EQ(s.messages, std::vector<json>{execute("U", "child", 0)});
  const Step inner404 = step(fence("t", 1, settle("nope", "resolved")), 2);
  EXPECT_EQ(status(inner404), 200) << "the outer status is 200 whenever the fence holds";
  EXPECT_EQ(inner404.response["data"]["action"]["head"]["status"], 404);
}

TEST_F(PromisesModel, HaltAndContinue) {
  step(create("t", 100000, tags_of({{"resonate:target", "T"}})), 0);
  EXPECT_EQ(status(step(by_id("task.continue", "t"), 1)), 409);
  EXPECT_EQ(status(step(by_id("task.halt", "t"), 1)), 200);
  EXPECT_EQ(status(step(by_id("task.halt", "t"), 2)), 200) << "halting a halted task";
  EXPECT_EQ(state.task_timeouts.find("t"), nullptr);
  const Step resumed = step(by_id("task.continue", "t"), 3);
  EXPECT_EQ(resumed.messages, std::vector<json>{execute("T", "t", 0)});
  step(settle("t", "resolved"), 4);
  EXPECT_EQ(step(by_id("task.halt", "t"), 5).response["data"], "Task is fulfilled");
}

// ---- the sweep (spec §5.5) ----

TEST_F(PromisesModel, SweepReleasesExpiredLeasesAndRetries) {
  step(task_create("t", 1000000, 1000), 0);
  step(tick(999), 999);
  EXPECT_EQ(state.tasks.at("t").state, TaskState::acquired);
  // Leases expire only in the sweep (A13): past the expiry, without a sweep, the lease still holds.
  step(heartbeat("p1", "t", 1), 1500);
  EXPECT_EQ(state.task_timeouts.find("t")->at, 2500);
  EXPECT_TRUE(step(tick(2499), 2499).messages.empty());
  const Step expired = step(tick(2500), 2500);
  EXPECT_EQ(expired.messages, std::vector<json>{execute("T", "t", 1)});
  EXPECT_EQ(state.tasks.at("t").state, TaskState::pending);
  EXPECT_EQ(state.tasks.at("t").version, 1);
  const std::int64_t retry_at = 2500 + seer::promises::kRetry;
  EXPECT_TRUE(step(tick(retry_at - 1), retry_at - 1).messages.empty());
  EXPECT_EQ(step(tick(retry_at), retry_at).messages, std::vector<json>{execute("T", "t", 1)});
  EXPECT_EQ(state.task_timeouts.find("t")->at, retry_at + seer::promises::kRetry);
  EXPECT_EQ(step(tick(retry_at), retry_at).response["data"], json::array());
}

TEST_F(PromisesModel, SweepFulfilsATaskBeforeResumingIt) {
  // w awaits p; both time out in one sweep: w is fulfilled (its own promise), never resumed.
  step(task_create("w", 500, 100000), 0);
  step(create("p", 500, tags_of({{"resonate:target", "T"}})), 0);
  step(acquire("p", 0), 0);
  step(suspend("w", 1, {"p"}), 1);
  const Step s = step(tick(500), 500);
  EXPECT_TRUE(s.messages.empty());
  EXPECT_EQ(state.tasks.at("w").state, TaskState::fulfilled);
  EXPECT_EQ(state.tasks.at("p").state, TaskState::fulfilled);
}

TEST_F(PromisesModel, PreloadShowsTheBranchViewedAtNow) {
  step(create("root", 100000, tags_of({{"resonate:target", "T"}, {"resonate:branch", "root"}})), 0);
  step(create("kid", 50, tags_of({{"resonate:branch", "root"}})), 0);
  const Step s = step(acquire("root", 0), 60);
  ASSERT_EQ(s.response["data"]["preload"].size(), 1u);
  EXPECT_EQ(s.response["data"]["preload"][0]["state"], "rejected_timedout") << "A2: the view";
  EXPECT_EQ(state.promises.at("kid").state, PromiseState::pending) << "preload does not converge";
}

TEST_F(PromisesModel, ResetAndDebugKinds) {
  step(create("a", 1000), 0);
  EXPECT_EQ(step(request("debug.snap", json::object()), 1).response["data"]["promises"].size(), 1u);
  EXPECT_EQ(status(step(request("debug.start", json::object()), 1)), 200);
  EXPECT_EQ(status(step(request("debug.reset", json::object()), 1)), 200);
  EXPECT_EQ(state, State{});
  for (const char* kind : {"promise.search", "task.search", "schedule.search"})
    EXPECT_EQ(status(step(request(kind, json::object()), 2)), 501) << kind;
  // Module S is not implemented: well-formed schedule requests answer 501.
  EXPECT_EQ(status(step(by_id("schedule.get", "s"), 2)), 501);
}

// ---- malformed requests (spec §6): 400, echo, no state change, no messages ----

TEST_F(PromisesModel, MalformedRequestsAre400AndChangeNothing) {
  step(create("a", 1000, tags_of({{"resonate:target", "T"}, {"resonate:scope", "global"}})), 0);
  step(listener("a", "L"), 0);
  const State before = state;
  std::vector<json> bad;
  bad.push_back(json(5));
  bad.push_back(json::array());
  bad.push_back(request("promise.nope", json::object()));  // unknown kind
  json missing = by_id("promise.get", "a");
  missing["data"].erase("id");
  bad.push_back(missing);
  json wrong_type = settle("a", "resolved");
  wrong_type["data"]["id"] = 7;
  bad.push_back(wrong_type);
  bad.push_back(settle("a", "rejected_timedout"));  // not a client state
  json fractional = create("b", 1000);
  fractional["data"]["timeoutAt"] = 10.5;  // A4
  bad.push_back(fractional);
  json huge = create("b", 1000);
  huge["data"]["timeoutAt"] = 9007199254740992LL;  // 2^53: A4
  bad.push_back(huge);
  json tag_number = create("b", 1000);
  tag_number["data"]["tags"]["k"] = 1;  // A5
  bad.push_back(tag_number);
  json array_data = request("debug.start", json::array());  // A5: arrays are not objects
  bad.push_back(array_data);
  json no_head = settle("a", "resolved");
  no_head.erase("head");
  bad.push_back(no_head);
  json bad_action = fulfill("a", 0);
  bad_action["data"]["action"]["kind"] = "promise.create";
  bad.push_back(bad_action);
  for (const json& r : bad) {
    const Step s = step(r, 10);
    EXPECT_EQ(status(s), 400) << r.dump();
    EXPECT_TRUE(s.response["data"].is_string()) << r.dump();
    EXPECT_TRUE(s.messages.empty()) << r.dump();
    EXPECT_EQ(state, before) << r.dump();
  }
  const Step echoed = step(no_head, 10);
  EXPECT_EQ(echoed.response["kind"], "promise.settle");
  EXPECT_EQ(echoed.response["head"]["corrId"], "");
  EXPECT_EQ(step(json(5), 10).response["kind"], "");
}

TEST_F(PromisesModel, ArbitraryJsonNeverCrashes) {
  std::mt19937_64 rng(7);
  const std::vector<json> atoms{nullptr, 0, -1, 1.5, "x", true, json::array(), json::object()};
  const json base = task_create("t", 1000, 10);
  for (int i = 0; i < 2000; ++i) {
    json r = base;
    // Replace a few nodes by random atoms, at random depths.
    for (int k = 0; k < 3; ++k) {
      json* node = &r;
      while (node->is_object() && !node->empty() && rng() % 3 != 0) {
        auto it = node->begin();
        std::advance(it, static_cast<long>(rng() % node->size()));
        node = &*it;
      }
      *node = atoms[rng() % atoms.size()];
    }
    const Step s = step(r, 5);
    EXPECT_TRUE(s.response.is_object());
  }
}

// spec §9.2 step invariants over consecutive states.
void check_step(const State& before, const State& after, const json& r, const Step& s) {
  const int status = s.response["head"]["status"].get<int>();
  if (status == 400) {  // T10
    EXPECT_EQ(before, after) << r.dump();
    EXPECT_TRUE(s.messages.empty()) << r.dump();
  }
  if (r.value("kind", "") == "debug.reset") return;
  for (const auto& [id, p] : before.promises) {
    const auto it = after.promises.find(id);
    ASSERT_NE(it, after.promises.end()) << "T1: promise disappeared " << id;
    const auto& q = it->second;
    EXPECT_TRUE(p.seq == q.seq && p.param == q.param && p.tags == q.tags &&
                p.timeout_at == q.timeout_at && p.created_at == q.created_at)
        << "T2: immutable fields changed " << id;
    if (p.state != PromiseState::pending) {
      EXPECT_TRUE(p.state == q.state && p.value == q.value && p.settled_at == q.settled_at)
          << "T3: a settled promise changed " << id;
    }
  }
  for (const auto& [id, t] : before.tasks) {
    const auto it = after.tasks.find(id);
    ASSERT_NE(it, after.tasks.end()) << "T1: task disappeared " << id;
    const auto& u = it->second;
    if (t.state == TaskState::fulfilled) {
      EXPECT_EQ(t, u) << "T6: a fulfilled task changed " << id;
    }
    const bool entered_acquired = u.state == TaskState::acquired &&
                                  (t.state != TaskState::acquired || u.version != t.version);
    EXPECT_EQ(u.version, entered_acquired ? t.version + 1 : t.version)
        << "T5: version changes only by +1 on entering acquired " << id << " " << r.dump();
  }
}

TEST(PromisesModelProperty, InvariantsHoldAlongRandomSequences) {
  std::mt19937_64 seeds(20240601);
  std::uint64_t steps = 0;
  for (std::uint64_t sequence = 0; sequence < seer::testing::sweep_seeds(60); ++sequence) {
    Generator gen(seeds());
    State state;
    std::int64_t now = 1'700'000'000'000;
    std::map<std::string, std::int64_t> seen_versions;  // H7 over responses and messages
    for (int i = 0; i < 400; ++i, ++steps) {
      now += gen.advance();
      const json r = gen.next(now, state);
      const State before = state;
      const Step s = seer::promises::apply(state, r, now);
      const std::vector<std::string> broken = seer::promises::check_invariants(state);
      ASSERT_TRUE(broken.empty()) << broken.front() << " after " << r.dump();
      check_step(before, state, r, s);
      if (HasFatalFailure()) return;
      // The codec designs store σ with: lossless, order included.
      ASSERT_EQ(seer::promises::state_from_json(seer::promises::state_to_json(state)), state);
      auto observe = [&](const json& task) {
        const std::string id = task["id"].get<std::string>();
        const std::int64_t v = task["version"].get<std::int64_t>();
        EXPECT_GE(v, seen_versions[id]) << "H7: version decreased for " << id;
        seen_versions[id] = std::max(seen_versions[id], v);
      };
      const json& data = s.response["data"];
      if (data.is_object() && data.contains("task")) observe(data["task"]);
      for (const json& m : s.messages)
        if (m["message"]["kind"] == "execute") observe(m["message"]["data"]["task"]);
    }
  }
  EXPECT_EQ(steps, seer::testing::sweep_seeds(60) * 400);
}

// The sweep skips the tick when tick_finds_due says nothing is due: that must be exactly when the
// tick would leave σ as it is, at the sweep's own time and later ones.
TEST(PromisesModelProperty, TickFindsDueExactlyWhenTheTickChangesTheState) {
  std::mt19937_64 seeds(20261204);
  int due = 0;
  int not_due = 0;
  for (std::uint64_t sequence = 0; sequence < seer::testing::sweep_seeds(30); ++sequence) {
    Generator gen(seeds());
    State state;
    std::int64_t now = 1'700'000'000'000;
    for (int i = 0; i < 300; ++i) {
      now += gen.advance();
      seer::promises::apply(state, gen.next(now, state), now);
      for (const std::int64_t later : {0, 1'000, 60'000, 3'600'000}) {
        const std::int64_t at = now + later;
        State ticked = state;
        seer::promises::apply(ticked, request("debug.tick", json{{"time", at}}), at);
        const bool finds = seer::promises::tick_finds_due(state, at);
        ASSERT_EQ(finds, !(ticked == state))
            << "at " << at << ": " << seer::promises::state_to_json(state).dump();
        ++(finds ? due : not_due);
      }
    }
  }
  // Both answers were exercised.
  EXPECT_GT(due, 0);
  EXPECT_GT(not_due, 0);
}

// The history checker steps with answer(): the same state, status and data as apply().
TEST(PromisesModelProperty, AnswerIsApplyWithoutEnvelopeOrMessages) {
  std::mt19937_64 seeds(20261205);
  int compared = 0;
  for (std::uint64_t sequence = 0; sequence < seer::testing::sweep_seeds(30); ++sequence) {
    Generator gen(seeds());
    State state;
    std::int64_t now = 1'700'000'000'000;
    for (int i = 0; i < 300; ++i) {
      now += gen.advance();
      const json r = gen.next(now, state);
      const auto parsed = seer::promises::parse_request(r);
      State answered = state;
      const Step s = seer::promises::apply(state, r, now);
      if (const auto* request = std::get_if<seer::promises::Request>(&parsed)) {
        const auto a = seer::promises::answer(answered, *request, now);
        ASSERT_EQ(answered, state) << r.dump();
        ASSERT_EQ(a.status, s.response["head"]["status"].get<int>()) << r.dump();
        ASSERT_EQ(a.data, s.response["data"]) << r.dump();
        ++compared;
      }
    }
  }
  EXPECT_GT(compared, 0);
}

// Every value one change away from `j`: each leaf changed, each member removed, one added, each
// array one element longer; and, for each integer, the same number as another JSON number type
// (`equal` receives those: JSON values that compare equal).
void answers_test_variants(const json& j, std::vector<json>& different, std::vector<json>& equal) {
  if (j.is_object()) {
    for (const auto& [key, value] : j.items()) {
      json removed = j;
      removed.erase(key);
      different.push_back(std::move(removed));
      std::vector<json> inner_different, inner_equal;
      answers_test_variants(value, inner_different, inner_equal);
      for (auto& v : inner_different) {
        json changed = j;
        changed[key] = std::move(v);
        different.push_back(std::move(changed));
      }
      for (auto& v : inner_equal) {
        json changed = j;
        changed[key] = std::move(v);
        equal.push_back(std::move(changed));
      }
    }
    json added = j;
    added["zz-extra"] = 1;
    different.push_back(std::move(added));
  } else if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i) {
      std::vector<json> inner_different, inner_equal;
      answers_test_variants(j[i], inner_different, inner_equal);
      for (auto& v : inner_different) {
        json changed = j;
        changed[i] = std::move(v);
        different.push_back(std::move(changed));
      }
    }
    json longer = j;
    longer.push_back("x");
    different.push_back(std::move(longer));
  } else if (j.is_string()) {
    different.push_back(j.get<std::string>() + "x");
    different.push_back(json::object());
  } else if (j.is_number_integer()) {
    different.push_back(j.get<std::int64_t>() + 1);
    different.push_back(std::to_string(j.get<std::int64_t>()));
    equal.push_back(static_cast<double>(j.get<std::int64_t>()));
    if (j.get<std::int64_t>() >= 0) equal.push_back(j.get<std::uint64_t>());
  } else {
    different.push_back(json("x"));
  }
}

// answers() compares the data apply() builds without building it: it accepts that data (and any
// JSON value equal to it) and nothing one change away, and leaves the same state as apply().
TEST(PromisesModelProperty, AnswersIsApplysResponseComparedInPlace) {
  std::mt19937_64 seeds(20261206);
  int compared = 0;
  int rejected = 0;
  int reads = 0;
  for (std::uint64_t sequence = 0; sequence < seer::testing::sweep_seeds(10); ++sequence) {
    Generator gen(seeds());
    State state;
    std::int64_t now = 1'700'000'000'000;
    for (int i = 0; i < 200; ++i) {
      now += gen.advance();
      const json r = gen.next(now, state);
      const auto parsed = seer::promises::parse_request(r);
      const State before = state;
      const Step s = seer::promises::apply(state, r, now);
      const auto* request = std::get_if<seer::promises::Request>(&parsed);
      if (request == nullptr) continue;
      const int status = s.response["head"]["status"].get<int>();
      const json& data = s.response["data"];
      auto answers = [&](int st, const json& d) {
        State answered = before;
        const bool same = seer::promises::answers(answered, *request, now, st, d);
        EXPECT_EQ(answered, state) << r.dump();
        return same;
      };
      ASSERT_TRUE(answers(status, data)) << r.dump() << " -> " << data.dump();
      ASSERT_FALSE(answers(status + 1, data)) << r.dump();
      State effect = before;
      seer::promises::apply_effect(effect, *request, now);
      ASSERT_EQ(effect, state) << r.dump();
      if (seer::promises::reads_only(before, *request, now)) {
        ASSERT_EQ(before, state) << r.dump();  // it said so before applying
        ASSERT_TRUE(seer::promises::answers_unchanged(before, *request, now, status, data));
        ASSERT_FALSE(seer::promises::answers_unchanged(before, *request, now, status + 1, data));
        ++reads;
      } else if (request->kind != seer::promises::Kind::promise_get &&
                 request->kind != seer::promises::Kind::task_get) {
        ASSERT_THROW(seer::promises::answers_unchanged(before, *request, now, status, data),
                     std::logic_error);
      }
      std::vector<json> different, equal;
      answers_test_variants(data, different, equal);
      for (const json& d : different) {
        ASSERT_FALSE(answers(status, d)) << r.dump() << " -> " << d.dump();
        ++rejected;
      }
      for (const json& d : equal) ASSERT_TRUE(answers(status, d)) << r.dump() << " -> " << d.dump();
      ++compared;
    }
  }
  EXPECT_GT(compared, 0);
  EXPECT_GT(rejected, compared);
  EXPECT_GT(reads, 0);
}

// parse's paths are built only when a field fails: each failure still names its field's full path.
TEST(PromisesModelParse, MalformedRequestsNameTheFieldsPath) {
  const std::vector<std::pair<const char*, const char*>> cases{
      {R"({"kind":"promise.get","head":{"version":"v"},"data":{"id":"a"}})",
       "Malformed request: request.head.corrId is missing"},
      {R"({"kind":"promise.get","head":{"corrId":"c","version":"v","auth":5},"data":{"id":"a"}})",
       "Malformed request: request.head.auth must be a string"},
      {R"({"kind":"promise.get","head":{"corrId":"c","version":"v","resonate:debug_time":1.5},"data":{"id":"a"}})",
       "Malformed request: request.head.resonate:debug_time must be an integer within ±(2^53−1)"},
      {R"({"kind":"promise.create","head":{"corrId":"c","version":"v"},"data":{"id":"a","timeoutAt":"x","param":{},"tags":{}}})",
       "Malformed request: request.data.timeoutAt must be a number"},
      {R"({"kind":"promise.create","head":{"corrId":"c","version":"v"},"data":{"id":"a","timeoutAt":5,"param":{"data":1},"tags":{}}})",
       "Malformed request: request.data.param.data must be a string"},
      {R"({"kind":"task.create","head":{"corrId":"c","version":"v"},"data":{"pid":"p","ttl":5,"action":{"kind":"promise.create","head":{"corrId":"c"},"data":{}}}})",
       "Malformed request: data.action.head.version is missing"},
      {R"({"kind":"task.create","head":{"corrId":"c","version":"v"},"data":{"pid":"p","ttl":5,"action":{"kind":"promise.create","head":{"corrId":"c","version":"v","resonate:origin":3},"data":{}}}})",
       "Malformed request: data.action.head.resonate:origin must be a string"},
      {R"({"kind":"task.heartbeat","head":{"corrId":"c","version":"v"},"data":{"pid":"p","tasks":[{"id":"a"}]}})",
       "Malformed request: data.tasks[0].version is missing"},
      {R"({"kind":"task.get","head":{"corrId":"c","version":"v","x":1},"data":{"id":7}})",
       "Malformed request: data.id must be a string"},
      {R"({"kind":"task.get","head":{"corrId":"c","version":"v"},"data":{"id":7}})",
       "Malformed request: data.id must be a string"},
      // The kind, values, tags and embedded kinds (read in place, their paths joined on failure).
      {R"({"kind":5,"head":{"corrId":"c","version":"v"},"data":{}})",
       R"(Malformed request: request.kind must be a string)"},
      {R"({"kind":"promise.create","head":{"corrId":"c","version":"v"},"data":{"id":"a","timeoutAt":5,"param":{"headers":{"h":1}},"tags":{}}})",
       R"(Malformed request: request.data.param.headers.h must be a string)"},
      {R"({"kind":"promise.create","head":{"corrId":"c","version":"v"},"data":{"id":"a","timeoutAt":5,"param":{},"tags":"x"}})",
       R"(Malformed request: request.data.tags must be an object)"},
      {R"({"kind":"promise.create","head":{"corrId":"c","version":"v"},"data":{"id":"a","timeoutAt":5,"param":3,"tags":{}}})",
       R"(Malformed request: request.data.param must be an object)"},
      {R"({"kind":"promise.settle","head":{"corrId":"c","version":"v"},"data":{"id":"a","state":"resolved","value":{"headers":3}}})",
       R"(Malformed request: request.data.value.headers must be an object)"},
      {R"({"kind":"promise.settle","head":{"corrId":"c","version":"v"},"data":{"id":"a","state":"resolved","value":{"data":3}}})",
       R"(Malformed request: request.data.value.data must be a string)"},
      {R"({"kind":"task.create","head":{"corrId":"c","version":"v"},"data":{"pid":"p","ttl":5,"action":{"kind":"promise.create","head":{"corrId":"c","version":"v"},"data":{"id":"a","timeoutAt":5,"param":{},"tags":{"t":2}}}}})",
       R"(Malformed request: data.action.data.tags.t must be a string)"},
      {R"({"kind":"task.create","head":{"corrId":"c","version":"v"},"data":{"pid":"p","ttl":5,"action":{"kind":"promise.settle","head":{"corrId":"c","version":"v"},"data":{}}}})",
       R"(Malformed request: data.action.kind must be "promise.create")"},
      {R"({"kind":"schedule.create","head":{"corrId":"c","version":"v"},"data":{"id":"s","cron":"* * * * *","promiseId":"p","promiseTimeout":5,"promiseParam":{},"promiseTags":{"t":1}}})",
       R"(Malformed request: data.promiseTags.t must be a string)"},
      {R"({"kind":"schedule.create","head":{"corrId":"c","version":"v"},"data":{"id":"s","cron":"* * * * *","promiseId":"p","promiseTimeout":5,"promiseParam":{"headers":[]},"promiseTags":{}}})",
       R"(Malformed request: data.promiseParam.headers must be an object)"},
      {R"({"kind":"promise.search","head":{"corrId":"c","version":"v"},"data":{"state":5}})",
       R"(Malformed request: data.state is not an allowed state)"},
      {R"({"kind":"promise.search","head":{"corrId":"c","version":"v"},"data":{"state":"nope"}})",
       R"(Malformed request: data.state is not an allowed state)"},
      {R"({"kind":"promise.search","head":{"corrId":"c","version":"v"},"data":{"tags":{"x":1}}})",
       R"(Malformed request: data.tags.x must be a string)"},
      {R"({"kind":"task.fence","head":{"corrId":"c","version":"v"},"data":{"id":"t","version":1,"action":{"kind":"promise.create","head":{"corrId":"c","version":"v"},"data":{"id":"a","timeoutAt":5,"param":{"headers":{"k":false}},"tags":{}}}}})",
       R"(Malformed request: data.action.data.param.headers.k must be a string)"},
      {R"({"kind":"task.fulfill","head":{"corrId":"c","version":"v"},"data":{"id":"t","version":1,"action":{"kind":"promise.get","head":{"corrId":"c","version":"v"},"data":{}}}})",
       R"(Malformed request: data.action.kind must be "promise.settle")"},
  };
  for (const auto& [text, reason] : cases) {
    const auto parsed = seer::promises::parse_request(json::parse(text));
    const auto* rejection = std::get_if<seer::promises::Rejection>(&parsed);
    ASSERT_NE(rejection, nullptr) << text;
    EXPECT_EQ(rejection->reason, reason) << text;
  }
}

TEST(PromisesModelProperty, InvariantCheckerCatchesCorruptStates) {
  State good;
  seer::promises::apply(good, task_create("w", 100000, 1000), 0);
  seer::promises::apply(good, create("p", 100000), 0);
  seer::promises::apply(good, suspend("w", 1, {"p"}), 1);
  ASSERT_TRUE(seer::promises::check_invariants(good).empty());
  auto broken = [&](auto corrupt) {
    State s = good;
    corrupt(s);
    return !seer::promises::check_invariants(s).empty();
  };
  EXPECT_TRUE(broken([](State& s) { s.promises.at("p").settled_at = 5; }));             // I1
  EXPECT_TRUE(broken([](State& s) { s.tasks.erase("w"); }));                            // I5
  EXPECT_TRUE(broken([](State& s) { s.tasks.at("w").state = TaskState::fulfilled; }));  // I6
  EXPECT_TRUE(broken([](State& s) { s.tasks.at("w").pid = "x"; }));                     // I7
  EXPECT_TRUE(broken([](State& s) { s.task_timeouts.upsert("w", {}); }));               // I8
  EXPECT_TRUE(broken([](State& s) { s.promises.at("p").callbacks.add("p"); }));         // I9
  EXPECT_TRUE(broken([](State& s) { s.promises.at("p").callbacks.clear(); }));          // I11
  EXPECT_TRUE(broken([](State& s) { s.promises.at("w").created_at = 200000; }));        // I2
}

TEST(PromisesModelProperty, StateCodecRejectsMalformedDocuments) {
  State s;
  seer::promises::apply(s, task_create("w", 100000, 1000), 0);
  const json good = seer::promises::state_to_json(s);
  for (const auto& bad : {json(), json::object(), json{{"promises", 1}},
                          json{{"promises", json::array()},
                               {"tasks", json::array({{{"id", 1}}})},
                               {"taskTimeouts", json::array()}}}) {
    EXPECT_THROW(seer::promises::state_from_json(bad), std::invalid_argument) << bad.dump();
  }
  json wrong_order = good;
  wrong_order["promises"][0]["seq"] = 2;
  EXPECT_THROW(seer::promises::state_from_json(wrong_order), std::invalid_argument);
  json bad_state = good;
  bad_state["tasks"][0]["state"] = "sleeping";
  EXPECT_THROW(seer::promises::state_from_json(bad_state), std::invalid_argument);
}

TEST(PromisesModelProperty, StateIsAValue) {
  State a;
  seer::promises::apply(a, create("x", 1000, tags_of({{"resonate:target", "T"}})), 0);
  State b = a;
  EXPECT_EQ(a, b);
  seer::promises::apply(b, settle("x", "resolved"), 1);
  EXPECT_NE(a, b);
  // Same requests, same results: the model is deterministic.
  State c;
  seer::promises::apply(c, create("x", 1000, tags_of({{"resonate:target", "T"}})), 0);
  EXPECT_EQ(a, c);
}

}  // namespace
