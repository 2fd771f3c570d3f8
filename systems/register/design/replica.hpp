// A replica of the quorum register. It answers queries with its newest (tag, value) and adopts
// stored values with a newer tag, persisting them before (correct) or after (naive) acknowledging.
#pragma once

#include "seer/sim/env.hpp"

namespace seer::systems::reg {

enum class Durability {
  kSyncBeforeAck,  // correct: fsync, then ack
  kLazyFlush,      // naive: ack at once, flush when idle; a crash can take back an acked write
};

// What a replica answers to a store whose tag is not newer than its own (a retransmission, or a
// read's write-back of the value it already holds).
enum class StaleStore {
  kAck,     // correct: acknowledge; the store is already done
  kIgnore,  // the progress bug (variant acks-only-newer): silence, so the sender never hears
};

sim::Task<void> run_replica(sim::Env& env, Durability durability,
                            StaleStore stale_store = StaleStore::kAck);

}  // namespace seer::systems::reg
