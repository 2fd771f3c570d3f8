// The ground truth behind the simulated stores: every version of every key, stamped with a global
// revision, so a lagging view ("the store as of revision r") and the oracle's "what was really
// latest" are both lookups.
//
// Reads hand out references, never copies: an oracle that looks at the store after every event
// (keys_at, versions, at) costs lookups only, however large the values. A version, once written,
// never moves or changes, so every reference a read returns stays valid as long as the store.
#pragma once

#include "seer/services/decoded_value.hpp"
#include "seer/sim/time.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace seer::services {

class VersionedStore {
 public:
  VersionedStore() = default;
  // Not copied or moved: the index points into the store's own map.
  VersionedStore(const VersionedStore&) = delete;
  VersionedStore& operator=(const VersionedStore&) = delete;

  struct Version {
    std::int64_t revision = 0;  // the store revision that wrote it (0: never written)
    bool exists = false;        // false: absent (never written, or deleted)
    // The value. Null while `deferred`: read encoded(), which works for every version.
    // (mutable: encoded() fills it in once, the same bytes whenever it is asked.)
    mutable nlohmann::json value;
    // The writer's decoded form of `value`, if it attached one (decoded_value.hpp); else null.
    std::shared_ptr<const DecodedValue> decoded = nullptr;
    // Written by write_deferred and not encoded yet: the value is `decoded`'s encode().
    mutable bool deferred = false;
    // The value, encoded now if it was deferred. Only the simulation's speed: a deferred value
    // is the bytes the store holds, made when first read instead of when written.
    const nlohmann::json& encoded() const;
  };
  // A key's versions, oldest first (a deque: appending never moves the earlier ones).
  using Versions = std::deque<Version>;

  std::int64_t revision() const { return revision_; }
  // The key as of store revision `at` (the latest version with revision <= at); an absent
  // version (revision 0) if it had none by then. Valid as long as the store (see above).
  const Version& at(const std::string& key, std::int64_t at) const;
  const Version& latest(const std::string& key) const { return at(key, revision_); }
  // at() and latest() on a key's versions (versions(key)): a reader that looks at one key more
  // than once (the KV server: the latest version and the one a read is served) searches the keys
  // once.
  static const Version& version_at(const Versions& versions, std::int64_t at);
  static const Version& latest_of(const Versions& versions);
  // Writes or deletes; returns the new store revision.
  std::int64_t write(const std::string& key, nlohmann::json value,
                     std::shared_ptr<const DecodedValue> decoded = nullptr);
  // Writes `value`'s encoding without making it yet (EncodableValue): Version::encoded() makes
  // it when something reads it. Returns the new store revision.
  std::int64_t write_deferred(const std::string& key, std::shared_ptr<const EncodableValue> value);
  std::int64_t erase(const std::string& key);
  // Every version of the key, oldest first (empty if it was never written). Later writes of the
  // key append to it.
  const Versions& versions(const std::string& key) const;
  // How many times the key changed after revision `at`.
  std::int64_t changes_after(const std::string& key, std::int64_t at) const;
  // The keys that exist as of revision `at` and start with `prefix`, in key order.
  std::vector<std::string> keys_at(std::int64_t at, const std::string& prefix) const;
  // What revision `revision` (1 to revision()) wrote or deleted: its key and all of that key's
  // versions. An oracle that checks only what changed since its last look walks these instead of
  // every key.
  struct Change {
    std::string_view key;
    const Versions* versions;
  };
  Change change_at(std::int64_t revision) const {
    const auto& entry = *written_[static_cast<std::size_t>(revision - 1)];
    return {entry.first, entry.second};
  }

 private:
  // The key's versions, created empty if it had none.
  Versions& versions_for_write(const std::string& key);
  const Versions* find(const std::string& key) const;

  std::int64_t revision_ = 0;
  std::map<std::string, Versions> keys_;  // map nodes never move either
  // The same keys hashed, for the lookups of a key (every request to the KV server, every read of
  // the oracle): a search of the ordered map compared whole keys at each of its levels. keys_
  // stays for what needs the order (keys_at). Only the simulation's speed.
  std::unordered_map<std::string_view, Versions*> index_;
  // The key each revision wrote, in revision order: index_'s entries, which a rehash never moves.
  std::vector<const std::pair<const std::string_view, Versions*>*> written_;
};

}  // namespace seer::services
