// The KV store's contract as a runnable system: clients issue random gets, puts, creates, updates
// and deletes straight at the simulated store and record what they saw at its boundary. With
// --service kv=linearizable the history must be linearizable; with kv=stale it is not, and the
// oracle marks every read a lagging follower served.
#include "kv_contract_system.hpp"

#include "common/linearizable_check.hpp"
#include "seer/services/kv.hpp"

#include <map>

namespace seer::systems::kvc {

namespace {

constexpr int kClients = 3;
constexpr sim::Duration kTimeout = sim::milliseconds(100);
const char* const kKeys[] = {"x", "y"};

struct Known {
  nlohmann::json value;
  std::int64_t revision = 0;
};

// History values use Jepsen's independent form, [key value], so the `kv` model checks each key on
// its own. Written values are unique, so an update's expected revision stands for exactly one
// value and the update is a cas [old new]; a create is a cas [nil new].
sim::Task<void> run_client(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId store,
                           int id, int ops) {
  services::KvClient kv(env, store, kTimeout);
  std::map<std::string, Known> known;
  int process = id;
  std::int64_t next_value = static_cast<std::int64_t>(id + 1) * 1'000'000;
  for (int i = 0; i < ops; ++i) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 2'000'000));
    const std::string key = kKeys[env.random() % 2];
    const auto roll = env.random() % 100;
    const auto it = known.find(key);
    nlohmann::json entry = nlohmann::json::array({key, nullptr});
    services::KvResult r;
    std::string f;
    if (roll < 40 || (roll >= 80 && roll < 95 && it == known.end())) {
      f = "read";
      history.invoke(process, f, entry);
      r = co_await kv.get(key);
      if (!r.timed_out) {
        entry[1] = r.value;
        known[key] = Known{r.value, r.revision};
      }
    } else if (roll < 65) {
      f = "write";
      entry[1] = ++next_value;
      history.invoke(process, f, entry);
      r = co_await kv.put(key, entry[1]);
    } else if (roll < 80) {
      f = "cas";
      entry[1] = nlohmann::json::array({nullptr, ++next_value});
      history.invoke(process, f, entry);
      r = co_await kv.create(key, entry[1][1]);
    } else if (roll < 95) {
      f = "cas";
      entry[1] = nlohmann::json::array({it->second.value, ++next_value});
      history.invoke(process, f, entry);
      r = co_await kv.update(key, entry[1][1], it->second.revision);
    } else {
      f = "write";
      history.invoke(process, f, entry);
      r = co_await kv.remove(key);
    }
    if (r.timed_out) {
      history.complete(process, sim::OpType::kInfo, f, entry, "timeout");
      process += kClients;  // outcome unknown: this process is done (Jepsen convention)
    } else if (f == "cas" && !r.ok()) {
      history.complete(process, sim::OpType::kFail, f, entry, services::kv_status_name(r.status));
    } else {
      history.complete(process, sim::OpType::kOk, f, entry);
    }
  }
}

class KvContractSystem final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"kv-contract",
            "the simulated KV store's contract: random get/put/create/update/delete at its "
            "boundary, checked for linearizability",
            {"default"},
            {{"linearizable", "the store's boundary history is linearizable (kv model)"}},
            {{"kv", services::kv_implementations()}}};
  }

  void setup(sim::Simulator& sim, const std::string& /*variant*/) const override {
    const auto it = sim.config().services.find("kv");
    const auto store =
        services::add_kv_service(
            sim, "kv", services::kv_config(it == sim.config().services.end() ? "" : it->second))
            .process;
    auto& history = sim.history();
    const int ops = sim.config().ops;
    for (int c = 0; c < kClients; ++c) {
      const int share = ops / kClients + (c < ops % kClients ? 1 : 0);
      sim.add_process("client" + std::to_string(c + 1),
                      [&history, store, c, share](sim::Env& env) {
                        return run_client(env, history, store, c, share);
                      },
                      {.crashable = false, .client = true});
    }
  }

  std::optional<std::pair<std::string, std::string>> check_history(
      const std::vector<sim::HistoryEntry>& history) const override {
    return check_linearizable_history(history, "kv", "");
  }
};

}  // namespace

std::unique_ptr<sim::System> make_kv_contract_system() {
  return std::make_unique<KvContractSystem>();
}

}  // namespace seer::systems::kvc
