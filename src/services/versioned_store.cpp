#include "seer/services/versioned_store.hpp"

#include <algorithm>

namespace seer::services {

VersionedStore::Version VersionedStore::at(const std::string& key, std::int64_t at) const {
  const auto it = keys_.find(key);
  if (it == keys_.end()) return {};
  const auto& versions = it->second;
  // Versions are in revision order: the last one at or before `at`.
  auto after = std::upper_bound(versions.begin(), versions.end(), at,
                                [](std::int64_t r, const Version& v) { return r < v.revision; });
  if (after == versions.begin()) return {};
  return *(after - 1);
}

std::int64_t VersionedStore::write(const std::string& key, nlohmann::json value) {
  keys_[key].push_back(Version{++revision_, true, std::move(value)});
  return revision_;
}

std::int64_t VersionedStore::erase(const std::string& key) {
  keys_[key].push_back(Version{++revision_, false, nullptr});
  return revision_;
}

std::vector<VersionedStore::Version> VersionedStore::versions(const std::string& key) const {
  const auto it = keys_.find(key);
  return it == keys_.end() ? std::vector<Version>{} : it->second;
}

std::int64_t VersionedStore::changes_after(const std::string& key, std::int64_t at) const {
  const auto it = keys_.find(key);
  if (it == keys_.end()) return 0;
  const auto& versions = it->second;
  auto after = std::upper_bound(versions.begin(), versions.end(), at,
                                [](std::int64_t r, const Version& v) { return r < v.revision; });
  return static_cast<std::int64_t>(versions.end() - after);
}

std::vector<std::string> VersionedStore::keys_at(std::int64_t at, const std::string& prefix) const {
  std::vector<std::string> out;
  for (auto it = keys_.lower_bound(prefix);
       it != keys_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    if (this->at(it->first, at).exists) out.push_back(it->first);
  }
  return out;
}

}  // namespace seer::services
