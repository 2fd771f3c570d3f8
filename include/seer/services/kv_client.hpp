// The KV store's wire messages and its client, for design code. Needs only Env; the service itself
// (which needs the Simulator) is in kv.hpp. Contract: docs/services.md.
#pragma once

#include "seer/services/decoded_value.hpp"
#include "seer/services/request_client.hpp"
#include "seer/sim/env.hpp"
#include "seer/sim/task.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>

namespace seer::services {

enum class KvOp : std::uint8_t {
  kGet,     // value and mod revision of a key
  kPut,     // unconditional write
  kCreate,  // write only if the key does not exist
  kUpdate,  // write only if the key's mod revision equals `expected`
  kDelete,  // unconditional delete
  kList,    // the keys under a prefix, in key order (like etcd's range over a prefix)
};
const char* kv_op_name(KvOp op);

enum class KvStatus : std::uint8_t { kOk, kNotFound, kConflict };
const char* kv_status_name(KvStatus status);

// How a read is served. A stale-reading store serves `kAny` reads from whichever replica answers
// (etcd's serializable reads); `kLinearizable` reads always see the latest write (etcd's default
// reads, which go through the leader's quorum). Writes are always linearizable.
enum class KvRead : std::uint8_t { kAny, kLinearizable };

// A write whose value is `value`'s encoding, not made yet (KvClient's deferred writes).
struct KvDeferred {
  std::shared_ptr<const EncodableValue> value;  // never null
};

struct KvRequest final : sim::Payload {
  KvRequest(std::uint64_t r, KvOp o, std::string k, nlohmann::json v, std::int64_t e,
            KvRead c = KvRead::kAny, std::shared_ptr<const DecodedValue> d = nullptr)
      : req(r),
        op(o),
        key(std::move(k)),
        value(std::move(v)),
        expected(e),
        read(c),
        decoded(std::move(d)) {}
  // A deferred write: `value` stays null, the value is d.value->encode() (written_value()).
  KvRequest(std::uint64_t r, KvOp o, std::string k, KvDeferred d, std::int64_t e)
      : req(r),
        op(o),
        key(std::move(k)),
        expected(e),
        read(KvRead::kAny),
        decoded(std::move(d.value)),
        deferred(true) {}
  std::uint64_t req;
  KvOp op;
  std::string key;        // list: the prefix
  nlohmann::json value;   // put, create, update
  std::int64_t expected;  // update: the mod revision the key must have
  KvRead read;            // get, list
  // A write's decoded value for the simulated store to keep beside it (decoded_value.hpp): not
  // part of the message on a wire (to_json), and null from any real client.
  std::shared_ptr<const DecodedValue> decoded;
  // The value is `decoded`'s encoding (an EncodableValue), made only when read: `value` is null.
  bool deferred = false;
  // The value written (put, create, update), deferred or not.
  nlohmann::json written_value() const;
  std::string_view type() const override { return "kv_request"; }
  nlohmann::json to_json() const override;
};

struct KvReply final : sim::Payload {
  KvReply(std::uint64_t r, KvStatus s, nlohmann::json v, std::int64_t rev, std::uint64_t n)
      : KvReply(r, s, std::make_shared<const nlohmann::json>(std::move(v)), rev, n) {}
  // A value shared, not copied: the simulated store replies with its stored version itself.
  KvReply(std::uint64_t r, KvStatus s, std::shared_ptr<const nlohmann::json> v, std::int64_t rev,
          std::uint64_t n, std::shared_ptr<const DecodedValue> d = nullptr)
      : req(r), status(s), value(std::move(v)), revision(rev), serial(n), decoded(std::move(d)) {}
  std::uint64_t req;
  KvStatus status;
  // get: the value (null if not found); list: the keys, an array. Never a null pointer.
  std::shared_ptr<const nlohmann::json> value;
  // get: the key's mod revision (0 if absent); list: the store revision it was served at; a
  // write: the new revision; conflict: the key's current mod revision.
  std::int64_t revision;
  std::uint64_t serial;  // the server's response number; oracle facts are filed under it
  // get: the version's decoded value, if its writer attached one (decoded_value.hpp): not part of
  // the message on a wire (to_json), and null from any real server.
  std::shared_ptr<const DecodedValue> decoded;
  // get of a version written deferred (VersionedStore::write_deferred) and not encoded yet: the
  // value is `decoded`'s encoding and `value` may point at a null one; read value_json(). Never
  // true from a real server.
  bool deferred = false;
  // The value, encoded now if it was deferred.
  nlohmann::json value_json() const;
  std::string_view type() const override { return "kv_reply"; }
  nlohmann::json to_json() const override;
};

struct KvResult {
  bool timed_out = false;  // no reply within the timeout: the request may or may not have applied
  KvStatus status = KvStatus::kOk;
  nlohmann::json value;
  std::int64_t revision = 0;
  bool ok() const { return !timed_out && status == KvStatus::kOk; }
};

// A get's answer that shares the reply's value instead of copying it, for readers of large values
// (a copy of a large JSON value costs more than the rest of the round trip).
struct KvSharedResult {
  bool timed_out = false;
  KvStatus status = KvStatus::kOk;
  // Null if timed out, or (get_decoded only) if `decoded` stands for a value not encoded yet.
  std::shared_ptr<const nlohmann::json> value;
  std::int64_t revision = 0;
  std::shared_ptr<const DecodedValue> decoded;  // KvReply::decoded
  bool ok() const { return !timed_out && status == KvStatus::kOk; }
};

// The client side, for design code; the rules are RequestClient's (request_client.hpp): one
// request at a time, no retries, replies matched by request number counted from `first_request`
// (a crashable process passes env.random()), other messages kept in `stash` if given.
class KvClient : private RequestClient<KvRequest, KvReply> {
 public:
  // (env, server, timeout, stash = nullptr, first_request = 1)
  using RequestClient::RequestClient;
  sim::Task<KvResult> get(std::string key, KvRead read = KvRead::kAny,
                          sim::CodeSite at = sim::CodeSite::here());
  // get, sharing the value (see KvSharedResult).
  sim::Task<KvSharedResult> get_shared(std::string key, KvRead read = KvRead::kAny,
                                       sim::CodeSite at = sim::CodeSite::here());
  // get_shared for a reader that takes `decoded` when there is one: a version written deferred
  // is then not encoded for it (`value` null). Only the simulation's speed.
  sim::Task<KvSharedResult> get_decoded(std::string key, KvRead read = KvRead::kAny,
                                        sim::CodeSite at = sim::CodeSite::here());
  // The keys under `prefix` as an array of strings, in key order.
  sim::Task<KvResult> list(std::string prefix, KvRead read = KvRead::kAny,
                           sim::CodeSite at = sim::CodeSite::here());
  // list's keys shared with the reply instead of copied (value: an array of strings).
  sim::Task<KvSharedResult> list_shared(std::string prefix, KvRead read = KvRead::kAny,
                                        sim::CodeSite at = sim::CodeSite::here());
  // The writes. `decoded`, if given: what `value` decodes to, for the simulated store to keep
  // beside it (decoded_value.hpp); a real store never sees it.
  sim::Task<KvResult> put(std::string key, nlohmann::json value,
                          std::shared_ptr<const DecodedValue> decoded = nullptr,
                          sim::CodeSite at = sim::CodeSite::here());
  sim::Task<KvResult> create(std::string key, nlohmann::json value,
                             std::shared_ptr<const DecodedValue> decoded = nullptr,
                             sim::CodeSite at = sim::CodeSite::here());
  sim::Task<KvResult> update(std::string key, nlohmann::json value, std::int64_t expected,
                             std::shared_ptr<const DecodedValue> decoded = nullptr,
                             sim::CodeSite at = sim::CodeSite::here());
  // The writes with the value's encoding deferred (KvDeferred): the simulated store keeps
  // `value` and encodes it only when something reads the bytes, which are value->encode()'s.
  // For simulated writers that attach a decoded value anyway; only the simulation's speed.
  sim::Task<KvResult> put_deferred(std::string key, std::shared_ptr<const EncodableValue> value,
                                   sim::CodeSite at = sim::CodeSite::here());
  sim::Task<KvResult> create_deferred(std::string key, std::shared_ptr<const EncodableValue> value,
                                      sim::CodeSite at = sim::CodeSite::here());
  sim::Task<KvResult> update_deferred(std::string key, std::shared_ptr<const EncodableValue> value,
                                      std::int64_t expected,
                                      sim::CodeSite at = sim::CodeSite::here());
  sim::Task<KvResult> remove(std::string key, sim::CodeSite at = sim::CodeSite::here());

 private:
  // Each call is one coroutine frame (RequestClient::request_then_at), its reply converted by:
  static KvResult result(const std::shared_ptr<const KvReply>& reply);
  struct SharedResult {  // get_shared, get_decoded, list_shared: a deferred value encoded if asked
    bool encode;
    KvSharedResult operator()(const std::shared_ptr<const KvReply>& reply) const;
  };
  // `at`: the design's line of the public call (RequestClient::request_then_at).
  sim::Task<KvSharedResult> shared(sim::CodeSite at, KvOp op, std::string key, KvRead read,
                                   bool encode);
  sim::Task<KvResult> deferred(sim::CodeSite at, KvOp op, std::string key,
                               std::shared_ptr<const EncodableValue> value, std::int64_t expected);
  sim::Task<KvResult> call(sim::CodeSite at, KvOp op, std::string key, nlohmann::json value,
                           std::int64_t expected, KvRead read = KvRead::kAny,
                           std::shared_ptr<const DecodedValue> decoded = nullptr);
};

}  // namespace seer::services
