// The linearizability check of the promises design's histories (the `linearizable` invariant every
// seed of `seer sweep promises` pays), on the histories of seeds 1..100 of a variant.
#include "seer/check/history.hpp"
#include "seer/check/linearizability.hpp"
#include "seer/sim/system.hpp"
#include "seer/systems/builtin.hpp"

#include <benchmark/benchmark.h>

namespace {

std::vector<std::vector<seer::check::Operation>> histories(const char* variant) {
  seer::sim::register_builtin_systems();
  const auto& system = *seer::sim::SystemRegistry::instance().find("promises");
  std::vector<std::vector<seer::check::Operation>> out;
  for (std::uint64_t seed = 1; seed <= 100; ++seed) {
    seer::sim::RunConfig c;
    c.seed = seed;
    const auto r = seer::sim::run_system(system, variant, c);
    std::vector<nlohmann::json> events;
    std::vector<std::size_t> lines;
    for (const auto& e : r.history) {
      events.push_back(seer::sim::history_entry_to_json(e));
      lines.push_back(events.size());
    }
    out.push_back(seer::check::pair_operations(events, lines, "history"));
  }
  return out;
}

// Arg 0: the final design (linearizable histories); 1: cas (most are violations, which the search
// must prove by exhausting the possibilities).
void BM_CheckDesignHistories(benchmark::State& state) {
  const auto all = histories(state.range(0) == 0 ? "final" : "cas");
  std::size_t ops = 0;
  for (const auto& h : all) ops += h.size();
  seer::check::CheckOptions options;
  options.max_steps = seer::check::kSimulatedRunSteps;
  for (auto _ : state) {
    for (const auto& h : all) {
      auto model = seer::check::make_model("promises");
      benchmark::DoNotOptimize(seer::check::check_linearizable(h, *model, options));
    }
  }
  state.counters["histories_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * all.size()), benchmark::Counter::kIsRate);
  state.counters["ops_per_history"] = static_cast<double>(ops) / static_cast<double>(all.size());
}
BENCHMARK(BM_CheckDesignHistories)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

}  // namespace
