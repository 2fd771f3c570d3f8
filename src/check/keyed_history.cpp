#include "keyed_history.hpp"

#include "seer/assert.hpp"

#include <map>
#include <unordered_map>

namespace seer::check {

namespace {

struct StatesHash {
  std::size_t operator()(const std::vector<StateId>& values) const { return hash_integers(values); }
};

class KeyedHistory final : public CompiledHistory {
 public:
  KeyedHistory(const std::vector<Operation>& ops, const AnyModel& model) {
    std::map<std::string, std::size_t> index_of;
    auto& by_key = ops_;
    for (const auto& op : ops) {
      auto [key, inner] = model.partition(op);
      const auto [it, added] = index_of.emplace(to_text(key), keys_.size());
      if (added) {
        keys_.push_back(key);
        by_key.emplace_back();
      }
      auto& part = by_key[it->second];
      inner.id = static_cast<int>(part.size());
      part.push_back(std::move(inner));
      place_.push_back({it->second, part.size() - 1});
    }
    // Each key's operations are compiled together by the keyed model, as when partitioned.
    for (const auto& part : by_key) parts_.push_back(model.compile(part));
    kept_ops_.resize(by_key.size());
  }

  std::size_t size() const override { return place_.size(); }

  StateId initial() override {
    std::vector<StateId> values;
    for (auto& part : parts_) values.push_back(part->initial());
    return id(values);
  }

  void successors(StateId s, std::size_t i, std::vector<StateId>& out) override {
    const auto [k, j] = place_[i];
    inner_.clear();
    parts_[k]->successors(states(s)[k], j, inner_);
    for (const auto v : inner_) {
      auto values = states(s);  // a copy: id() may grow the table
      values[k] = v;
      out.push_back(id(values));
    }
  }

  // What the keyed model may leave out of a key's history it may leave out of the whole.
  std::vector<bool> prunable() const override {
    std::vector<std::vector<bool>> per_key;
    for (const auto& part : parts_) per_key.push_back(part->prunable());
    std::vector<bool> out;
    for (const auto& [k, j] : place_) out.push_back(per_key[k][j]);
    return out;
  }

  std::vector<std::vector<int>> required_before() const override {
    const auto global = global_indices();
    std::vector<std::vector<int>> out(place_.size());
    for (std::size_t k = 0; k < parts_.size(); ++k) {
      const auto before = parts_[k]->required_before();
      for (std::size_t j = 0; j < before.size(); ++j) {
        auto& mine = out[static_cast<std::size_t>(global[k][j])];
        for (const int r : before[j]) mine.push_back(global[k][static_cast<std::size_t>(r)]);
      }
    }
    return out;
  }

  // Each key's components, numbered apart; none if no key has any.
  std::vector<int> components() const override {
    std::vector<std::vector<int>> per_key;
    bool any = false;
    for (const auto& part : parts_) {
      per_key.push_back(part->components());
      any = any || !per_key.back().empty();
    }
    if (!any) return {};
    std::vector<int> offset(parts_.size(), 0);
    int next = 0;
    for (std::size_t k = 0; k < per_key.size(); ++k) {
      offset[k] = next;
      for (const int c : per_key[k]) next = std::max(next, offset[k] + c + 1);
    }
    std::vector<int> out;
    for (const auto& [k, j] : place_) {
      const auto& c = per_key[k];
      out.push_back(c.empty() || c[j] < 0 ? -1 : offset[k] + c[j]);
    }
    return out;
  }

  std::string describe_state(StateId s) const override {
    std::string out = "{";
    const auto& values = states(s);
    for (std::size_t k = 0; k < keys_.size(); ++k) {
      out += (k ? ", " : "") + to_text(keys_[k]) + ": " + parts_[k]->describe_state(values[k]);
    }
    return out + "}";
  }

  std::string describe_state_of(StateId s, std::size_t i) const override {
    const auto [k, j] = place_[i];
    return parts_[k]->describe_state_of(states(s)[k], j);
  }

  std::string describe_operation(std::size_t i) const override {
    const auto [k, j] = place_[i];
    return parts_[k]->describe_operation(j);
  }

  void keep(const std::vector<int>& kept, const std::vector<Operation>& kept_ops) override {
    (void)kept_ops;  // each key keeps its own
    std::vector<std::vector<int>> kept_of(parts_.size());
    std::vector<std::pair<std::size_t, std::size_t>> place;
    for (const int i : kept) {
      const auto [k, j] = place_[static_cast<std::size_t>(i)];
      place.push_back({k, kept_of[k].size()});
      kept_of[k].push_back(static_cast<int>(j));
    }
    for (std::size_t k = 0; k < parts_.size(); ++k) {
      std::vector<Operation> ops;
      for (const int j : kept_of[k]) {
        ops.push_back(ops_[k][static_cast<std::size_t>(j)]);
        ops.back().id = static_cast<int>(ops.size() - 1);
      }
      kept_ops_[k] = std::move(ops);
      parts_[k]->keep(kept_of[k], kept_ops_[k]);
    }
    place_ = std::move(place);
  }

 private:
  // For each key, the whole history's index of each of its ops.
  std::vector<std::vector<int>> global_indices() const {
    std::vector<std::vector<int>> out(parts_.size());
    for (std::size_t i = 0; i < place_.size(); ++i) {
      const auto [k, j] = place_[i];
      if (out[k].size() <= j) out[k].resize(j + 1, -1);
      out[k][j] = static_cast<int>(i);
    }
    return out;
  }
  const std::vector<StateId>& states(StateId s) const {
    SEER_ASSERT(s >= 0 && static_cast<std::size_t>(s) < maps_.size(),
                "a state id known to its table");
    return maps_[static_cast<std::size_t>(s)];
  }
  StateId id(const std::vector<StateId>& values) {
    const auto [it, added] = ids_.try_emplace(values, static_cast<StateId>(maps_.size()));
    if (added) maps_.push_back(values);
    return it->second;
  }

  std::vector<nlohmann::json> keys_;
  std::vector<std::vector<Operation>> ops_;                 // per key, as the keyed model sees them
  std::vector<std::vector<Operation>> kept_ops_;            // per key, those kept
  std::vector<std::pair<std::size_t, std::size_t>> place_;  // per op: its key, its index there
  std::vector<std::unique_ptr<CompiledHistory>> parts_;     // per key
  std::vector<StateId> inner_;
  std::unordered_map<std::vector<StateId>, StateId, StatesHash> ids_;
  std::vector<std::vector<StateId>> maps_;
};

}  // namespace

std::unique_ptr<CompiledHistory> compile_keyed_history(const std::vector<Operation>& ops,
                                                       const AnyModel& model) {
  return std::make_unique<KeyedHistory>(ops, model);
}

}  // namespace seer::check
