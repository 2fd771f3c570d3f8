// The promises model as a linearizability checker model: histories of single-promise requests are
// checked per promise id, against the spec's responses (status and data), with `now` as recorded.
#include "promises/checker/history_model.hpp"
#include "seer/check/history.hpp"
#include "seer/check/linearizability.hpp"

#include <gtest/gtest.h>

namespace {

using json = nlohmann::json;
using seer::check::Operation;

json create_request(const std::string& id, std::int64_t timeout_at) {
  return {{"kind", "promise.create"},
          {"head", {{"corrId", "c"}, {"version", "v"}}},
          {"data",
           {{"id", id},
            {"timeoutAt", timeout_at},
            {"param", json::object()},
            {"tags", json::object()}}}};
}

json settle_request(const std::string& id, const std::string& data) {
  return {{"kind", "promise.settle"},
          {"head", {{"corrId", "c"}, {"version", "v"}}},
          {"data", {{"id", id}, {"state", "resolved"}, {"value", {{"data", data}}}}}};
}

json get_request(const std::string& id) {
  return {{"kind", "promise.get"},
          {"head", {{"corrId", "c"}, {"version", "v"}}},
          {"data", {{"id", id}}}};
}

json promise_record(const std::string& id, const std::string& state, std::int64_t created,
                    std::int64_t timeout_at, const json& value,
                    std::optional<std::int64_t> settled) {
  json r = {{"id", id},
            {"state", state},
            {"param", json::object()},
            {"value", value},
            {"tags", json::object()},
            {"timeoutAt", timeout_at},
            {"createdAt", created}};
  if (settled) r["settledAt"] = *settled;
  return r;
}

Operation op(int id, int process, const json& request, std::int64_t now, std::int64_t invoke,
             std::int64_t complete, int status, json data) {
  Operation o;
  o.id = id;
  o.process = process;
  o.f = request["kind"].get<std::string>();
  o.input = {{"request", request}, {"now", now}};
  o.output = {{"status", status}, {"data", std::move(data)}};
  o.invoke = invoke;
  o.complete = complete;
  return o;
}

std::unique_ptr<seer::check::AnyModel> model() {
  seer::promises::register_history_model();
  auto m = seer::check::make_model("promises");
  EXPECT_TRUE(m);
  return m;
}

TEST(PromisesHistoryModel, ConcurrentCreateSettleGetIsLinearizable) {
  const auto resolved = promise_record("p", "resolved", 10, 1000, {{"data", "v1"}}, 20);
  std::vector<Operation> ops = {
      op(0, 0, create_request("p", 1000), 10, 5, 15, 200,
         {{"promise", promise_record("p", "pending", 10, 1000, json::object(), std::nullopt)}}),
      // The settle and a get overlap; the get saw the settled promise.
      op(1, 1, settle_request("p", "v1"), 20, 16, 30, 200, {{"promise", resolved}}),
      op(2, 2, get_request("p"), 25, 17, 40, 200, {{"promise", resolved}}),
      // Another promise, checked in its own partition.
      op(3, 0, create_request("q", 50), 60, 50, 70, 200,
         {{"promise", promise_record("q", "rejected_timedout", 50, 50, json::object(), 50)}}),
  };
  const auto r = seer::check::check_linearizable(ops, *model());
  EXPECT_EQ(r.verdict, seer::check::Verdict::kLinearizable) << r.explanation;
  EXPECT_EQ(r.partitions, 2u);
}

TEST(PromisesHistoryModel, AReadOfAPendingPromiseAfterItsSettleIsAViolation) {
  const auto pending = promise_record("p", "pending", 10, 1000, json::object(), std::nullopt);
  std::vector<Operation> ops = {
      op(0, 0, create_request("p", 1000), 10, 5, 15, 200, {{"promise", pending}}),
      op(1, 1, settle_request("p", "v1"), 20, 16, 30, 200,
         {{"promise", promise_record("p", "resolved", 10, 1000, {{"data", "v1"}}, 20)}}),
      // Began after the settle completed, yet saw the promise pending: a stale read.
      op(2, 2, get_request("p"), 35, 31, 40, 200, {{"promise", pending}}),
  };
  const auto r = seer::check::check_linearizable(ops, *model());
  EXPECT_EQ(r.verdict, seer::check::Verdict::kNotLinearizable);
  EXPECT_EQ(r.failing_op, 2);
  EXPECT_EQ(r.partition, "p");
}

TEST(PromisesHistoryModel, ASecondValueForASettledPromiseIsAViolation) {
  std::vector<Operation> ops = {
      op(0, 0, create_request("p", 1000), 10, 5, 15, 200,
         {{"promise", promise_record("p", "pending", 10, 1000, json::object(), std::nullopt)}}),
      op(1, 1, settle_request("p", "v1"), 20, 16, 30, 200,
         {{"promise", promise_record("p", "resolved", 10, 1000, {{"data", "v1"}}, 20)}}),
      op(2, 2, settle_request("p", "v2"), 40, 31, 45, 200,
         {{"promise", promise_record("p", "resolved", 10, 1000, {{"data", "v2"}}, 40)}}),
  };
  const auto r = seer::check::check_linearizable(ops, *model());
  EXPECT_EQ(r.verdict, seer::check::Verdict::kNotLinearizable);
}

json request(const std::string& kind, json data) {
  return {{"kind", kind}, {"head", {{"corrId", "c"}, {"version", "v"}}}, {"data", std::move(data)}};
}

TEST(PromisesHistoryModel, AnOperationNamingTwoOriginsIsRejected) {
  Operation o =
      op(0, 0, request("promise.register_callback", {{"awaited", "a:1"}, {"awaiter", "b"}}), 1, 1,
         2, 200, json::object());
  EXPECT_THROW(seer::check::check_linearizable({o}, *model()), seer::check::HistoryError);
}

TEST(PromisesHistoryModel, ASweepMustNameTheOriginItSwept) {
  Operation o = op(0, 0, request("debug.tick", {{"time", 5}}), 5, 1, 2, 200, json::array());
  EXPECT_THROW(seer::check::check_linearizable({o}, *model()), seer::check::HistoryError);
}

// A task's life across kinds, in one origin: the whole state is checked, not one promise.
TEST(PromisesHistoryModel, TasksAndSweepsOfOneOriginAreCheckedTogether) {
  const json tags = {{"resonate:target", "w"}};
  auto create =
      request("promise.create",
              {{"id", "r"}, {"timeoutAt", 10000}, {"param", json::object()}, {"tags", tags}});
  auto pending = promise_record("r", "pending", 10, 10000, json::object(), std::nullopt);
  pending["tags"] = tags;
  auto acquire = request("task.acquire", {{"id", "r"}, {"version", 0}, {"pid", "p"}, {"ttl", 100}});
  auto task = [](const std::string& state, int version) {
    json t = {{"id", "r"}, {"state", state}, {"version", version}, {"resumes", json::array()}};
    if (state == "acquired") {
      t["pid"] = "p";
      t["ttl"] = 100;
    }
    return t;
  };
  json tick = request("debug.tick", {{"time", 200}});
  auto get = request("task.get", {{"id", "r"}});
  std::vector<Operation> ops = {
      op(0, 0, create, 10, 5, 15, 200, {{"promise", pending}}),
      op(1, 1, acquire, 20, 16, 25, 200,
         {{"task", task("acquired", 1)}, {"promise", pending}, {"preload", json::array()}}),
      op(2, 9, tick, 200, 190, 210, 200, json::array()),  // the lease (20 + 100) has expired
      op(3, 2, get, 220, 215, 230, 200, {{"task", task("pending", 1)}}),
  };
  ops[2].input["origin"] = "r";
  auto r = seer::check::check_linearizable(ops, *model());
  EXPECT_EQ(r.verdict, seer::check::Verdict::kLinearizable) << r.explanation;
  // Without the sweep the lease would still be held: the same read is then a violation.
  ops.erase(ops.begin() + 2);
  for (int i = 0; i < 3; ++i) ops[static_cast<std::size_t>(i)].id = i;
  r = seer::check::check_linearizable(ops, *model());
  EXPECT_EQ(r.verdict, seer::check::Verdict::kNotLinearizable);
  EXPECT_EQ(r.failing_op, 2);
}

// spec §3.1: the server's `now` never goes back. Two creates whose records show it going back in
// the only order real time allows are a violation.
TEST(PromisesHistoryModel, NowGoingBackwardsIsAViolation) {
  std::vector<Operation> ops = {
      op(0, 0, create_request("p", 1000), 50, 5, 15, 200,
         {{"promise", promise_record("p", "pending", 50, 1000, json::object(), std::nullopt)}}),
      op(1, 1, create_request("p:2", 1000), 40, 20, 30, 200,
         {{"promise", promise_record("p:2", "pending", 40, 1000, json::object(), std::nullopt)}}),
  };
  EXPECT_EQ(seer::check::check_linearizable(ops, *model()).verdict,
            seer::check::Verdict::kNotLinearizable);
  std::swap(ops[0].input["now"], ops[1].input["now"]);  // same nows, in real-time order
  ops[0].output["data"]["promise"]["createdAt"] = 40;
  ops[1].output["data"]["promise"]["createdAt"] = 50;
  EXPECT_EQ(seer::check::check_linearizable(ops, *model()).verdict,
            seer::check::Verdict::kLinearizable);
}

// A read applied at an earlier `now` than the change before it answers as it would have at that
// change's time, so it is fine; one that would have seen a timeout by then is not.
TEST(PromisesHistoryModel, AReadWithAnEarlierNowIsFineIfItAnswersTheSameLater) {
  const auto pending = promise_record("p", "pending", 10, 1000, json::object(), std::nullopt);
  std::vector<Operation> ops = {
      op(0, 0, create_request("p", 1000), 10, 5, 15, 200, {{"promise", pending}}),
      op(1, 1, create_request("p:2", 5000), 900, 20, 30, 200,
         {{"promise", promise_record("p:2", "pending", 900, 5000, json::object(), std::nullopt)}}),
      op(2, 2, get_request("p"), 880, 40, 50, 200, {{"promise", pending}}),
  };
  EXPECT_EQ(seer::check::check_linearizable(ops, *model()).verdict,
            seer::check::Verdict::kLinearizable);
  // The second create at 1000 has timed p out: a later read at 880 showing it pending is stale.
  ops[1].input["now"] = 1000;
  ops[1].output["data"]["promise"]["createdAt"] = 1000;
  EXPECT_EQ(seer::check::check_linearizable(ops, *model()).verdict,
            seer::check::Verdict::kNotLinearizable);
}

// A create whose response was lost: the client never learnt the server's `now`, but a later read
// shows it; the checker finds that time among the candidates.
TEST(PromisesHistoryModel, AnOutcomeUnknownCreateTakesTheTimeALaterReadShows) {
  Operation lost = op(0, 0, create_request("p", 1000), 0, 5, 0, 0, json());
  lost.input.erase("now");
  lost.output = nullptr;
  lost.complete = seer::check::kNever;
  const auto pending = promise_record("p", "pending", 17, 1000, json::object(), std::nullopt);
  std::vector<Operation> ops = {
      lost, op(1, 1, get_request("p"), 30, 25, 35, 200, {{"promise", pending}})};
  auto r = seer::check::check_linearizable(ops, *model());
  EXPECT_EQ(r.verdict, seer::check::Verdict::kLinearizable) << r.explanation;
  // A settle at 30 of a promise whose record shows it created at 31 cannot be explained: the
  // create must have run at 31, and a change never runs at an earlier time than the one before.
  ops[1] = op(1, 1, settle_request("p", "v"), 30, 25, 35, 200,
              {{"promise", promise_record("p", "resolved", 31, 1000, {{"data", "v"}}, 30)}});
  r = seer::check::check_linearizable(ops, *model());
  EXPECT_EQ(r.verdict, seer::check::Verdict::kNotLinearizable);
}

// At-least-once delivery: a create executed at 10 whose reply was lost, then again at 40 (a
// duplicated request, a retry), answers with the promise it created at 10 (final, seed 35552).
TEST(PromisesHistoryModel, ACreateMayBeAnsweredByARepeatOfItself) {
  const auto pending = promise_record("p", "pending", 10, 1000, json::object(), std::nullopt);
  std::vector<Operation> ops = {
      op(0, 0, create_request("p", 1000), 40, 5, 50, 200, {{"promise", pending}})};
  auto r = seer::check::check_linearizable(ops, *model());
  EXPECT_EQ(r.verdict, seer::check::Verdict::kLinearizable) << r.explanation;
  // The first execution must still fit the order: a change at 20, complete before the create
  // began, rules out an effect at 10 (`now` never goes back).
  ops.insert(
      ops.begin(),
      op(1, 1, create_request("p:2", 1000), 20, 1, 3, 200,
         {{"promise", promise_record("p:2", "pending", 20, 1000, json::object(), std::nullopt)}}));
  r = seer::check::check_linearizable(ops, *model());
  EXPECT_EQ(r.verdict, seer::check::Verdict::kNotLinearizable);
}

// Only a successful repeat: a second task.create answering 409 while the first acquired the task
// is a real fault of the system (final, seed 28175), not an interpretation.
TEST(PromisesHistoryModel, ARepeatThatFailsIsNotAnExplanation) {
  const json tags = {{"resonate:target", "w"}};
  const json action =
      request("promise.create",
              {{"id", "r"}, {"timeoutAt", 10000}, {"param", json::object()}, {"tags", tags}});
  const json create = request("task.create", {{"pid", "p"}, {"ttl", 100}, {"action", action}});
  std::vector<Operation> ops = {op(0, 0, create, 40, 5, 50, 409, "Task already exists")};
  const auto r = seer::check::check_linearizable(ops, *model());
  EXPECT_EQ(r.verdict, seer::check::Verdict::kNotLinearizable);
}

// The completion may carry `now` instead of the invocation (the client learns it from the reply).
TEST(PromisesHistoryModel, NowMayComeWithTheCompletion) {
  Operation o =
      op(0, 0, create_request("p", 1000), 12, 5, 15, 200,
         {{"promise", promise_record("p", "pending", 12, 1000, json::object(), std::nullopt)}});
  o.input.erase("now");
  o.output["now"] = 12;
  EXPECT_EQ(seer::check::check_linearizable({o}, *model()).verdict,
            seer::check::Verdict::kLinearizable);
}

Operation lost_create(int id, const std::string& promise, std::int64_t invoke) {
  Operation lost = op(id, 0, create_request(promise, 1000), 0, invoke, 0, 0, json());
  lost.input.erase("now");
  lost.output = nullptr;
  lost.complete = seer::check::kNever;
  return lost;
}

// A create whose outcome is unknown is placed only after every read that found its promise
// missing; placed before one, that read could not have answered 404.
TEST(PromisesHistoryModel, ALostCreateTakesEffectAfterTheReadsThatFoundNothing) {
  const auto pending = promise_record("p", "pending", 25, 1000, json::object(), std::nullopt);
  std::vector<Operation> ops = {
      lost_create(0, "p", 5),
      op(1, 1, get_request("p"), 15, 10, 20, 404, "Promise not found"),
      op(2, 2, get_request("p"), 35, 30, 40, 200, {{"promise", pending}}),
  };
  auto r = seer::check::check_linearizable(ops, *model());
  EXPECT_EQ(r.verdict, seer::check::Verdict::kLinearizable) << r.explanation;
  // Found, then missing again: no place for the create explains both (promises are never deleted).
  ops[1] =
      op(1, 1, get_request("p"), 15, 10, 20, 200,
         {{"promise", promise_record("p", "pending", 12, 1000, json::object(), std::nullopt)}});
  ops[2] = op(2, 2, get_request("p"), 35, 30, 40, 404, "Promise not found");
  r = seer::check::check_linearizable(ops, *model());
  EXPECT_EQ(r.verdict, seer::check::Verdict::kNotLinearizable);
}

// Regression: histories of one origin with 20-35 operations of unknown outcome, on which the
// checker gave up within a simulated run's step budget (tests/promises/histories/README.md).
TEST(PromisesHistoryModel, UnknownHeavyHistoriesAreDecidedWithinTheRunBudget) {
  for (const char* seed : {"6019", "8591", "15229", "62803", "74062", "sql_17937"}) {
    const auto ops = seer::check::read_history_file(std::string(SEER_PROMISES_HISTORIES) +
                                                    "/unknown_heavy_" + seed + ".jsonl");
    seer::check::CheckOptions options;
    options.max_steps = seer::check::kSimulatedRunSteps;
    const auto r = seer::check::check_linearizable(ops, *model(), options);
    EXPECT_EQ(r.verdict, seer::check::Verdict::kLinearizable) << seed << ": " << r.explanation;
  }
}

}  // namespace
