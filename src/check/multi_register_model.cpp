// Multi-register (Knossos): `txn` operations whose value is a list of [:read k v] / [:write k v]
// micro-operations over several registers, applied atomically. States (one value per key) and
// transactions are interned to integers so the search stays a search over integers.
#include "edn_reader.hpp"
#include "seer/assert.hpp"
#include "seer/check/model.hpp"

#include <map>
#include <mutex>
#include <unordered_map>

namespace seer::check {

namespace {

struct MicroOp {
  bool write = false;
  std::size_t key = 0;
  bool known = false;  // a read whose value was observed
  std::int64_t value = 0;
};

class MultiRegisterModel : public Model {
 public:
  MultiRegisterModel() { set_initial(intern({})); }
  std::string name() const override { return "multi-register"; }

  State parse_initial(const std::string& text) const override {
    nlohmann::json init;
    try {
      init = read_edn_value(text, "--init");
    } catch (const HistoryError& e) {
      throw std::invalid_argument(e.what());
    }
    if (!init.is_object())
      throw std::invalid_argument("multi-register --init expects a map, e.g. {:x 0 :y 0}");
    std::vector<std::int64_t> values;
    for (const auto& [k, v] : init.items()) {
      if (!v.is_number_integer()) throw std::invalid_argument("initial values must be integers");
      const auto index = key_index(":" + k);
      if (values.size() <= index) values.resize(index + 1, kNil);
      values[index] = v.get<std::int64_t>();
    }
    return intern(values);
  }

  CompiledOp compile(const Operation& op) const override {
    if (op.f != "txn") throw HistoryError(where(op) + "unknown function for model multi-register");
    const nlohmann::json& micro = op.unknown() ? op.input : op.output;
    if (!micro.is_array()) throw HistoryError(where(op) + "txn value must be a list of micro-ops");
    std::vector<MicroOp> txn;
    for (const auto& m : micro) {
      if (!m.is_array() || m.size() != 3 || !m[0].is_string()) {
        throw HistoryError(where(op) + "micro-op must be [:read|:write key value]");
      }
      const std::string f = m[0].get<std::string>();
      MicroOp u;
      u.write = f == ":write" || f == "write";
      if (!u.write && f != ":read" && f != "read")
        throw HistoryError(where(op) + "unknown micro-op " + f);
      u.key = key_index(to_text(m[1]).find('"') == 0 ? m[1].get<std::string>() : to_text(m[1]));
      if (m[2].is_number_integer()) {
        u.known = true;
        u.value = m[2].get<std::int64_t>();
      } else if (!m[2].is_null()) {
        throw HistoryError(where(op) + "micro-op value must be an integer or nil");
      } else if (u.write) {
        throw HistoryError(where(op) + "a write needs a value");
      }
      txn.push_back(u);
    }
    std::lock_guard lock(mutex_);
    txns_.push_back(std::move(txn));
    CompiledOp c;
    c.a = static_cast<std::int64_t>(txns_.size() - 1);
    return c;
  }

  // The search backtracks over the same (state, txn) pairs again and again: remember each
  // transition so a repeat costs one hash lookup instead of copying and interning a map.
  std::optional<State> step(State s, const CompiledOp& op) const override {
    const std::pair<State, std::int64_t> transition{s, op.a};
    {
      std::lock_guard lock(mutex_);
      if (auto it = transitions_.find(transition); it != transitions_.end()) return it->second;
    }
    auto next = apply(s, op);
    std::lock_guard lock(mutex_);
    transitions_.emplace(transition, next);
    return next;
  }

  std::optional<State> apply(State s, const CompiledOp& op) const {
    std::vector<std::int64_t> values;
    std::vector<MicroOp> txn;
    {
      std::lock_guard lock(mutex_);
      SEER_ASSERT(s >= 0 && static_cast<std::size_t>(s) < states_.size(),
                  "a state id known to its table");
      values = states_[static_cast<std::size_t>(s)];
      txn = txns_[static_cast<std::size_t>(op.a)];
    }
    bool changed = false;
    for (const auto& u : txn) {
      if (values.size() <= u.key) values.resize(u.key + 1, kNil);
      if (u.write) {
        changed = changed || values[u.key] != u.value;
        values[u.key] = u.value;
      } else if (u.known && values[u.key] != u.value) {
        return std::nullopt;
      }
    }
    return changed ? intern(values) : s;
  }

  std::string describe_state(State s) const override {
    std::lock_guard lock(mutex_);
    std::string out = "{";
    const auto& values = states_[static_cast<std::size_t>(s)];
    for (const auto& [key, index] : keys_) {
      out += (out.size() > 1 ? " " : "") + key + " " +
             describe_value(index < values.size() ? values[index] : kNil);
    }
    return out + "}";
  }

 private:
  static std::string where(const Operation& op) {
    return "operation " + std::to_string(op.id) + " (process " + std::to_string(op.process) + "): ";
  }
  std::size_t key_index(const std::string& key) const {
    std::lock_guard lock(mutex_);
    return keys_.emplace(key, keys_.size()).first->second;
  }
  State intern(std::vector<std::int64_t> values) const {
    while (!values.empty() && values.back() == kNil) values.pop_back();  // one form per state
    std::lock_guard lock(mutex_);
    auto [it, added] = ids_.emplace(values, static_cast<State>(states_.size()));
    if (added) states_.push_back(values);
    return it->second;
  }

  mutable std::mutex mutex_;
  mutable std::map<std::string, std::size_t> keys_;
  mutable std::map<std::vector<std::int64_t>, State> ids_;
  mutable std::vector<std::vector<std::int64_t>> states_;
  mutable std::vector<std::vector<MicroOp>> txns_;
  struct PairHash {
    std::size_t operator()(const std::pair<State, std::int64_t>& p) const {
      return std::hash<std::int64_t>()(p.first * 1'000'003 + p.second);
    }
  };
  mutable std::unordered_map<std::pair<State, std::int64_t>, std::optional<State>, PairHash>
      transitions_;
};

}  // namespace

std::unique_ptr<Model> make_multi_register_model() {
  return std::make_unique<MultiRegisterModel>();
}

}  // namespace seer::check
