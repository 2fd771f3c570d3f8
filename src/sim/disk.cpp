#include "disk.hpp"

#include <algorithm>
#include <set>

namespace seer::sim {

std::optional<std::string> Disk::read(const std::string& key, bool* from_buffer) const {
  for (auto it = pending_.rbegin(); it != pending_.rend(); ++it) {
    if (it->first == key) {
      if (from_buffer) *from_buffer = true;
      return it->second;
    }
  }
  if (from_buffer) *from_buffer = false;
  auto it = durable_.find(key);
  if (it == durable_.end()) return std::nullopt;
  return it->second;
}

void Disk::write(const std::string& key, std::optional<std::string> value) {
  pending_.emplace_back(key, std::move(value));
}

std::vector<std::string> Disk::keys(const std::string& prefix) const {
  std::set<std::string> present;
  for (auto it = durable_.lower_bound(prefix); it != durable_.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    present.insert(it->first);
  }
  for (const auto& [key, value] : pending_) {
    if (key.compare(0, prefix.size(), prefix) != 0) continue;
    if (value) {
      present.insert(key);
    } else {
      present.erase(key);
    }
  }
  return {present.begin(), present.end()};
}

std::size_t Disk::sync() {
  const std::size_t n = pending_.size();
  for (auto& [key, value] : pending_) {
    if (value) {
      durable_[key] = std::move(*value);
    } else {
      durable_.erase(key);
    }
  }
  pending_.clear();
  return n;
}

nlohmann::json Disk::crash(Prng& prng, bool torn, TornChoice& choice, bool replay) {
  nlohmann::json lost = nlohmann::json::array();
  nlohmann::json persisted = nlohmann::json::array();
  std::size_t keep = 0;
  if (torn && !pending_.empty()) {
    keep = replay ? std::min<std::size_t>(choice.keep, pending_.size())
                  : prng.below(pending_.size() + 1);
    choice.keep = keep;
  }
  for (std::size_t i = 0; i < pending_.size(); ++i) {
    auto& [key, value] = pending_[i];
    if (i < keep) {
      if (value && i + 1 == keep && !value->empty()) {
        // The last write that reached the platter may be cut short.
        const auto cut = replay ? std::min<std::size_t>(choice.cut, value->size())
                                : prng.below(value->size() + 1);
        choice.cut = cut;
        if (cut < value->size()) {
          value->resize(cut);
          persisted.push_back({{"key", key}, {"torn_to_bytes", cut}});
        } else {
          persisted.push_back({{"key", key}});
        }
      } else {
        persisted.push_back({{"key", key}});
      }
      if (value) {
        durable_[key] = std::move(*value);
      } else {
        durable_.erase(key);
      }
    } else {
      lost.push_back({{"key", key}, {"erase", !value.has_value()}});
    }
  }
  pending_.clear();
  nlohmann::json out = {{"lost_unsynced_writes", lost}};
  if (torn) out["torn_persisted"] = persisted;
  return out;
}

}  // namespace seer::sim
