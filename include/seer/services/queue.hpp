// A simulated message queue with at-least-once delivery, like Cloud Tasks, SQS or a JetStream
// work queue. Consumers pull: `receive` hands out the oldest visible message and hides it for a
// visibility timeout; `ack` removes it; a message not acked in time is delivered again. Within its
// contract the queue may also deliver a message twice at once (the `duplicate` fault) and out of
// order (the `reorder` fault). Contract and annotations: docs/services.md.
#pragma once

#include "seer/sim/env.hpp"
#include "seer/sim/simulator.hpp"
#include "seer/sim/task.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace seer::services {

enum class QueueOp : std::uint8_t { kEnqueue, kReceive, kAck };
const char* queue_op_name(QueueOp op);

struct QueueRequest : sim::Payload {
  QueueRequest(std::uint64_t r, QueueOp o, nlohmann::json b, sim::Duration d, std::int64_t id)
      : req(r), op(o), body(std::move(b)), delay(d), message_id(id) {}
  std::uint64_t req;
  QueueOp op;
  nlohmann::json body;      // enqueue
  sim::Duration delay;      // enqueue: not deliverable before now + delay
  std::int64_t message_id;  // ack
  std::string_view type() const override { return "queue_request"; }
  nlohmann::json to_json() const override;
};

struct QueueReply : sim::Payload {
  QueueReply(std::uint64_t r, bool f, std::int64_t id, nlohmann::json b, std::uint64_t n)
      : req(r), found(f), message_id(id), body(std::move(b)), serial(n) {}
  std::uint64_t req;
  bool found;               // receive: a message was handed out (false: nothing visible)
  std::int64_t message_id;  // enqueue: the new id; receive: the message's id
  nlohmann::json body;      // receive
  std::uint64_t serial;     // oracle facts are filed under it
  std::string_view type() const override { return "queue_reply"; }
  nlohmann::json to_json() const override;
};

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

struct QueueResult {
  bool timed_out = false;
  bool found = false;
  std::int64_t message_id = 0;
  nlohmann::json body;
};

// The client side for design code; same rules as KvClient (one request at a time, no retries).
class QueueClient {
 public:
  QueueClient(sim::Env& env, sim::ProcessId server, sim::Duration timeout)
      : env_(env), server_(server), timeout_(timeout) {}
  sim::Task<QueueResult> enqueue(nlohmann::json body, sim::Duration delay = 0);
  sim::Task<QueueResult> receive();
  sim::Task<QueueResult> ack(std::int64_t message_id);

 private:
  sim::Task<QueueResult> call(QueueOp op, nlohmann::json body, sim::Duration delay,
                              std::int64_t id);
  sim::Env& env_;
  sim::ProcessId server_;
  sim::Duration timeout_;
  std::uint64_t next_req_ = 1;
};

}  // namespace seer::services
