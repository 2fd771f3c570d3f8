#include "promises/model/state.hpp"

namespace seer::promises {

void TaskTimeouts::upsert(const std::string& id, TaskTimeout timeout) {
  const auto it = by_id_.find(id);
  if (it != by_id_.end()) {
    it->second.timeout = timeout;  // in place: the entry keeps its position (spec §0)
    return;
  }
  const std::uint64_t position = next_position_++;
  by_id_.emplace(id, Slot{timeout, position});
  by_position_.emplace(position, id);
}

void TaskTimeouts::erase(const std::string& id) {
  const auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  by_position_.erase(it->second.position);
  by_id_.erase(it);
}

const TaskTimeout* TaskTimeouts::find(const std::string& id) const {
  const auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &it->second.timeout;
}

std::optional<std::uint64_t> TaskTimeouts::position(const std::string& id) const {
  const auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  return it->second.position;
}

std::vector<TaskTimeouts::Entry> TaskTimeouts::entries() const {
  std::vector<Entry> out;
  out.reserve(by_position_.size());
  for (const auto& [position, id] : by_position_) out.emplace_back(id, by_id_.at(id).timeout);
  return out;
}

bool TaskTimeouts::operator==(const TaskTimeouts& other) const {
  if (by_position_.size() != other.by_position_.size()) return false;
  for (auto a = by_position_.begin(), b = other.by_position_.begin(); a != by_position_.end();
       ++a, ++b) {
    if (a->second != b->second) return false;
    if (!(by_id_.at(a->second).timeout == other.by_id_.at(b->second).timeout)) return false;
  }
  return true;
}

void TaskTimeouts::clear() {
  by_id_.clear();
  by_position_.clear();
  next_position_ = 0;
}

}  // namespace seer::promises
