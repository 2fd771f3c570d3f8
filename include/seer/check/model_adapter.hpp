// How a CheckerModel type becomes an AnyModel (included by seer/check/model.hpp): the optional
// members are found by name here, once, and each partition gets its own table of states, so a
// model is plain data and functions, and partitions are checked in parallel without locks.
#pragma once

#include "seer/check/model.hpp"

#include <cstdint>
#include <deque>
#include <functional>
#include <stdexcept>
#include <type_traits>
#include <unordered_map>

namespace seer::check {

namespace model_traits {

template <class M>
concept HasSetInit = requires(M& m, const std::string& text) {
  m.set_init(text);
};
template <class M>
concept HasHash = requires(const M& m, const typename M::State& s) {
  { m.hash(s) } -> std::convertible_to<std::size_t>;
};
template <class M>
concept HasPartition = requires(const M& m, const Operation& op) {
  { m.partition(op) } -> std::convertible_to<std::pair<nlohmann::json, Operation>>;
};
template <class M>
concept HasPartitionKey = requires(const M& m, const Operation& op) {
  { m.partition_key(op) } -> std::convertible_to<nlohmann::json>;
};
template <class M>
concept HasPartitionCall = requires(const M& m, const Operation& op) {
  { m.partition_call(op) } -> std::convertible_to<std::pair<nlohmann::json, CallOf<M>>>;
};
template <class M>
concept HasCompilePrepared = requires(const M& m, const std::vector<Operation>& ops,
                                      std::vector<CallOf<M>> calls) {
  { m.compile_all(ops, std::move(calls)) } -> std::convertible_to<std::vector<CallOf<M>>>;
};
template <class M>
concept HasPrunable = requires(const M& m, const std::vector<CallOf<M>>& calls,
                               const std::vector<Operation>& ops) {
  { m.prunable(calls, ops) } -> std::convertible_to<std::vector<bool>>;
};
template <class M>
concept HasRequiredBefore = requires(const M& m, const std::vector<CallOf<M>>& calls,
                                     const std::vector<Operation>& ops) {
  { m.required_before(calls, ops) } -> std::convertible_to<std::vector<std::vector<int>>>;
};
template <class M>
concept HasComponents = requires(const M& m, const std::vector<CallOf<M>>& calls,
                                 const std::vector<Operation>& ops) {
  { m.components(calls, ops) } -> std::convertible_to<std::vector<int>>;
};
template <class M>
concept HasDescribeOperation = requires(const M& m, const CallOf<M>& call) {
  { m.describe_operation(call) } -> std::convertible_to<std::string>;
};
template <class M>
concept HasExplainFailure = requires(const M& m, const std::vector<Operation>& ops,
                                     const Operation& op) {
  { m.explain_failure(ops, op) } -> std::convertible_to<std::optional<std::string>>;
};
template <class M>
concept HasCheckSpecial = requires(const M& m, const std::vector<Operation>& ops) {
  { m.check_special(ops) } -> std::convertible_to<std::optional<CheckResult>>;
};
template <class M>
concept MemoizesSteps = requires {
  requires M::kMemoizeSteps;
};

}  // namespace model_traits

// Numbers the states one partition's search meets. An integral state is its own number; others
// are kept in a deque (references stay valid as it grows) and found by open addressing.
template <class M>
class StateTable {
 public:
  using State = typename M::State;
  static constexpr bool kIdentity = std::is_integral_v<State>;

  explicit StateTable(const M& model) : model_(model) {}

  StateId id(State state) {
    if constexpr (kIdentity) {
      return static_cast<StateId>(state);
    } else {
      const std::uint64_t h = mix(hash(state));
      if ((states_.size() + 1) * 2 > slots_.size()) grow();
      const std::size_t mask = slots_.size() - 1;
      std::size_t i = h & mask;
      for (; slots_[i].id >= 0; i = (i + 1) & mask) {
        const Slot& slot = slots_[i];
        if (slot.hash == h && states_[static_cast<std::size_t>(slot.id)] == state) return slot.id;
      }
      slots_[i] = {h, static_cast<StateId>(states_.size())};
      states_.push_back(std::move(state));
      return slots_[i].id;
    }
  }
  decltype(auto) state(StateId id) const {
    if constexpr (kIdentity) {
      return static_cast<State>(id);
    } else {
      if (id < 0 || static_cast<std::size_t>(id) >= states_.size()) {
        throw std::logic_error("a state id unknown to its table");
      }
      return static_cast<const State&>(states_[static_cast<std::size_t>(id)]);
    }
  }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    StateId id = -1;  // -1: empty
  };
  std::size_t hash(const State& s) const {
    if constexpr (model_traits::HasHash<M>) {
      return model_.hash(s);
    } else {
      return std::hash<State>{}(s);
    }
  }
  // Spreads a weak hash (std::hash of an integer is the integer) over the table's low bits.
  static std::uint64_t mix(std::uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    return h ^ (h >> 33);
  }
  void grow() {
    std::vector<Slot> slots(slots_.empty() ? 64 : slots_.size() * 2);
    const std::size_t mask = slots.size() - 1;
    for (const Slot& s : slots_) {
      if (s.id < 0) continue;
      std::size_t i = s.hash & mask;
      while (slots[i].id >= 0) i = (i + 1) & mask;
      slots[i] = s;
    }
    slots_ = std::move(slots);
  }

  const M& model_;
  std::vector<Slot> slots_;
  std::deque<State> states_;
};

// One partition compiled by model M.
template <CheckerModel M>
class TypedHistory final : public CompiledHistory {
 public:
  TypedHistory(const M& model, const std::vector<Operation>& ops, std::vector<CallOf<M>> calls)
      : model_(model), ops_(&ops), calls_(std::move(calls)), table_(model) {
    if (calls_.size() != ops.size()) throw std::logic_error("a model compiled one call per op");
  }

  std::size_t size() const override { return calls_.size(); }
  StateId initial() override { return table_.id(model_.init()); }

  void successors(StateId s, std::size_t i, std::vector<StateId>& out) override {
    if constexpr (model_traits::MemoizesSteps<M>) {
      const auto [it, added] = memo_.try_emplace(Transition{s, i});
      if (added) compute(s, i, it->second);
      out.insert(out.end(), it->second.begin(), it->second.end());
    } else {
      compute(s, i, out);
    }
  }

  std::vector<bool> prunable() const override {
    if constexpr (model_traits::HasPrunable<M>) {
      return model_.prunable(calls_, *ops_);
    } else {
      return std::vector<bool>(calls_.size(), false);
    }
  }

  std::vector<std::vector<int>> required_before() const override {
    if constexpr (model_traits::HasRequiredBefore<M>) {
      return model_.required_before(calls_, *ops_);
    } else {
      return twin_orderings(*ops_, twin_keys());
    }
  }

  std::vector<int> components() const override {
    if constexpr (model_traits::HasComponents<M>) {
      return model_.components(calls_, *ops_);
    } else {
      return {};
    }
  }

  std::string describe_state(StateId s) const override {
    return model_.describe_state(table_.state(s));
  }

  std::string describe_operation(std::size_t i) const override {
    if constexpr (model_traits::HasDescribeOperation<M>) {
      return model_.describe_operation(calls_[i]);
    } else {
      const Operation& op = (*ops_)[i];
      std::string text = op.f;
      if (!op.input.is_null()) text += " " + to_text(op.input);
      if (!op.unknown() && !op.output.is_null()) text += " returned " + to_text(op.output);
      return text;
    }
  }

  void keep(const std::vector<int>& kept, const std::vector<Operation>& kept_ops) override {
    std::vector<CallOf<M>> calls;
    calls.reserve(kept.size());
    for (const int i : kept) calls.push_back(std::move(calls_[static_cast<std::size_t>(i)]));
    ops_ = &kept_ops;
    calls_ = std::move(calls);
    memo_.clear();
  }

 private:
  struct Transition {
    StateId state;
    std::size_t op;
    bool operator==(const Transition&) const = default;
  };
  struct TransitionHash {
    std::size_t operator()(const Transition& t) const {
      return std::hash<std::uint64_t>{}(
          static_cast<std::uint64_t>(t.state) * 0x9E3779B97F4A7C15ULL ^ t.op);
    }
  };

  void compute(StateId s, std::size_t i, std::vector<StateId>& out) {
    const auto& call = calls_[i];
    decltype(auto) from = table_.state(s);
    if constexpr (StepsToNextStates<M>) {
      effects_.clear();
      model_.step(from, call.input, call.output, effects_);
      for (std::size_t k = 0; k < effects_.size(); ++k) {
        State* to = effects_.at(k);
        out.push_back(to ? table_.id(std::move(*to)) : s);  // `s`: what table_.id(from) gives
      }
    } else if constexpr (StepsToSeveralStates<M>) {
      next_.clear();
      model_.step(from, call.input, call.output, next_);
      for (auto& state : next_) out.push_back(table_.id(std::move(state)));
    } else {
      if (auto next = model_.step(from, call.input, call.output)) {
        out.push_back(table_.id(std::move(*next)));
      }
    }
  }

  // The default twins: outcome-unknown ops whose calls are equal act alike from every state.
  std::vector<std::string> twin_keys() const {
    const auto& ops = *ops_;
    std::vector<std::string> keys(ops.size());
    if constexpr (std::equality_comparable<CallOf<M>>) {
      std::vector<std::size_t> distinct;  // the first op of each distinct unknown call
      for (std::size_t i = 0; i < ops.size(); ++i) {
        if (!ops[i].unknown()) continue;
        std::size_t k = 0;
        while (k < distinct.size() && !(calls_[distinct[k]] == calls_[i])) ++k;
        if (k == distinct.size()) distinct.push_back(i);
        keys[i] = std::to_string(k);
      }
    }
    return keys;
  }

  const M& model_;
  const std::vector<Operation>* ops_;  // the caller's
  std::vector<CallOf<M>> calls_;
  StateTable<M> table_;
  using State = typename M::State;
  std::vector<State> next_;    // scratch for models with several effects
  NextStates<State> effects_;  // the same, for models that tell an unchanged state
  std::unordered_map<Transition, std::vector<StateId>, TransitionHash> memo_;
};

// Model M behind AnyModel, under the name the registry knows it by.
template <CheckerModel M>
class ErasedModel final : public AnyModel {
 public:
  explicit ErasedModel(std::string name, M model = M{})
      : name_(std::move(name)), model_(std::move(model)) {}

  const std::string& name() const override { return name_; }
  const M& model() const { return model_; }

  void set_init(const std::string& text) override {
    if constexpr (model_traits::HasSetInit<M>) {
      model_.set_init(text);
    } else if (!text.empty()) {
      throw std::invalid_argument("model " + name_ + " takes no --init");
    }
  }

  bool partitioned() const override {
    return model_traits::HasPartition<M> || model_traits::HasPartitionKey<M> ||
           model_traits::HasPartitionCall<M>;
  }

  std::pair<nlohmann::json, Operation> partition(const Operation& op) const override {
    if constexpr (model_traits::HasPartitionCall<M>) {
      return {model_.partition_call(op).first, op};
    } else if constexpr (model_traits::HasPartitionKey<M>) {
      return {model_.partition_key(op), op};
    } else if constexpr (model_traits::HasPartition<M>) {
      return model_.partition(op);
    } else {
      return {nlohmann::json(), op};
    }
  }

  // A model that keys an op without changing it is split without copying any op; one that
  // compiles an op while keying it hands each key's calls to compile_prepared.
  KeyedParts split(const std::vector<Operation>& ops) const override {
    if constexpr (model_traits::HasPartitionCall<M> || model_traits::HasPartitionKey<M>) {
      KeyedParts parts;
      std::vector<std::unique_ptr<Prepared>> prepared;
      std::unordered_map<std::string, std::size_t> index_of;  // key (as text) -> its place
      for (std::size_t i = 0; i < ops.size(); ++i) {
        nlohmann::json key;
        std::optional<CallOf<M>> call;
        if constexpr (model_traits::HasPartitionCall<M>) {
          auto [k, c] = model_.partition_call(ops[i]);
          key = std::move(k);
          call.emplace(std::move(c));
        } else {
          key = model_.partition_key(ops[i]);
        }
        // Grouped by the key's text; a string key (the usual) without dumping it as JSON.
        const auto [it, added] = index_of.try_emplace(
            key.is_string() ? "s" + key.get_ref<const std::string&>() : "j" + to_text(key),
            parts.keys.size());
        if (added) {
          parts.keys.push_back(std::move(key));
          parts.members.emplace_back();
          prepared.push_back(call ? std::make_unique<Prepared>() : nullptr);
        }
        parts.members[it->second].push_back(static_cast<int>(i));
        if (call) prepared[it->second]->calls.push_back(std::move(*call));
      }
      for (auto& p : prepared) parts.prepared.push_back(std::move(p));
      return parts;
    } else {
      return AnyModel::split(ops);
    }
  }

  std::unique_ptr<CompiledHistory> compile(const std::vector<Operation>& ops) const override {
    std::vector<CallOf<M>> calls;
    if constexpr (model_traits::HasPartitionCall<M> && model_traits::HasCompilePrepared<M>) {
      calls.reserve(ops.size());
      for (const auto& op : ops) calls.push_back(model_.partition_call(op).second);
      calls = model_.compile_all(ops, std::move(calls));
    } else if constexpr (CompilesAllOperations<M>) {
      calls = model_.compile_all(ops);
    } else {
      calls.reserve(ops.size());
      for (const auto& op : ops) calls.push_back(model_.compile(op));
    }
    return std::make_unique<TypedHistory<M>>(model_, ops, std::move(calls));
  }

  std::unique_ptr<CompiledHistory> compile_prepared(
      const std::vector<Operation>& ops, std::unique_ptr<PreparedCalls> prepared) const override {
    auto* typed = dynamic_cast<Prepared*>(prepared.get());
    if (typed == nullptr || typed->calls.size() != ops.size()) return compile(ops);
    std::vector<CallOf<M>> calls = std::move(typed->calls);
    if constexpr (model_traits::HasCompilePrepared<M>) {
      calls = model_.compile_all(ops, std::move(calls));
    }
    return std::make_unique<TypedHistory<M>>(model_, ops, std::move(calls));
  }

  std::optional<std::string> explain_failure(const std::vector<Operation>& ops,
                                             const Operation& failing) const override {
    if constexpr (model_traits::HasExplainFailure<M>) {
      return model_.explain_failure(ops, failing);
    } else {
      (void)ops;
      (void)failing;
      return std::nullopt;
    }
  }

  std::optional<CheckResult> check_special(const std::vector<Operation>& ops) const override {
    if constexpr (model_traits::HasCheckSpecial<M>) {
      return model_.check_special(ops);
    } else {
      (void)ops;
      return std::nullopt;
    }
  }

 private:
  // The calls partition_call compiled, one key's, in the order of its ops.
  struct Prepared final : PreparedCalls {
    std::vector<CallOf<M>> calls;
  };

  std::string name_;
  M model_;
};

template <CheckerModel M>
std::unique_ptr<AnyModel> erase_model(std::string name, M model = M{}) {
  return std::make_unique<ErasedModel<M>>(std::move(name), std::move(model));
}

}  // namespace seer::check
