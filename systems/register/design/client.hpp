// A client of the quorum register, acting as the ABD coordinator for its own operations: a write
// queries a majority for the newest tag then stores a higher one on a majority; a read queries a
// majority then writes the newest value back to a majority before returning it.
#pragma once

#include "messages.hpp"
#include "seer/sim/env.hpp"
#include "seer/sim/history.hpp"

#include <functional>
#include <vector>

namespace seer::systems::reg {

struct ClientOp {
  bool write = false;
  std::int64_t value = 0;
};

struct ClientConfig {
  int id = 0;       // also the tag's writer id
  int clients = 1;  // history process = id + clients * (ops that timed out so far)
  std::vector<sim::ProcessId> replicas;
  std::vector<ClientOp> ops;
  // Tells the oracle which tag an acknowledged write got (simulation bookkeeping; no effect on the
  // run).
  std::function<void(Tag, std::int64_t)> on_write_acked;
};

sim::Task<void> run_client(sim::Env& env, sim::HistoryRecorder& history, ClientConfig config);

// Jepsen's final read: once the faults stopped, read until a read returns. History processes
// first_process, first_process + 1, ... (one per try: a timed-out try's outcome is unknown).
struct FinalReaderConfig {
  std::vector<sim::ProcessId> replicas;
  int first_process = 0;
  std::function<void(std::int64_t)> on_read;  // the simulation's bookkeeping: the value read
};

sim::Task<void> run_final_reader(sim::Env& env, sim::HistoryRecorder& history,
                                 FinalReaderConfig config);

}  // namespace seer::systems::reg
