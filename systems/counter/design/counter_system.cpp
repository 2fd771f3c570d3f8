// The counter as a seer system: three clients increment one counter in the simulated KV store. The
// oracle compares the store's true value with what the clients were told.
#include "counter_system.hpp"

#include "counter_client.hpp"

#include <memory>

namespace seer::systems::counter {

namespace {

constexpr int kClients = 3;

struct Oracle {
  std::int64_t acked = 0;    // increments acknowledged to a client
  std::int64_t unknown = 0;  // increments that ended in a timeout
  int in_progress = 0;       // increments started and not yet ended
};

Strategy strategy_of(const std::string& variant) {
  if (variant == "naive") return Strategy::kNaive;
  if (variant == "cas-retry") return Strategy::kCasRetry;
  return Strategy::kCas;
}

class CounterSystem final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"counter",
            "three clients increment one counter kept in a KV store (read-modify-write)",
            {"naive", "cas-retry", "cas"},
            {{"increments-counted-once",
              "acked <= counter <= acked + unknown + in progress: no acknowledged increment is "
              "lost and none is applied twice"}},
            {{"kv", services::kv_implementations()}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const auto kv =
        services::add_kv_service(sim, "kv", services::kv_config(sim.config().service_or("kv")));
    auto oracle = std::make_shared<Oracle>();
    auto& history = sim.history();
    const int clients = sim.config().clients_or(kClients);
    for (int c = 0; c < clients; ++c) {
      CounterClientConfig config;
      config.id = c;
      config.clients = kClients;  // the stride of history process ids
      config.increments = sim.config().ops / clients + (c < sim.config().ops % clients ? 1 : 0);
      config.strategy = strategy_of(variant);
      config.store = kv.process;
      config.on_start = [oracle](int) { ++oracle->in_progress; };
      config.on_end = [oracle](int, bool acked) {
        --oracle->in_progress;
        ++(acked ? oracle->acked : oracle->unknown);
      };
      sim.add_process(
          "client" + std::to_string(c + 1),
          [&history, config](sim::Env& env) { return run_counter_client(env, history, config); },
          {.crashable = false, .client = true});
    }
    sim.add_invariant(
        "increments-counted-once", [oracle, truth = kv.truth]() -> std::optional<std::string> {
          const auto v = truth->latest("counter");
          const std::int64_t value = v.exists ? v.value.get<std::int64_t>() : 0;
          if (value < oracle->acked) {
            return "the counter is " + std::to_string(value) + " but " +
                   std::to_string(oracle->acked) +
                   " increments were acknowledged: an acknowledged increment was lost";
          }
          if (value > oracle->acked + oracle->unknown + oracle->in_progress) {
            return "the counter is " + std::to_string(value) + " but only " +
                   std::to_string(oracle->acked) + " increments were acknowledged, " +
                   std::to_string(oracle->unknown) + " timed out and " +
                   std::to_string(oracle->in_progress) +
                   " are in progress: an increment was applied twice";
          }
          return std::nullopt;
        });
  }
};

}  // namespace

std::unique_ptr<sim::System> make_counter_system() {
  return std::make_unique<CounterSystem>();
}

}  // namespace seer::systems::counter
