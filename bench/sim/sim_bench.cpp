// Simulator throughput: delivered messages per second of wall time, and simulated-to-wall time
// ratio.
#include "seer/sim/system.hpp"
#include "seer/systems/builtin.hpp"

#include <benchmark/benchmark.h>

#include <map>
#include <string>

namespace seer::sim {
namespace {

struct Ping : Payload {
  explicit Ping(std::int64_t n) : n(n) {}
  std::int64_t n;
  std::string_view type() const override { return "ping"; }
  nlohmann::json to_json() const override { return {{"n", n}}; }
};

RunConfig no_faults() {
  RunConfig c;
  c.faults = std::vector<FaultKind>{};
  c.max_events = 1'000'000'000;
  return c;
}

// Two processes bounce one message back and forth `rounds` times.
void BM_PingPong(benchmark::State& state) {
  const std::int64_t rounds = state.range(0);
  std::uint64_t delivered = 0;
  for (auto _ : state) {
    Simulator sim(no_faults());
    auto payload = make_payload<Ping>(0);
    ProcessId echo = sim.add_process("echo", [](Env& env) -> Task<void> {
      for (;;) {
        auto m = co_await env.receive();
        env.send(m.from, m.body);
      }
    });
    sim.add_process("pinger",
                    [&, echo](Env& env) -> Task<void> {
                      for (std::int64_t i = 0; i < rounds; ++i) {
                        env.send(echo, payload);
                        co_await env.receive();
                      }
                    },
                    {.crashable = false, .client = true});
    delivered += sim.run().delivered;
  }
  state.counters["delivered_per_s"] =
      benchmark::Counter(static_cast<double>(delivered), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_PingPong)->Arg(100'000)->Unit(benchmark::kMillisecond);

// A coordinator sends to 4 workers and waits for all 4 replies, `rounds` times.
void BM_FanOut5(benchmark::State& state) {
  const std::int64_t rounds = state.range(0);
  std::uint64_t delivered = 0;
  for (auto _ : state) {
    Simulator sim(no_faults());
    auto payload = make_payload<Ping>(0);
    std::vector<ProcessId> workers;
    for (int w = 0; w < 4; ++w) {
      workers.push_back(sim.add_process("worker" + std::to_string(w), [](Env& env) -> Task<void> {
        for (;;) {
          auto m = co_await env.receive();
          env.send(m.from, m.body);
        }
      }));
    }
    sim.add_process("coordinator",
                    [&](Env& env) -> Task<void> {
                      for (std::int64_t i = 0; i < rounds; ++i) {
                        for (auto w : workers) env.send(w, payload);
                        for (std::size_t k = 0; k < workers.size(); ++k) co_await env.receive();
                      }
                    },
                    {.crashable = false, .client = true});
    delivered += sim.run().delivered;
  }
  state.counters["delivered_per_s"] =
      benchmark::Counter(static_cast<double>(delivered), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_FanOut5)->Arg(25'000)->Unit(benchmark::kMillisecond);

// One full run of a system with swarm faults (50 ops, seeds 1, 2, ...): runs per second, events per
// second and virtual seconds per wall second. Includes the system's history check, if any.
void run_system_bench(benchmark::State& state, const char* name, const char* variant,
                      std::map<std::string, std::string> services = {}) {
  register_builtin_systems();
  const auto& system = *SystemRegistry::instance().find(name);
  std::uint64_t seed = 1;
  double virtual_ns = 0;
  std::uint64_t events = 0;
  for (auto _ : state) {
    RunConfig c;
    c.seed = seed++;
    c.services = services;
    auto r = run_system(system, variant, c);
    virtual_ns += static_cast<double>(r.end_time);
    events += r.events;
  }
  state.counters["runs_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["sim_to_wall"] = benchmark::Counter(virtual_ns / 1e9, benchmark::Counter::kIsRate);
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}

// The simulated services, each through the system that exercises it.
void BM_KvContractRun(benchmark::State& s) {
  run_system_bench(s, "kv-contract", "default");
}
void BM_KvContractStaleRun(benchmark::State& s) {
  run_system_bench(s, "kv-contract", "default", {{"kv", "stale"}});
}
void BM_ObjectContractRun(benchmark::State& s) {
  run_system_bench(s, "object-contract", "default");
}
void BM_CounterCasRun(benchmark::State& s) {
  run_system_bench(s, "counter", "cas");
}
void BM_JobsClaimRun(benchmark::State& s) {
  run_system_bench(s, "jobs", "claim");
}
void BM_SegmentsRun(benchmark::State& s) {
  run_system_bench(s, "segments", "if-none-match");
}
void BM_BankIdempotentRun(benchmark::State& s) {
  run_system_bench(s, "bank", "idempotent");
}
void BM_PromisesFinalRun(benchmark::State& s) {
  run_system_bench(s, "promises", "final", {});
}
void BM_SqlContractRun(benchmark::State& s) {
  run_system_bench(s, "sql-contract", "default");
}
BENCHMARK(BM_KvContractRun)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_KvContractStaleRun)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ObjectContractRun)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_CounterCasRun)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_JobsClaimRun)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SegmentsRun)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_BankIdempotentRun)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SqlContractRun)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_PromisesFinalRun)->Unit(benchmark::kMicrosecond);

// One full register run with swarm faults: runs per second and virtual seconds per wall second.
void BM_RegisterRun(benchmark::State& state) {
  register_builtin_systems();
  const auto& system = *SystemRegistry::instance().find("register");
  std::uint64_t seed = 1;
  double virtual_ns = 0;
  std::uint64_t events = 0;
  for (auto _ : state) {
    RunConfig c;
    c.seed = seed++;
    auto r = run_system(system, "correct", c);
    virtual_ns += static_cast<double>(r.end_time);
    events += r.events;
  }
  state.counters["runs_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["sim_to_wall"] = benchmark::Counter(virtual_ns / 1e9, benchmark::Counter::kIsRate);
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_RegisterRun)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace seer::sim
