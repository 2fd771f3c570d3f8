// The queue's wire messages and its client, for design code. Needs only Env; the service (which
// needs the Simulator) is in queue.hpp. Contract: docs/services.md.
#pragma once

#include "seer/services/request_client.hpp"
#include "seer/sim/env.hpp"
#include "seer/sim/task.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

namespace seer::services {

enum class QueueOp : std::uint8_t { kEnqueue, kReceive, kAck };
const char* queue_op_name(QueueOp op);

struct QueueRequest final : sim::Payload {
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

struct QueueReply final : sim::Payload {
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

struct QueueResult {
  bool timed_out = false;
  bool found = false;
  std::int64_t message_id = 0;
  nlohmann::json body;
};

// The client side for design code; the rules are RequestClient's (request_client.hpp), as for
// KvClient: a crashable consumer passes `first_request = env.random()`, and a process that also
// serves requests passes a `stash` to keep them.
class QueueClient : private RequestClient<QueueRequest, QueueReply> {
 public:
  // (env, server, timeout, stash = nullptr, first_request = 1)
  using RequestClient::RequestClient;
  // `at`, left to its default, is the design's line of the call (code_site.hpp).
  sim::Task<QueueResult> enqueue(nlohmann::json body, sim::Duration delay = 0,
                                 sim::CodeSite at = sim::CodeSite::here());
  sim::Task<QueueResult> receive(sim::CodeSite at = sim::CodeSite::here());
  sim::Task<QueueResult> ack(std::int64_t message_id, sim::CodeSite at = sim::CodeSite::here());

 private:
  sim::Task<QueueResult> call(sim::CodeSite at, QueueOp op, nlohmann::json body,
                              sim::Duration delay, std::int64_t id);
};

}  // namespace seer::services
