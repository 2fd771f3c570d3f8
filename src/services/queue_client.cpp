// The queue's wire messages and client (queue_client.hpp).
#include "seer/services/queue_client.hpp"

namespace seer::services {

const char* queue_op_name(QueueOp op) {
  switch (op) {
    case QueueOp::kEnqueue:
      return "enqueue";
    case QueueOp::kReceive:
      return "receive";
    case QueueOp::kAck:
      return "ack";
  }
  return "?";
}

nlohmann::json QueueRequest::to_json() const {
  nlohmann::json j = {{"req", req}, {"op", queue_op_name(op)}};
  if (op == QueueOp::kEnqueue) {
    j["body"] = body;
    j["delay_ns"] = delay;
  }
  if (op == QueueOp::kAck) j["message_id"] = message_id;
  return j;
}

nlohmann::json QueueReply::to_json() const {
  return {{"req", req},
          {"found", found},
          {"message_id", message_id},
          {"body", body},
          {"serial", serial}};
}

sim::Task<QueueResult> QueueClient::call(sim::CodeSite at, QueueOp op, nlohmann::json body,
                                         sim::Duration delay, std::int64_t id) {
  const auto reply = co_await request_at(at, op, std::move(body), delay, id);
  if (!reply) {
    QueueResult timed_out;
    timed_out.timed_out = true;
    co_return timed_out;
  }
  co_return QueueResult{false, reply->found, reply->message_id, reply->body};
}

sim::Task<QueueResult> QueueClient::enqueue(nlohmann::json body, sim::Duration delay,
                                            sim::CodeSite at) {
  return call(at, QueueOp::kEnqueue, std::move(body), delay, 0);
}
sim::Task<QueueResult> QueueClient::receive(sim::CodeSite at) {
  return call(at, QueueOp::kReceive, nullptr, 0, 0);
}
sim::Task<QueueResult> QueueClient::ack(std::int64_t message_id, sim::CodeSite at) {
  return call(at, QueueOp::kAck, nullptr, 0, message_id);
}

}  // namespace seer::services
