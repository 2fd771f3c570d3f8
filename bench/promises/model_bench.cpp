// Throughput of the promises model's step function (systems/promises/model): the cost the checker,
// the simulated design and the differential tests pay per request. Requests are built once, outside
// the timed loop, so the numbers are the model's own (parse, validate, converge, handler, records).
#include "promises/model/model.hpp"

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

namespace {

using json = nlohmann::json;

json envelope(const char* kind, json data) {
  return {{"kind", kind}, {"head", {{"corrId", "c"}, {"version", "v"}}}, {"data", std::move(data)}};
}

json create(const std::string& id, json tags) {
  return envelope("promise.create", {{"id", id},
                                     {"timeoutAt", 1'000'000'000},
                                     {"param", {{"data", "cGFyYW0="}}},
                                     {"tags", std::move(tags)}});
}

json settle(const std::string& id) {
  return envelope("promise.settle",
                  {{"id", id}, {"state", "resolved"}, {"value", {{"data", "dmFsdWU="}}}});
}

// Applies `requests` one per iteration, starting again from the empty state when they run out
// (the reset is not timed).
void apply_in_turn(benchmark::State& state, const std::vector<json>& requests) {
  seer::promises::State model;
  std::int64_t now = 0;
  std::size_t next = 0;
  for (auto _ : state) {
    if (next == requests.size()) {
      state.PauseTiming();
      model = {};
      next = 0;
      state.ResumeTiming();
    }
    benchmark::DoNotOptimize(seer::promises::apply(model, requests[next++], ++now));
  }
  state.SetItemsProcessed(state.iterations());
}

// create, get, settle of fresh promises: 3 requests per item.
void BM_PromiseCreateGetSettle(benchmark::State& state) {
  const int n = 4096;
  std::vector<json> requests;
  for (int i = 0; i < n; ++i) {
    const auto id = "p" + std::to_string(i);
    requests.push_back(create(id, json::object()));
    requests.push_back(envelope("promise.get", {{"id", id}}));
    requests.push_back(settle(id));
  }
  apply_in_turn(state, requests);
}
BENCHMARK(BM_PromiseCreateGetSettle);

// task.create (the promise and its acquired task) then task.fulfill: a durable function's
// shortest life.
void BM_TaskCreateFulfill(benchmark::State& state) {
  const int n = 4096;
  std::vector<json> requests;
  for (int i = 0; i < n; ++i) {
    const auto id = "t" + std::to_string(i);
    requests.push_back(
        envelope("task.create", {{"pid", "worker"},
                                 {"ttl", 60'000},
                                 {"action", create(id, {{"resonate:target", "poll://g"}})}}));
    requests.push_back(
        envelope("task.fulfill", {{"id", id}, {"version", 1}, {"action", settle(id)}}));
  }
  apply_in_turn(state, requests);
}
BENCHMARK(BM_TaskCreateFulfill);

}  // namespace
