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
// A long-lived workflow's timeout: an hour, past any run (max 600 s) and its heal.
inline constexpr std::int64_t kLongTimeoutMs = 3'600'000;

struct ClientConfig {
  int ops = 0;
  // The next operation's number, shared by the client's lives: the workload, like Jepsen's
  // generator, lives outside the process, so a crash loses the operation in flight, not the plan.
  std::shared_ptr<int> next_op = std::make_shared<int>(0);
  std::shared_ptr<const Deployment> deployment;
  sim::HistoryRecorder* history = nullptr;
  std::shared_ptr<HistoryIds> ids;
  ResponseObserver observer;
};

// The workload's driver. It crashes and restarts like every other process; what was in flight
// stays open in the history (outcome unknown).
sim::Task<void> run_client(sim::Env& env, ClientConfig config);

}  // namespace seer::promises::design
