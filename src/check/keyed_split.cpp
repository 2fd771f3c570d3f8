// Splitting a keyed model's history by key, op by op through partition(): what AnyModel::split
// does unless a model splits a history itself (seer/check/model_adapter.hpp).
#include "seer/check/model.hpp"

#include <map>

namespace seer::check {

KeyedParts AnyModel::split(const std::vector<Operation>& ops) const {
  KeyedParts parts;
  std::map<std::string, std::size_t> index_of;  // key (as JSON text) -> its place in parts
  for (std::size_t i = 0; i < ops.size(); ++i) {
    auto [key, inner] = partition(ops[i]);
    const auto [it, added] = index_of.emplace(to_text(key), parts.keys.size());
    if (added) {
      parts.keys.push_back(std::move(key));
      parts.members.emplace_back();
      parts.inner.emplace_back();
    }
    auto& part = parts.inner[it->second];
    inner.id = static_cast<int>(part.size());
    part.push_back(std::move(inner));
    parts.members[it->second].push_back(static_cast<int>(i));
  }
  return parts;
}

}  // namespace seer::check
