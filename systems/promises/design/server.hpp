// A stateless promises server: it keeps nothing between requests. Each request is applied to its
// origin's partition, read from the KV store, with the spec's model as the step function; a changed
// partition is written back (blindly or by compare-and-set, per variant) before the response and
// the emitted messages leave. Every kSweepEvery it sweeps each partition (debug.tick, spec §3.3).
#pragma once

#include "design.hpp"

#include "seer/sim/env.hpp"
#include "seer/sim/task.hpp"

#include <deque>
#include <functional>
#include <memory>

namespace seer::promises::design {

class PartitionStore;

struct ServerConfig {
  Variant variant;
  std::shared_ptr<const Deployment> deployment;
  sim::HistoryRecorder* history = nullptr;  // if set, the sweeps are operations of the history too
  std::shared_ptr<HistoryIds> ids;          // numbers the sweeps' history processes
  // Model time = epoch_ms + the Env's clock in ms. Simulation: kEpochMs; production: the wall
  // clock when the server started (the Env's clock is monotonic from there).
  std::int64_t epoch_ms = kEpochMs;
  // How often the server sweeps (debug.tick on what is due); 0: never (a test that must know
  // every state change).
  sim::Duration sweep_every = kSweepEvery;
  // Makes the store a server life keeps σ in. Required: production passes its database;
  // simulation passes simulated_store() (partition_store.hpp), the variant's simulated KV or SQL
  // service, whose client keeps replies that are not its own in `stash`.
  std::function<std::unique_ptr<PartitionStore>(sim::Env& env, std::deque<sim::Message>* stash)>
      make_store = nullptr;
};

sim::Task<void> run_server(sim::Env& env, ServerConfig config);

}  // namespace seer::promises::design
