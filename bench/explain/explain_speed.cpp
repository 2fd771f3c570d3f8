// How long `seer explain` takes on a long trace: a promises/final run of N client operations (a
// run that holds, given a violation in its footer naming one promise, so that every detector and
// the story look at the whole trace), read from its JSONL text and explained.
#include "seer/explain/causal_graph.hpp"
#include "seer/explain/explain.hpp"
#include "seer/sim/system.hpp"
#include "seer/systems/builtin.hpp"

#include <benchmark/benchmark.h>

#include <sstream>

namespace {

std::string long_trace(int ops) {
  seer::sim::register_builtin_systems();
  const auto* system = seer::sim::SystemRegistry::instance().find("promises");
  seer::sim::RunConfig config;
  config.seed = 3;
  config.ops = ops;
  config.record_trace = true;
  const auto result = seer::sim::run_system(*system, "final", config);
  std::string text = seer::sim::trace_header(*system, "final", config, result).dump() + "\n";
  for (const auto& line : result.trace_lines) text += line + "\n";
  auto footer = seer::sim::trace_footer(result);
  footer["violation"] = {{"event", result.events},
                         {"invariant", "benchmark"},
                         {"message", "promise o1:7 lost its callback"},
                         {"time", result.end_time}};
  return text + footer.dump() + "\n";
}

void BM_ReadTrace(benchmark::State& state) {
  const auto text = long_trace(static_cast<int>(state.range(0)));
  std::size_t events = 0;
  for (auto _ : state) {
    std::istringstream in(text);
    const auto trace = seer::explain::parse_trace(in, "bench.jsonl");
    events = trace.events.size();
    benchmark::DoNotOptimize(events);
  }
  state.counters["events"] = static_cast<double>(events);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * events));
}

void BM_Explain(benchmark::State& state) {
  const auto text = long_trace(static_cast<int>(state.range(0)));
  std::istringstream in(text);
  const auto trace = seer::explain::parse_trace(in, "bench.jsonl");
  for (auto _ : state) {
    trace.request_index.reset();  // each explain pays for its own indexes
    const seer::explain::CausalGraph graph(trace);
    auto x = seer::explain::explain_trace(trace, graph);
    benchmark::DoNotOptimize(x);
  }
  state.counters["events"] = static_cast<double>(trace.events.size());
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * trace.events.size()));
}

}  // namespace

BENCHMARK(BM_ReadTrace)->Arg(100)->Arg(800)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Explain)->Arg(100)->Arg(800)->Unit(benchmark::kMillisecond);
