// A simulated message queue with at-least-once delivery, like Cloud Tasks, SQS or a JetStream
// work queue. Consumers pull: `receive` hands out the oldest visible message and hides it for a
// visibility timeout; `ack` removes it; a message not acked in time is delivered again. Within its
// contract the queue may also deliver a message twice at once (the `duplicate` fault) and out of
// order (the `reorder` fault). Contract and annotations: docs/services.md.
#pragma once

#include "seer/services/queue_client.hpp"
#include "seer/sim/simulator.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace seer::services {

struct QueueConfig {
  sim::Duration visibility_timeout = sim::milliseconds(100);
  sim::Duration overdue_after = sim::milliseconds(200);  // oracle: visible this long, undelivered
};

// The queue's ground truth, for invariants and oracles only.
struct QueueTruth {
  struct Entry {
    nlohmann::json body;
    sim::Time visible_at = 0;  // first moment it may be delivered (moves on each delivery)
    sim::Time ready_at = 0;    // when the enqueue delay ended
    int deliveries = 0;
    bool acked = false;
  };
  std::map<std::int64_t, Entry> messages;  // by id, in enqueue order
  std::int64_t next_id = 1;
};

struct QueueService {
  sim::ProcessId process;
  std::shared_ptr<const QueueTruth> truth;
};

// Adds the queue as process `name` (not crashable: a durable managed service). Adds its annotator.
QueueService add_queue_service(sim::Simulator& sim, const std::string& name,
                               const QueueConfig& config = {});

}  // namespace seer::services
