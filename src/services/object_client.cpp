// The object store's wire messages and client (object_client.hpp).
#include "seer/services/object_client.hpp"

namespace seer::services {

const char* object_op_name(ObjectOp op) {
  switch (op) {
    case ObjectOp::kGet:
      return "get";
    case ObjectOp::kPut:
      return "put";
    case ObjectOp::kDelete:
      return "delete";
    case ObjectOp::kList:
      return "list";
  }
  return "?";
}

const char* object_status_name(ObjectStatus s) {
  switch (s) {
    case ObjectStatus::kOk:
      return "ok";
    case ObjectStatus::kNotFound:
      return "not_found";
    case ObjectStatus::kPreconditionFailed:
      return "precondition_failed";
  }
  return "?";
}

nlohmann::json ObjectRequest::to_json() const {
  nlohmann::json j = {{"req", req}, {"op", object_op_name(op)}, {"key", key}};
  if (op == ObjectOp::kPut) {
    j["body"] = body;
    if (precondition == Precondition::kIfMatch) j["if_match"] = etag;
    if (precondition == Precondition::kIfNoneMatch) j["if_none_match"] = "*";
  }
  return j;
}

nlohmann::json ObjectReply::to_json() const {
  return {{"req", req},   {"status", object_status_name(status)},
          {"body", body}, {"etag", etag},
          {"keys", keys}, {"serial", serial}};
}

sim::Task<ObjectResult> ObjectClient::call(sim::CodeSite at, ObjectOp op, std::string key,
                                           nlohmann::json body, Precondition p, std::int64_t etag) {
  const auto reply = co_await request_at(at, op, std::move(key), std::move(body), p, etag);
  if (!reply) {
    ObjectResult timed_out;
    timed_out.timed_out = true;
    co_return timed_out;
  }
  co_return ObjectResult{false, reply->status, reply->body, reply->etag, reply->keys};
}

sim::Task<ObjectResult> ObjectClient::get(std::string key, sim::CodeSite at) {
  return call(at, ObjectOp::kGet, std::move(key), nullptr, Precondition::kNone, 0);
}
sim::Task<ObjectResult> ObjectClient::put(std::string key, nlohmann::json body, Precondition p,
                                          std::int64_t etag, sim::CodeSite at) {
  return call(at, ObjectOp::kPut, std::move(key), std::move(body), p, etag);
}
sim::Task<ObjectResult> ObjectClient::remove(std::string key, sim::CodeSite at) {
  return call(at, ObjectOp::kDelete, std::move(key), nullptr, Precondition::kNone, 0);
}
sim::Task<ObjectResult> ObjectClient::list(std::string prefix, sim::CodeSite at) {
  return call(at, ObjectOp::kList, std::move(prefix), nullptr, Precondition::kNone, 0);
}

}  // namespace seer::services
