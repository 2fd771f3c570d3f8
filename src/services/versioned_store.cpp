#include "seer/services/versioned_store.hpp"

#include <algorithm>

namespace seer::services {

namespace {

const VersionedStore::Version kAbsent{};
const VersionedStore::Versions kNoVersions{};

// The first of `versions` (in revision order) written after revision `at`.
VersionedStore::Versions::const_iterator first_after(const VersionedStore::Versions& versions,
                                                     std::int64_t at) {
  // Most reads are of the latest view: then no version is after, and no search is needed.
  if (versions.empty() || versions.back().revision <= at) return versions.end();
  return std::upper_bound(
      versions.begin(), versions.end(), at,
      [](std::int64_t r, const VersionedStore::Version& v) { return r < v.revision; });
}

}  // namespace

const VersionedStore::Versions* VersionedStore::find(const std::string& key) const {
  const auto it = index_.find(key);
  return it == index_.end() ? nullptr : it->second;
}

VersionedStore::Versions& VersionedStore::versions_for_write(const std::string& key) {
  auto it = index_.find(key);
  if (it == index_.end()) {
    auto& [stored_key, versions] = *keys_.try_emplace(key).first;
    it = index_.emplace(stored_key, &versions).first;  // the map's key: it never moves
  }
  written_.push_back(&*it);
  return *it->second;
}

const VersionedStore::Version& VersionedStore::at(const std::string& key, std::int64_t at) const {
  const Versions* versions = find(key);
  return versions ? version_at(*versions, at) : kAbsent;
}

const VersionedStore::Version& VersionedStore::version_at(const Versions& versions,
                                                          std::int64_t at) {
  const auto after = first_after(versions, at);
  return after == versions.begin() ? kAbsent : *(after - 1);
}

const VersionedStore::Version& VersionedStore::latest_of(const Versions& versions) {
  // Every version's revision is at most the store's: the latest is the last.
  return versions.empty() ? kAbsent : versions.back();
}

std::int64_t VersionedStore::write(const std::string& key, nlohmann::json value,
                                   std::shared_ptr<const DecodedValue> decoded) {
  versions_for_write(key).push_back(
      Version{++revision_, true, std::move(value), std::move(decoded)});
  return revision_;
}

std::int64_t VersionedStore::write_deferred(const std::string& key,
                                            std::shared_ptr<const EncodableValue> value) {
  versions_for_write(key).push_back(Version{++revision_, true, nullptr, std::move(value), true});
  return revision_;
}

const nlohmann::json& VersionedStore::Version::encoded() const {
  if (deferred) {
    value = static_cast<const EncodableValue&>(*decoded).encode();
    deferred = false;
  }
  return value;
}

std::int64_t VersionedStore::erase(const std::string& key) {
  versions_for_write(key).push_back(Version{++revision_, false, nullptr});
  return revision_;
}

const VersionedStore::Versions& VersionedStore::versions(const std::string& key) const {
  const Versions* versions = find(key);
  return versions ? *versions : kNoVersions;
}

std::int64_t VersionedStore::changes_after(const std::string& key, std::int64_t at) const {
  const Versions* versions = find(key);
  if (!versions) return 0;
  return static_cast<std::int64_t>(versions->end() - first_after(*versions, at));
}

std::vector<std::string> VersionedStore::keys_at(std::int64_t at, const std::string& prefix) const {
  std::vector<std::string> out;
  for (auto it = keys_.lower_bound(prefix);
       it != keys_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    const auto after = first_after(it->second, at);
    if (after != it->second.begin() && (after - 1)->exists) out.push_back(it->first);
  }
  return out;
}

}  // namespace seer::services
