// A simulated object store with conditional writes, like S3 (ETags, If-Match / If-None-Match) or
// GCS (generations). Objects are JSON bodies; every write gives the object a new ETag (the store
// revision that wrote it). Listings may come from a lagging index. Contract: docs/services.md.
#pragma once

#include "seer/services/object_client.hpp"
#include "seer/services/versioned_store.hpp"
#include "seer/sim/simulator.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace seer::services {

struct ObjectStoreConfig {
  bool stale_lists = false;  // listings from an index up to `max_lag` writes behind
  bool stale_reads = false;  // gets too (the pre-2020 S3 "eventual consistency" model)
  std::int64_t max_lag = 5;
  std::uint32_t lagging_ppm = 500'000;  // share of lagging answers
};
// "strong" (default, S3 since 2020), "stale-list", "eventual".
ObjectStoreConfig object_store_config(const std::string& implementation);
std::vector<std::string> object_store_implementations();

struct ObjectStoreService {
  sim::ProcessId process;
  std::shared_ptr<const VersionedStore> truth;
};
ObjectStoreService add_object_store_service(sim::Simulator& sim, const std::string& name,
                                            const ObjectStoreConfig& config);

}  // namespace seer::services
