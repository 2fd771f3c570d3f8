// The KV store's write semantics, shared by the simulated server (kv.hpp) and the real one
// (runtime/servers.hpp) so the two cannot drift apart: put, create-if-absent, update-if-revision
// and delete, applied to any store with `write(key, value) -> revision` and
// `erase(key) -> revision`.
#pragma once

#include "seer/services/kv_client.hpp"

#include <cstdint>

namespace seer::services {

struct KvWriteOutcome {
  KvStatus status = KvStatus::kOk;
  // The new store revision when applied; on a conflict the key's current mod revision; else 0.
  std::int64_t revision = 0;
  bool applied = false;
};

// `latest_exists` and `latest_revision` describe the key before the request. Reads (get, list) are
// not writes: they return a default outcome with `applied` false.
template <class Store>
KvWriteOutcome apply_kv_write(Store& store, const KvRequest& rq, bool latest_exists,
                              std::int64_t latest_revision) {
  const auto write = [&] {
    return KvWriteOutcome{KvStatus::kOk, store.write(rq.key, rq.value), true};
  };
  switch (rq.op) {
    case KvOp::kPut:
      return write();
    case KvOp::kCreate:
      if (latest_exists) return {KvStatus::kConflict, latest_revision, false};
      return write();
    case KvOp::kUpdate:
      if (!latest_exists) return {KvStatus::kNotFound, 0, false};
      if (latest_revision != rq.expected) return {KvStatus::kConflict, latest_revision, false};
      return write();
    case KvOp::kDelete:
      if (!latest_exists) return {KvStatus::kNotFound, 0, false};
      return {KvStatus::kOk, store.erase(rq.key), true};
    case KvOp::kGet:
    case KvOp::kList:
      break;
  }
  return {};
}

}  // namespace seer::services
