// A simulated key-value store with revisions and compare-and-set, like etcd or NATS JetStream KV.
// Designs talk to it through messages (KvClient wraps them); the store keeps every revision so the
// oracle knows, for each response, what the latest value really was. Contract: docs/services.md.
#pragma once

#include "seer/services/versioned_store.hpp"
#include "seer/sim/env.hpp"
#include "seer/sim/simulator.hpp"
#include "seer/sim/task.hpp"

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

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

struct KvRequest : sim::Payload {
  KvRequest(std::uint64_t r, KvOp o, std::string k, nlohmann::json v, std::int64_t e,
            KvRead c = KvRead::kAny)
      : req(r), op(o), key(std::move(k)), value(std::move(v)), expected(e), read(c) {}
  std::uint64_t req;
  KvOp op;
  std::string key;        // list: the prefix
  nlohmann::json value;   // put, create, update
  std::int64_t expected;  // update: the mod revision the key must have
  KvRead read;            // get, list
  std::string_view type() const override { return "kv_request"; }
  nlohmann::json to_json() const override;
};

struct KvReply : sim::Payload {
  KvReply(std::uint64_t r, KvStatus s, nlohmann::json v, std::int64_t rev, std::uint64_t n)
      : req(r), status(s), value(std::move(v)), revision(rev), serial(n) {}
  std::uint64_t req;
  KvStatus status;
  nlohmann::json value;  // get: the value (null if not found); list: the keys, an array
  // get: the key's mod revision (0 if absent); list: the store revision it was served at; a
  // write: the new revision; conflict: the key's current mod revision.
  std::int64_t revision;
  std::uint64_t serial;  // the server's response number; oracle facts are filed under it
  std::string_view type() const override { return "kv_reply"; }
  nlohmann::json to_json() const override;
};

// How the store serves reads. Writes are always linearizable (they go through the leader).
struct KvConfig {
  bool stale_reads = false;
  // Stale reads: how many store revisions behind the served view may be (0: unbounded).
  std::int64_t max_lag = 0;
  // Stale reads: the share of reads a lagging follower serves (the rest are fresh).
  std::uint32_t follower_ppm = 500'000;
};
// "linearizable" (default), "stale-bounded" (at most 3 revisions behind), "stale" (unbounded).
KvConfig kv_config(const std::string& implementation);
std::vector<std::string> kv_implementations();

struct KvService {
  sim::ProcessId process;
  // The store's ground truth, for invariants and oracles only: design code never sees it.
  std::shared_ptr<const VersionedStore> truth;
};

// Adds the store as process `name` (not crashable: it stands for a replicated, durable service;
// its faults are lost responses and the network's). Adds the oracle annotator.
KvService add_kv_service(sim::Simulator& sim, const std::string& name, const KvConfig& config);

struct KvResult {
  bool timed_out = false;  // no reply within the timeout: the request may or may not have applied
  KvStatus status = KvStatus::kOk;
  nlohmann::json value;
  std::int64_t revision = 0;
  bool ok() const { return !timed_out && status == KvStatus::kOk; }
};

// The client side, for design code: one request at a time, no retries (retrying is the design's
// decision). It consumes the process's messages while waiting. Messages that are not its reply
// are dropped, or kept in `stash` (oldest first) when one is given, so a process that also serves
// other messages (a server in front of the store) can handle them after the call.
//
// Replies are matched by request number, counted from `first_request`. A process that can crash
// must start each life at a number its earlier lives never used (e.g. env.random()), or a late
// reply to an earlier life's request is taken for the answer to a new one.
class KvClient {
 public:
  KvClient(sim::Env& env, sim::ProcessId server, sim::Duration timeout,
           std::deque<sim::Message>* stash = nullptr, std::uint64_t first_request = 1)
      : env_(env), server_(server), timeout_(timeout), stash_(stash), next_req_(first_request) {}
  sim::Task<KvResult> get(std::string key, KvRead read = KvRead::kAny);
  // The keys under `prefix` as an array of strings, in key order.
  sim::Task<KvResult> list(std::string prefix, KvRead read = KvRead::kAny);
  sim::Task<KvResult> put(std::string key, nlohmann::json value);
  sim::Task<KvResult> create(std::string key, nlohmann::json value);
  sim::Task<KvResult> update(std::string key, nlohmann::json value, std::int64_t expected);
  sim::Task<KvResult> remove(std::string key);

 private:
  sim::Task<KvResult> call(KvOp op, std::string key, nlohmann::json value, std::int64_t expected,
                           KvRead read = KvRead::kAny);
  sim::Env& env_;
  sim::ProcessId server_;
  sim::Duration timeout_;
  std::deque<sim::Message>* stash_;
  std::uint64_t next_req_;
};

}  // namespace seer::services
