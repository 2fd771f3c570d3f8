// Multi-register (Knossos): `txn` operations whose value is a list of [:read k v] / [:write k v]
// micro-operations over several registers, applied atomically.
#include "../builtin_models.hpp"
#include "../edn_reader.hpp"

#include <algorithm>

namespace seer::check {

namespace {

struct MicroOp {
  bool write = false;
  std::string key;
  std::optional<std::int64_t> value;  // nullopt: a read whose value was not observed
  bool operator==(const MicroOp&) const = default;
};

class MultiRegisterModel {
 public:
  // Every register written (or set by --init), by name, sorted; a register not in it is nil.
  using State = std::vector<std::pair<std::string, std::int64_t>>;
  using Input = std::vector<MicroOp>;
  using Output = bool;  // (the observed values are in the micro-ops)
  // The search meets the same (state, txn) pairs again and again: a repeat costs one lookup
  // instead of copying a map.
  static constexpr bool kMemoizeSteps = true;

  State init() const { return init_; }

  void set_init(const std::string& text) {
    nlohmann::json init;
    try {
      init = read_edn_value(text, "--init");
    } catch (const HistoryError& e) {
      throw std::invalid_argument(e.what());
    }
    if (!init.is_object())
      throw std::invalid_argument("multi-register --init expects a map, e.g. {:x 0 :y 0}");
    State state;
    for (const auto& [k, v] : init.items()) {
      if (!v.is_number_integer()) throw std::invalid_argument("initial values must be integers");
      set(state, ":" + k, v.get<std::int64_t>());
    }
    init_ = std::move(state);
  }

  std::size_t hash(const State& s) const {
    std::size_t h = 0xcbf29ce484222325ULL;
    for (const auto& [key, value] : s) {
      h = hash_integers(h, static_cast<std::int64_t>(std::hash<std::string>{}(key)));
      h = hash_integers(h, value);
    }
    return h;
  }

  std::string describe_state(const State& s) const {
    std::string out = "{";
    for (const auto& [key, value] : s) {
      out += (out.size() > 1 ? " " : "") + key + " " + std::to_string(value);
    }
    return out + "}";
  }

  CallOf<MultiRegisterModel> compile(const Operation& op) const {
    const auto where = [&] { return operation_label(op) + ": "; };
    if (op.f != "txn") throw HistoryError(where() + "unknown function for model multi-register");
    const nlohmann::json& micro = op.unknown() ? op.input : op.output;
    if (!micro.is_array()) throw HistoryError(where() + "txn value must be a list of micro-ops");
    CallOf<MultiRegisterModel> call;
    for (const auto& m : micro) {
      if (!m.is_array() || m.size() != 3 || !m[0].is_string()) {
        throw HistoryError(where() + "micro-op must be [:read|:write key value]");
      }
      const std::string f = m[0].get<std::string>();
      MicroOp u;
      u.write = f == ":write" || f == "write";
      if (!u.write && f != ":read" && f != "read") {
        throw HistoryError(where() + "unknown micro-op " + f);
      }
      u.key = m[1].is_string() ? m[1].get<std::string>() : to_text(m[1]);
      if (m[2].is_number_integer()) {
        u.value = m[2].get<std::int64_t>();
      } else if (!m[2].is_null()) {
        throw HistoryError(where() + "micro-op value must be an integer or nil");
      } else if (u.write) {
        throw HistoryError(where() + "a write needs a value");
      }
      call.input.push_back(std::move(u));
    }
    return call;
  }

  std::optional<State> step(const State& s, const Input& txn, const std::optional<Output>&) const {
    State next = s;
    for (const auto& u : txn) {
      if (u.write) {
        set(next, u.key, *u.value);
      } else if (u.value && get(next, u.key) != u.value) {
        return std::nullopt;
      }
    }
    return next;
  }

 private:
  static std::optional<std::int64_t> get(const State& s, const std::string& key) {
    const auto it =
        std::lower_bound(s.begin(), s.end(), key,
                         [](const auto& entry, const std::string& k) { return entry.first < k; });
    if (it == s.end() || it->first != key) return std::nullopt;
    return it->second;
  }
  static void set(State& s, const std::string& key, std::int64_t value) {
    const auto it =
        std::lower_bound(s.begin(), s.end(), key,
                         [](const auto& entry, const std::string& k) { return entry.first < k; });
    if (it != s.end() && it->first == key) {
      it->second = value;
    } else {
      s.insert(it, {key, value});
    }
  }

  State init_;
};

}  // namespace

ModelEntry multi_register_model_entry() {
  return {"multi-register",
          "txn [[:read k v] [:write k v] ...] over several registers, atomically; --init {:x 0}",
          [] { return erase_model<MultiRegisterModel>("multi-register"); }};
}

}  // namespace seer::check
