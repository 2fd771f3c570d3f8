// A client that increments a shared counter kept in the KV store under key "counter".
#pragma once

#include "seer/services/kv.hpp"
#include "seer/sim/history.hpp"

#include <functional>

namespace seer::systems::counter {

enum class Strategy {
  kNaive,     // get, then put value+1: concurrent increments overwrite each other
  kCasRetry,  // get, then update-if-revision; on conflict or timeout, start over
  kCas,       // as kCasRetry, but a timeout ends the increment as outcome-unknown
};

struct CounterClientConfig {
  int id = 0;
  int clients = 1;
  int increments = 0;
  Strategy strategy = Strategy::kNaive;
  sim::ProcessId store = sim::kNoProcess;
  // Simulation bookkeeping for the oracle (no effect on the run): an increment began, or ended
  // with its outcome (ok, or unknown after a timeout).
  std::function<void(int client)> on_start;
  std::function<void(int client, bool acked)> on_end;
};

sim::Task<void> run_counter_client(sim::Env& env, sim::HistoryRecorder& history,
                                   CounterClientConfig config);

}  // namespace seer::systems::counter
