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

namespace {

const EncodableValue& encodable(const std::shared_ptr<const DecodedValue>& decoded) {
  return static_cast<const EncodableValue&>(*decoded);
}

}  // namespace

nlohmann::json KvRequest::written_value() const {
  return deferred ? encodable(decoded).encode() : value;
}

nlohmann::json KvRequest::to_json() const {
  nlohmann::json j = {{"req", req}, {"op", kv_op_name(op)}, {"key", key}};
  if (op != KvOp::kGet && op != KvOp::kDelete && op != KvOp::kList) j["value"] = written_value();
  if (read == KvRead::kLinearizable) j["read"] = "linearizable";
  if (op == KvOp::kUpdate) j["expected"] = expected;
  return j;
}

nlohmann::json KvReply::value_json() const {
  return deferred ? encodable(decoded).encode() : *value;
}

nlohmann::json KvReply::to_json() const {
  return {{"req", req},
          {"status", kv_status_name(status)},
          {"value", value_json()},
          {"revision", revision},
          {"serial", serial}};
}

KvResult KvClient::result(const std::shared_ptr<const KvReply>& reply) {
  if (!reply) {
    KvResult timed_out;
    timed_out.timed_out = true;
    return timed_out;
  }
  return KvResult{false, reply->status, reply->value_json(), reply->revision};
}

KvSharedResult KvClient::SharedResult::operator()(
    const std::shared_ptr<const KvReply>& reply) const {
  if (!reply) {
    KvSharedResult timed_out;
    timed_out.timed_out = true;
    return timed_out;
  }
  auto value = reply->value;
  if (reply->deferred) {
    value = encode ? std::make_shared<const nlohmann::json>(reply->value_json()) : nullptr;
  }
  return KvSharedResult{false, reply->status, std::move(value), reply->revision, reply->decoded};
}

sim::Task<KvResult> KvClient::call(sim::CodeSite at, KvOp op, std::string key, nlohmann::json value,
                                   std::int64_t expected, KvRead read,
                                   std::shared_ptr<const DecodedValue> decoded) {
  return request_then_at<KvResult>(at, &KvClient::result, op, std::move(key), std::move(value),
                                   expected, read, std::move(decoded));
}

sim::Task<KvSharedResult> KvClient::shared(sim::CodeSite at, KvOp op, std::string key, KvRead read,
                                           bool encode) {
  return request_then_at<KvSharedResult>(at, SharedResult{encode}, op, std::move(key),
                                         nlohmann::json(), std::int64_t{0}, read,
                                         std::shared_ptr<const DecodedValue>());
}

sim::Task<KvSharedResult> KvClient::get_shared(std::string key, KvRead read, sim::CodeSite at) {
  return shared(at, KvOp::kGet, std::move(key), read, true);
}

sim::Task<KvSharedResult> KvClient::get_decoded(std::string key, KvRead read, sim::CodeSite at) {
  return shared(at, KvOp::kGet, std::move(key), read, false);
}

sim::Task<KvSharedResult> KvClient::list_shared(std::string prefix, KvRead read, sim::CodeSite at) {
  return shared(at, KvOp::kList, std::move(prefix), read, true);
}

// KvDeferred is built here, outside any coroutine: g++ 12 destroys an aggregate temporary built in
// a co_await's full expression twice.
sim::Task<KvResult> KvClient::deferred(sim::CodeSite at, KvOp op, std::string key,
                                       std::shared_ptr<const EncodableValue> value,
                                       std::int64_t expected) {
  return request_then_at<KvResult>(at, &KvClient::result, op, std::move(key),
                                   KvDeferred{std::move(value)}, expected);
}

sim::Task<KvResult> KvClient::put_deferred(std::string key,
                                           std::shared_ptr<const EncodableValue> value,
                                           sim::CodeSite at) {
  return deferred(at, KvOp::kPut, std::move(key), std::move(value), 0);
}
sim::Task<KvResult> KvClient::create_deferred(std::string key,
                                              std::shared_ptr<const EncodableValue> value,
                                              sim::CodeSite at) {
  return deferred(at, KvOp::kCreate, std::move(key), std::move(value), 0);
}
sim::Task<KvResult> KvClient::update_deferred(std::string key,
                                              std::shared_ptr<const EncodableValue> value,
                                              std::int64_t expected, sim::CodeSite at) {
  return deferred(at, KvOp::kUpdate, std::move(key), std::move(value), expected);
}

sim::Task<KvResult> KvClient::get(std::string key, KvRead read, sim::CodeSite at) {
  return call(at, KvOp::kGet, std::move(key), nullptr, 0, read);
}
sim::Task<KvResult> KvClient::list(std::string prefix, KvRead read, sim::CodeSite at) {
  return call(at, KvOp::kList, std::move(prefix), nullptr, 0, read);
}
sim::Task<KvResult> KvClient::put(std::string key, nlohmann::json value,
                                  std::shared_ptr<const DecodedValue> decoded, sim::CodeSite at) {
  return call(at, KvOp::kPut, std::move(key), std::move(value), 0, KvRead::kAny,
              std::move(decoded));
}
sim::Task<KvResult> KvClient::create(std::string key, nlohmann::json value,
                                     std::shared_ptr<const DecodedValue> decoded,
                                     sim::CodeSite at) {
  return call(at, KvOp::kCreate, std::move(key), std::move(value), 0, KvRead::kAny,
              std::move(decoded));
}
sim::Task<KvResult> KvClient::update(std::string key, nlohmann::json value, std::int64_t expected,
                                     std::shared_ptr<const DecodedValue> decoded,
                                     sim::CodeSite at) {
  return call(at, KvOp::kUpdate, std::move(key), std::move(value), expected, KvRead::kAny,
              std::move(decoded));
}
sim::Task<KvResult> KvClient::remove(std::string key, sim::CodeSite at) {
  return call(at, KvOp::kDelete, std::move(key), nullptr, 0);
}

}  // namespace seer::services
