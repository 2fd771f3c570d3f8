// The KV store's wire messages and client (kv_client.hpp).
#include "seer/services/kv_client.hpp"

namespace seer::services {

const char* kv_op_name(KvOp op) {
  switch (op) {
    case KvOp::kGet:
      return "get";
    case KvOp::kPut:
      return "put";
    case KvOp::kCreate:
      return "create";
    case KvOp::kUpdate:
      return "update";
    case KvOp::kDelete:
      return "delete";
    case KvOp::kList:
      return "list";
  }
  return "?";
}

const char* kv_status_name(KvStatus status) {
  switch (status) {
    case KvStatus::kOk:
      return "ok";
    case KvStatus::kNotFound:
      return "not_found";
    case KvStatus::kConflict:
      return "conflict";
  }
  return "?";
}

nlohmann::json KvRequest::to_json() const {
  nlohmann::json j = {{"req", req}, {"op", kv_op_name(op)}, {"key", key}};
  if (op != KvOp::kGet && op != KvOp::kDelete && op != KvOp::kList) j["value"] = value;
  if (read == KvRead::kLinearizable) j["read"] = "linearizable";
  if (op == KvOp::kUpdate) j["expected"] = expected;
  return j;
}

nlohmann::json KvReply::to_json() const {
  return {{"req", req},
          {"status", kv_status_name(status)},
          {"value", *value},
          {"revision", revision},
          {"serial", serial}};
}

sim::Task<KvResult> KvClient::call(KvOp op, std::string key, nlohmann::json value,
                                   std::int64_t expected, KvRead read,
                                   std::shared_ptr<const DecodedValue> decoded) {
  const auto reply =
      co_await request(op, std::move(key), std::move(value), expected, read, std::move(decoded));
  if (!reply) {
    KvResult timed_out;
    timed_out.timed_out = true;
    co_return timed_out;
  }
  co_return KvResult{false, reply->status, *reply->value, reply->revision};
}

sim::Task<KvSharedResult> KvClient::get_shared(std::string key, KvRead read) {
  const auto reply = co_await request(KvOp::kGet, std::move(key), nullptr, 0, read);
  if (!reply) {
    KvSharedResult timed_out;
    timed_out.timed_out = true;
    co_return timed_out;
  }
  co_return KvSharedResult{false, reply->status, reply->value, reply->revision, reply->decoded};
}

sim::Task<KvSharedResult> KvClient::list_shared(std::string prefix, KvRead read) {
  const auto reply = co_await request(KvOp::kList, std::move(prefix), nullptr, 0, read);
  if (!reply) {
    KvSharedResult timed_out;
    timed_out.timed_out = true;
    co_return timed_out;
  }
  co_return KvSharedResult{false, reply->status, reply->value, reply->revision, nullptr};
}

sim::Task<KvResult> KvClient::get(std::string key, KvRead read) {
  return call(KvOp::kGet, std::move(key), nullptr, 0, read);
}
sim::Task<KvResult> KvClient::list(std::string prefix, KvRead read) {
  return call(KvOp::kList, std::move(prefix), nullptr, 0, read);
}
sim::Task<KvResult> KvClient::put(std::string key, nlohmann::json value,
                                  std::shared_ptr<const DecodedValue> decoded) {
  return call(KvOp::kPut, std::move(key), std::move(value), 0, KvRead::kAny, std::move(decoded));
}
sim::Task<KvResult> KvClient::create(std::string key, nlohmann::json value,
                                     std::shared_ptr<const DecodedValue> decoded) {
  return call(KvOp::kCreate, std::move(key), std::move(value), 0, KvRead::kAny, std::move(decoded));
}
sim::Task<KvResult> KvClient::update(std::string key, nlohmann::json value, std::int64_t expected,
                                     std::shared_ptr<const DecodedValue> decoded) {
  return call(KvOp::kUpdate, std::move(key), std::move(value), expected, KvRead::kAny,
              std::move(decoded));
}
sim::Task<KvResult> KvClient::remove(std::string key) {
  return call(KvOp::kDelete, std::move(key), nullptr, 0);
}

}  // namespace seer::services
