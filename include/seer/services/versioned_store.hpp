// The ground truth behind the simulated stores: every version of every key, stamped with a global
// revision, so a lagging view ("the store as of revision r") and the oracle's "what was really
// latest" are both lookups.
#pragma once

#include "seer/sim/time.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace seer::services {

class VersionedStore {
 public:
  struct Version {
    std::int64_t revision = 0;  // the store revision that wrote it (0: never written)
    bool exists = false;        // false: absent (never written, or deleted)
    nlohmann::json value;
  };

  std::int64_t revision() const { return revision_; }
  // The key as of store revision `at` (the latest version with revision <= at).
  Version at(const std::string& key, std::int64_t at) const;
  Version latest(const std::string& key) const { return at(key, revision_); }
  // Writes or deletes; returns the new store revision.
  std::int64_t write(const std::string& key, nlohmann::json value);
  std::int64_t erase(const std::string& key);
  // Every version of the key, oldest first.
  std::vector<Version> versions(const std::string& key) const;
  // How many times the key changed after revision `at`.
  std::int64_t changes_after(const std::string& key, std::int64_t at) const;
  // The keys that exist as of revision `at` and start with `prefix`, in key order.
  std::vector<std::string> keys_at(std::int64_t at, const std::string& prefix) const;

 private:
  std::int64_t revision_ = 0;
  std::map<std::string, std::vector<Version>> keys_;
};

}  // namespace seer::services
