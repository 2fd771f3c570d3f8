// A client of the promises service: the SDK's application side and an operator, issuing a random
// mix of every kind over a small pool of ids (so requests race), across a few origins. It holds the
// tasks it creates itself (task.create) and heartbeats, fulfils or releases them. A request the
// protocol makes idempotent by id is sent again once after a timeout.
#pragma once

#include "design.hpp"

#include "seer/sim/env.hpp"
#include "seer/sim/task.hpp"

namespace seer::promises::design {

inline constexpr int kOrigins = 3;            // o1..o3
inline constexpr int kChildrenPerOrigin = 3;  // oK:1..oK:3

struct ClientConfig {
  int ops = 0;
  std::shared_ptr<const Deployment> deployment;
  sim::HistoryRecorder* history = nullptr;
  std::shared_ptr<HistoryIds> ids;
  ResponseObserver observer;
};

// The workload's driver: it does not crash (servers and workers do), like a Jepsen client.
sim::Task<void> run_client(sim::Env& env, ClientConfig config);

}  // namespace seer::promises::design
