// The fenced-lock client (fenced_lock.cpp), shared by the simulated system and the real-process
// client (node/client_main.cpp): the same coroutine runs on the simulator's Env and on a TcpNode.
#pragma once

#include "seer/sim/env.hpp"
#include "seer/sim/history.hpp"
#include "seer/sim/task.hpp"

#include <string>

namespace fenced_lock {

constexpr int kClients = 3;

enum class Fencing { kNone, kWrites, kReadsAndWrites };
// "lease-only", "fenced-writes" or "fenced".
Fencing fencing_of(const std::string& variant);

struct ClientConfig {
  int id = 0;  // the history's process number
  int increments = 0;
  Fencing fencing = Fencing::kNone;
  seer::sim::ProcessId locks = 0;
  seer::sim::ProcessId db = 0;
};

// One client: `increments` increments of the counter in `db`, each under a lease in `locks`.
seer::sim::Task<void> run_client(seer::sim::Env& env, seer::sim::HistoryRecorder& history,
                                 ClientConfig config);

}  // namespace fenced_lock
