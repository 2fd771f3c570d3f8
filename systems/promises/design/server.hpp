// A stateless promises server: it keeps nothing between requests. Each request is applied to its
// origin's partition, read from the KV store, with the spec's model as the step function; a changed
// partition is written back (blindly or by compare-and-set, per variant) before the response and
// the emitted messages leave. Every kSweepEvery it sweeps each partition (debug.tick, spec §3.3).
#pragma once

#include "design.hpp"

#include "seer/sim/env.hpp"
#include "seer/sim/task.hpp"

namespace seer::promises::design {

struct ServerConfig {
  Variant variant;
  std::shared_ptr<const Deployment> deployment;
  sim::HistoryRecorder* history = nullptr;  // the sweeps are operations of the history too
  std::shared_ptr<HistoryIds> ids;
};

sim::Task<void> run_server(sim::Env& env, ServerConfig config);

}  // namespace seer::promises::design
