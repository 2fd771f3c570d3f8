// The object store's wire messages and its client, for design code. Needs only Env; the service
// (which needs the Simulator) is in object_store.hpp. Contract: docs/services.md.
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

enum class ObjectOp : std::uint8_t { kGet, kPut, kDelete, kList };
const char* object_op_name(ObjectOp op);

// A put's precondition.
enum class Precondition : std::uint8_t {
  kNone,
  kIfMatch,      // only if the object exists with this ETag
  kIfNoneMatch,  // only if the object does not exist (If-None-Match: *)
};

enum class ObjectStatus : std::uint8_t { kOk, kNotFound, kPreconditionFailed };
const char* object_status_name(ObjectStatus s);

struct ObjectRequest final : sim::Payload {
  ObjectRequest(std::uint64_t r, ObjectOp o, std::string k, nlohmann::json b, Precondition p,
                std::int64_t e)
      : req(r), op(o), key(std::move(k)), body(std::move(b)), precondition(p), etag(e) {}
  std::uint64_t req;
  ObjectOp op;
  std::string key;  // list: the prefix
  nlohmann::json body;
  Precondition precondition;
  std::int64_t etag;
  std::string_view type() const override { return "object_request"; }
  nlohmann::json to_json() const override;
};

struct ObjectReply final : sim::Payload {
  ObjectReply(std::uint64_t r, ObjectStatus s, nlohmann::json b, std::int64_t e,
              std::vector<std::string> k, std::uint64_t n)
      : req(r), status(s), body(std::move(b)), etag(e), keys(std::move(k)), serial(n) {}
  std::uint64_t req;
  ObjectStatus status;
  nlohmann::json body;            // get
  std::int64_t etag;              // get: the object's ETag; put: the new one
  std::vector<std::string> keys;  // list
  std::uint64_t serial;
  std::string_view type() const override { return "object_reply"; }
  nlohmann::json to_json() const override;
};

struct ObjectResult {
  bool timed_out = false;
  ObjectStatus status = ObjectStatus::kOk;
  nlohmann::json body;
  std::int64_t etag = 0;
  std::vector<std::string> keys;
  bool ok() const { return !timed_out && status == ObjectStatus::kOk; }
};

// The client side for design code; the rules are RequestClient's (request_client.hpp), as for
// KvClient: a crashable process passes `first_request = env.random()`.
class ObjectClient : private RequestClient<ObjectRequest, ObjectReply> {
 public:
  // (env, server, timeout, stash = nullptr, first_request = 1)
  using RequestClient::RequestClient;
  // `at`, left to its default, is the design's line of the call (code_site.hpp).
  sim::Task<ObjectResult> get(std::string key, sim::CodeSite at = sim::CodeSite::here());
  sim::Task<ObjectResult> put(std::string key, nlohmann::json body,
                              Precondition precondition = Precondition::kNone,
                              std::int64_t etag = 0, sim::CodeSite at = sim::CodeSite::here());
  sim::Task<ObjectResult> remove(std::string key, sim::CodeSite at = sim::CodeSite::here());
  sim::Task<ObjectResult> list(std::string prefix, sim::CodeSite at = sim::CodeSite::here());

 private:
  sim::Task<ObjectResult> call(sim::CodeSite at, ObjectOp op, std::string key, nlohmann::json body,
                               Precondition p, std::int64_t etag);
};

}  // namespace seer::services
