// The quorum register as a seer system: three replicas, three clients, the oracle and the
// invariants.
#include "register_system.hpp"
#include "client.hpp"
#include "record.hpp"
#include "replica.hpp"

#include <algorithm>
#include <functional>
#include <memory>
#include <string_view>

namespace seer::systems::reg {

namespace {

constexpr int kReplicas = 3;
constexpr int kClients = 3;

// What only the simulator knows: the newest write acknowledged to any client.
struct Oracle {
  Tag max_acked;
  std::int64_t max_acked_value = 0;
  bool any_acked = false;
  std::optional<std::int64_t> final_read;  // what the final read returned, once it did
};

// The newest valid record a replica would recover right now (its disk after any crash took its
// toll). Keys sort as their tags do (record_key: the sequence number zero-padded, then the
// writer), so it is the first valid record from the top: this runs after every event, and
// decoding every version the replica ever stored made long runs quadratic (16,000 ops: 49 s).
std::optional<Record> recoverable(const sim::Simulator& sim, sim::ProcessId replica) {
  const auto disk = sim.disk(replica);
  std::vector<std::string_view> pending;  // unsynced writes and erasures, few
  pending.reserve(disk.pending->size());
  for (const auto& [k, v] : *disk.pending) pending.emplace_back(k);
  std::sort(pending.begin(), pending.end(), std::greater<>());
  auto durable = disk.durable->rbegin();
  auto unsynced = pending.begin();
  while (durable != disk.durable->rend() || unsynced != pending.end()) {
    const bool take_durable = unsynced == pending.end() ||
                              (durable != disk.durable->rend() && durable->first > *unsynced);
    const std::string key(take_durable ? std::string_view((durable++)->first) : *unsynced++);
    if (const auto bytes = disk.current(key)) {
      if (auto record = decode_record(*bytes)) return record;
    }
  }
  return std::nullopt;
}

class RegisterSystem final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    sim::SystemInfo info{
        "register",
        "ABD quorum register: 3 replicas, clients coordinate reads (with write-back) and writes",
        {"naive", "correct", "acks-only-newer"},
        {{"acked-write-durable",
          "every acknowledged write is recoverable from a majority of replicas' disks"}}};
    info.history_model = "register";
    info.history_init = "0";
    info.liveness = {{"final-read-returns",
                      "within 2 s of the heal a read (the final reader's) returns a value"}};
    return info;
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const auto durability =
        variant == "naive" ? Durability::kLazyFlush : Durability::kSyncBeforeAck;
    // A progress bug, not a safety one: every client's read times out (its write-back of a value
    // the majority holds is never acknowledged), which the history allows; the final read never
    // returns.
    const auto stale_store = variant == "acks-only-newer" ? StaleStore::kIgnore : StaleStore::kAck;
    auto oracle = std::make_shared<Oracle>();
    std::vector<sim::ProcessId> replicas;
    replicas.reserve(kReplicas);
    for (int i = 0; i < kReplicas; ++i) {
      replicas.push_back(sim.add_process("replica" + std::to_string(i + 1),
                                         [durability, stale_store](sim::Env& env) {
                                           return run_replica(env, durability, stale_store);
                                         }));
    }
    // The workload: ops spread over the clients, half reads, writes with unique values.
    const int clients = sim.config().clients_or(kClients);
    std::vector<std::vector<ClientOp>> plans(static_cast<std::size_t>(clients));
    auto& rnd = sim.workload_random();
    for (int i = 0; i < sim.config().ops; ++i) {
      plans[static_cast<std::size_t>(i % clients)].push_back(
          ClientOp{rnd.chance(500'000), static_cast<std::int64_t>(i + 1)});
    }
    auto& history = sim.history();
    for (int c = 0; c < clients; ++c) {
      ClientConfig config{c, kClients, replicas, plans[static_cast<std::size_t>(c)],
                          [oracle](Tag tag, std::int64_t value) {
                            if (!oracle->any_acked || tag > oracle->max_acked) {
                              oracle->max_acked = tag;
                              oracle->max_acked_value = value;
                            }
                            oracle->any_acked = true;
                          }};
      sim.add_process(
          "client" + std::to_string(c + 1),
          [&history, config](sim::Env& env) { return run_client(env, history, config); },
          {.crashable = false, .client = true});
    }

    // Jepsen's final read, in the history like any read: the linearizability check then asks
    // that it sees the newest acknowledged write, whatever the faults lost.
    sim.add_process(
        "final-reader",
        [&history,
         config = FinalReaderConfig{replicas, clients * (sim.config().ops + 1),
                                    [oracle](std::int64_t v) { oracle->final_read = v; }}](
            sim::Env& env) { return run_final_reader(env, history, config); },
        {.crashable = false, .client = true, .starts_at_heal = true});
    sim.add_liveness("final-read-returns", sim::seconds(2),
                     [&sim, oracle, replicas]() -> std::optional<sim::Finding> {
                       if (oracle->final_read) return std::nullopt;
                       int up = 0;
                       for (auto r : replicas) up += sim.is_up(r) ? 1 : 0;
                       return sim::Finding{"no read after the heal returned (" +
                                               std::to_string(up) + " of " +
                                               std::to_string(kReplicas) + " replicas up)",
                                           {"final-reader"}};
                     });

    sim.add_invariant("acked-write-durable",
                      [&sim, oracle, replicas]() -> std::optional<std::string> {
                        if (!oracle->any_acked) return std::nullopt;
                        int holding = 0;
                        for (auto r : replicas) {
                          auto rec = recoverable(sim, r);
                          if (rec && rec->tag >= oracle->max_acked) ++holding;
                        }
                        if (holding * 2 > kReplicas) return std::nullopt;
                        return "write of " + std::to_string(oracle->max_acked_value) + " (tag " +
                               oracle->max_acked.to_json().dump() + ") was acknowledged but only " +
                               std::to_string(holding) + " of " + std::to_string(kReplicas) +
                               " replicas can recover it";
                      });

    // Forbidden facts on every query reply a client receives: was it fresh?
    sim.add_annotator([oracle](sim::TraceEvent& e) {
      if (e.kind != sim::EventKind::kDeliver || !e.payload) return;
      const auto* reply = e.payload->as<QueryReply>();
      if (!reply) return;
      e.oracle["latest_acked_tag"] = oracle->max_acked.to_json();
      e.oracle["latest_acked_value"] = oracle->max_acked_value;
      e.oracle["stale"] = oracle->any_acked && reply->tag < oracle->max_acked;
      if (oracle->any_acked) e.oracle["versions_behind"] = oracle->max_acked.seq - reply->tag.seq;
    });
  }
};

}  // namespace

std::unique_ptr<sim::System> make_register_system() {
  return std::make_unique<RegisterSystem>();
}

}  // namespace seer::systems::reg
