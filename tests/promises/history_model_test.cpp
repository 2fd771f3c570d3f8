// The promises model as a linearizability checker model: histories of single-promise requests are
// checked per promise id, against the spec's responses (status and data), with `now` as recorded.
#include "promises/checker/history_model.hpp"
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

std::unique_ptr<seer::check::Model> model() {
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

TEST(PromisesHistoryModel, KindsThatTouchSeveralPromisesAreRejected) {
  Operation o = op(0, 0, get_request("p"), 1, 1, 2, 200, json::object());
  o.f = "task.create";
  EXPECT_THROW(seer::check::check_linearizable({o}, *model()), seer::check::HistoryError);
}

}  // namespace
