// A replica of the quorum register. It answers queries with its newest (tag, value) and adopts
// stored values with a newer tag, persisting them before (correct) or after (naive) acknowledging.
#pragma once

#include "seer/sim/env.hpp"

namespace seer::systems::reg {

enum class Durability {
  kSyncBeforeAck,  // correct: fsync, then ack
  kLazyFlush,      // naive: ack at once, flush when idle; a crash can take back an acked write
};

sim::Task<void> run_replica(sim::Env& env, Durability durability);

}  // namespace seer::systems::reg
