// A simulated key-value store with revisions and compare-and-set, like etcd or NATS JetStream KV.
// Designs talk to it through messages (KvClient wraps them); the store keeps every revision so the
// oracle knows, for each response, what the latest value really was. Contract: docs/services.md.
#pragma once

#include "seer/services/kv_client.hpp"
#include "seer/services/versioned_store.hpp"
#include "seer/sim/simulator.hpp"

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace seer::services {

// How the store serves reads. Writes are always linearizable (they go through the leader).
struct KvConfig {
  bool stale_reads = false;
  // Stale reads: how many store revisions behind the served view may be (0: unbounded).
  std::int64_t max_lag = 0;
  // Stale reads: the share of reads a lagging follower serves (the rest are fresh).
  std::uint32_t follower_ppm = 500'000;
};
// "linearizable" (default), "stale-bounded" (at most 3 revisions behind), "stale" (unbounded).
KvConfig kv_config(const std::string& implementation);
std::vector<std::string> kv_implementations();

struct KvService {
  sim::ProcessId process;
  // The store's ground truth, for invariants and oracles only: design code never sees it.
  std::shared_ptr<const VersionedStore> truth;
};

// Adds the store as process `name` (not crashable: it stands for a replicated, durable service;
// its faults are lost responses and the network's). Adds the oracle annotator.
KvService add_kv_service(sim::Simulator& sim, const std::string& name, const KvConfig& config);

}  // namespace seer::services
