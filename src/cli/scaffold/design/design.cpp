// @NAME@: a counter service. Clients send `Increment{req}` and wait for `Incremented{req, value}`,
// sending the same request again when no answer comes in time; the server keeps the counter on
// its durable storage and syncs before answering (spec.md).
//
// Variants: `naive` applies every increment it receives, so a retried or duplicated request is
// applied twice; `dedupe` remembers each applied request (durably, with the counter) and answers
// a repeat without applying it again.
#include "seer/sim/env.hpp"
#include "seer/sim/system.hpp"

#include <memory>
#include <string>

namespace @NAME_ID@ {

using namespace seer;

struct Increment : sim::Payload {
  explicit Increment(std::uint64_t r) : req(r) {}
  std::uint64_t req;
  std::string_view type() const override { return "increment"; }
  nlohmann::json to_json() const override { return {{"req", req}}; }
};

struct Incremented : sim::Payload {
  Incremented(std::uint64_t r, std::int64_t v) : req(r), value(v) {}
  std::uint64_t req;
  std::int64_t value;
  std::string_view type() const override { return "incremented"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"value", value}}; }
};

std::int64_t stored_counter(const std::optional<std::string>& text) {
  return text ? std::stoll(*text) : 0;
}

sim::Task<void> run_server(sim::Env& env, bool dedupe) {
  for (;;) {
    const auto m = co_await env.receive();
    const auto* inc = m.as<Increment>();
    if (!inc) continue;
    auto value = stored_counter(env.storage().get("counter"));
    const auto seen = "seen/" + std::to_string(m.from) + "/" + std::to_string(inc->req);
    if (!dedupe || !env.storage().get(seen)) {
      ++value;
      env.storage().put("counter", std::to_string(value));
      if (dedupe) env.storage().put(seen, "1");
      co_await env.sync();  // durable before it is acknowledged
    }
    env.send(m.from, std::make_shared<Incremented>(inc->req, value));
  }
}

// What the oracle knows of the clients: increments acknowledged and in progress.
struct Counts {
  std::int64_t acked = 0;
  std::int64_t in_progress = 0;
};

sim::Task<void> run_client(sim::Env& env, sim::ProcessId server, int increments,
                           std::shared_ptr<Counts> counts) {
  for (int i = 0; i < increments; ++i) {
    const std::uint64_t req = env.random();  // unique across clients and lives
    ++counts->in_progress;
    for (;;) {
      env.send(server, std::make_shared<Increment>(req));
      const auto reply = co_await env.receive_for(sim::milliseconds(30));
      const auto* done = reply ? reply->as<Incremented>() : nullptr;
      if (done && done->req == req) break;  // otherwise: no answer in time, send it again
    }
    --counts->in_progress;
    ++counts->acked;
  }
}

class CounterSystem final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    sim::SystemInfo info;
    info.name = "@NAME@";
    info.description = "clients increment a counter held by one server, retrying on timeouts";
    info.variants = {"naive", "dedupe"};  // the first is the default
    info.invariants = {{"each-increment-once",
                        "acknowledged <= counter <= acknowledged + in progress"}};
    // A history model checks the clients' operations for linearizability (seer check --help
    // lists the models): set info.history_model and record invoke/complete with sim.history().
    return info;
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool dedupe = variant == "dedupe";
    const auto server = sim.add_process(
        "server", [dedupe](sim::Env& env) { return run_server(env, dedupe); });
    auto counts = std::make_shared<Counts>();
    constexpr int kClients = 3;
    const int clients = sim.config().clients_or(kClients);
    for (int c = 0; c < clients; ++c) {
      const int share = sim.config().ops / clients;
      sim.add_process(
          "client" + std::to_string(c + 1),
          [server, share, counts](sim::Env& env) {
            return run_client(env, server, share, counts);
          },
          {.crashable = false, .client = true});
    }
    // The invariant reads the server's disk as only the simulator can: the counter it would
    // read after a crash, and what is still unsynced.
    sim.add_invariant("each-increment-once", [&sim, server, counts]() -> std::optional<std::string> {
      const auto counter = stored_counter(sim.disk(server).current("counter"));
      if (counter > counts->acked + counts->in_progress) {
        return "the counter is " + std::to_string(counter) + " but only " +
               std::to_string(counts->acked) + " increments were acknowledged and " +
               std::to_string(counts->in_progress) + " are in progress: one was applied twice";
      }
      return std::nullopt;
    });
  }
};

SEER_REGISTER_SYSTEM(std::make_unique<CounterSystem>());

}  // namespace @NAME_ID@
