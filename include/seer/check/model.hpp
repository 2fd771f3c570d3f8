// A sequential specification for the linearizability checker, written as a type (as Porcupine's
// models are): its State, the Input and Output of one operation, an initial state, and a step
// function. The checker owns everything else: it compiles each partition's operations once,
// numbers the states it meets (per partition, so a model needs no interner, mutex or side table),
// and searches. A complete model:
//
//   struct Counter {
//     using State = std::int64_t;
//     using Input = std::int64_t;   // how much an add adds (0 for a read)
//     using Output = std::int64_t;  // what a read returned
//     State init() const { return 0; }
//     Call<Input, Output> compile(const Operation& op) const {
//       if (op.f == "add") return {op.input.get<std::int64_t>(), std::nullopt};
//       if (op.f == "read") return {0, op.unknown() ? std::nullopt :
//       std::optional(op.output.get<std::int64_t>())}; throw HistoryError("unknown function " +
//       op.f);
//     }
//     std::optional<State> step(State s, Input add, const std::optional<Output>& read) const {
//       if (read && *read != s) return std::nullopt;  // the read saw something else
//       return s + add;
//     }
//     std::string describe_state(State s) const { return std::to_string(s); }
//   };
//   SEER_REGISTER_MODEL("my-counter", "add n / read", Counter);   // seer/check/model_registry.hpp
//
// Optional members, found by name (see CheckerModel below and docs/checkers.md):
//   set_init(text)            --init; without it a model takes no --init
//   hash(state)               when std::hash<State> does not exist
//   step(s, in, out, next&)   instead of the optional-returning step, when an operation may have
//                             several effects (append every possible next state)
//   step(s, in, out, NextStates&)  the same, for a model that knows when an effect leaves `s` as
//                             it was (push_unchanged(): the checker numbers it without hashing)
//   compile_all(ops)          instead of compile, to compile a partition's operations together
//   partition(op)             keyed models: the op's key and the op as the per-key model sees it
//   partition_key(op)         keyed models whose per-key op is the op itself: its key alone (the
//                             checker then moves or copies the op, not the model)
//   partition_call(op)        the same, with the op's call compiled while its key is read (a
//                             model that parses an op once); compile_all(ops, calls), if the
//                             model has it, then finishes one key's calls together
//   prunable, required_before, components: facts that let the search skip work (below)
//   describe_operation(call)  how an operation reads in explanations
//   explain_failure(ops, op)  a model-specific sentence on why op cannot be placed
//   check_special(ops)        a fast checker for histories that fit a special case
//   kMemoizeSteps             true: the search remembers every (state, op) transition
#pragma once

#include "seer/check/history.hpp"
#include "seer/check/result.hpp"

#include <concepts>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace seer::check {

// One operation as a model reads it: its input, and its output if it tells anything (nullopt: the
// outcome is unknown, or the model ignores what it returned).
template <class Input, class Output>
struct Call {
  Input input{};
  std::optional<Output> output;
  bool operator==(const Call&) const = default;
};

template <class M>
using CallOf = Call<typename M::Input, typename M::Output>;

// The two ways of compiling and of stepping; a model has one of each.
template <class M>
concept CompilesEachOperation = requires(const M& m, const Operation& op) {
  { m.compile(op) } -> std::convertible_to<CallOf<M>>;
};
template <class M>
concept CompilesAllOperations = requires(const M& m, const std::vector<Operation>& ops) {
  { m.compile_all(ops) } -> std::convertible_to<std::vector<CallOf<M>>>;
};
template <class M>
concept StepsToOneState = requires(const M& m, const typename M::State& s,
                                   const typename M::Input& in,
                                   const std::optional<typename M::Output>& out) {
  { m.step(s, in, out) } -> std::convertible_to<std::optional<typename M::State>>;
};
template <class M>
concept StepsToSeveralStates = requires(const M& m, const typename M::State& s,
                                        const typename M::Input& in,
                                        const std::optional<typename M::Output>& out,
                                        std::vector<typename M::State>& next) {
  m.step(s, in, out, next);
};

// What step(s, in, out, next) appends to, for a model that knows when an effect leaves the state
// exactly as it was (a read, an operation that changes nothing): push_unchanged() stands for `s`
// itself, which the checker then numbers as `s` without copying, hashing or comparing it. The
// effects keep their order (the search tries them in it).
template <class State>
class NextStates {
 public:
  void push(State s) { effects_.emplace_back(std::move(s)); }
  void push_unchanged() { effects_.emplace_back(std::nullopt); }
  std::size_t size() const { return effects_.size(); }
  bool empty() const { return effects_.empty(); }
  // Effect k: the state it leads to, or null for `s` itself.
  const State* at(std::size_t k) const { return effects_[k] ? &*effects_[k] : nullptr; }
  State* at(std::size_t k) { return effects_[k] ? &*effects_[k] : nullptr; }
  void clear() { effects_.clear(); }

 private:
  std::vector<std::optional<State>> effects_;
};

template <class M>
concept StepsToNextStates = requires(const M& m, const typename M::State& s,
                                     const typename M::Input& in,
                                     const std::optional<typename M::Output>& out,
                                     NextStates<typename M::State>& next) {
  m.step(s, in, out, next);
};

// What a model type must have; everything else is optional (see the top of this file).
template <class M>
concept CheckerModel = requires(const M& m, const typename M::State& s) {
  typename M::Input;
  typename M::Output;
  { m.init() } -> std::convertible_to<typename M::State>;
  { m.describe_state(s) } -> std::convertible_to<std::string>;
}
&&std::equality_comparable<typename M::State> &&
    (CompilesEachOperation<M> || CompilesAllOperations<M>)&&(StepsToOneState<M> ||
                                                             StepsToSeveralStates<M> ||
                                                             StepsToNextStates<M>);

// Two outcome-unknown operations that would act alike from every state (same `key`) are
// interchangeable, and either may be placed anywhere after its invocation. So a witness never needs
// the later-invoked one without the earlier, nor before it: the later waits for the earlier. An
// empty key marks an operation with no twin. (The default required_before: twins by equal Call.)
std::vector<std::vector<int>> twin_orderings(const std::vector<Operation>& ops,
                                             const std::vector<std::string>& keys);

// A state's number within one partition's search.
using StateId = std::int64_t;

// One partition's operations compiled by a model, with its states numbered: what the search walks.
// Built per partition and used by one thread.
class CompiledHistory {
 public:
  virtual ~CompiledHistory() = default;
  virtual std::size_t size() const = 0;
  virtual StateId initial() = 0;
  // Appends the ids of every state op `i` may lead to from `s` (none: it cannot happen there).
  virtual void successors(StateId s, std::size_t i, std::vector<StateId>& out) = 0;
  // Ops the search may leave out without changing the verdict.
  virtual std::vector<bool> prunable() const = 0;
  // Per op: the ops that must be linearized before it.
  virtual std::vector<std::vector<int>> required_before() const = 0;
  // Per op: its component (-1: none), or empty (see CheckerModel's components).
  virtual std::vector<int> components() const = 0;
  virtual std::string describe_state(StateId s) const = 0;
  // Op `i` as people read it ("write 3", "read returned 4"), for explanations.
  virtual std::string describe_operation(std::size_t i) const = 0;
  // The part of `s` op `i` acts on, as people read it (the op's key when keys share one state).
  virtual std::string describe_state_of(StateId s, std::size_t i) const {
    (void)i;
    return describe_state(s);
  }
  // Keeps the ops at `kept` (ascending), renumbered 0, 1, ...; `kept_ops` are those ops, and
  // must outlive this history.
  virtual void keep(const std::vector<int>& kept, const std::vector<Operation>& kept_ops) = 0;
};

// What a keyed model compiled of each op while splitting a history by key (CheckerModel's
// partition_call), handed back to it for compiling that key's operations. Model-specific.
class PreparedCalls {
 public:
  virtual ~PreparedCalls() = default;
};

// A history split by key (AnyModel::split); the keys in the order they first appear.
struct KeyedParts {
  std::vector<nlohmann::json> keys;
  std::vector<std::vector<int>> members;  // per key: its ops' positions in the history, ascending
  // Per key: the ops as the per-key model sees them, ids renumbered 0, 1, ...; or, for every key,
  // nothing: the per-key ops are the history's own (the caller renumbers them).
  std::vector<std::vector<Operation>> inner;
  // Per key: what compile_prepared takes with that key's ops (null, or none at all: nothing).
  std::vector<std::unique_ptr<PreparedCalls>> prepared;
};

// A model behind one interface: what the registry holds and the checker takes.
class AnyModel {
 public:
  virtual ~AnyModel() = default;
  virtual const std::string& name() const = 0;
  // Parses --init; throws std::invalid_argument.
  virtual void set_init(const std::string& text) = 0;
  virtual bool partitioned() const = 0;
  // Keyed models: the op's key and the op as the per-key model sees it.
  virtual std::pair<nlohmann::json, Operation> partition(const Operation& op) const = 0;
  // Compiles one partition's operations, which must outlive the result; throws HistoryError
  // naming an operation that does not fit the model.
  virtual std::unique_ptr<CompiledHistory> compile(const std::vector<Operation>& ops) const = 0;
  // Keyed models: the history split by key, as partition() splits it op by op (the default). A
  // model may leave KeyedParts::inner empty (its per-key ops are the history's), and prepare each
  // key's calls; prepared calls may point into the ops' JSON values, which the caller keeps alive
  // (moving an Operation keeps them in place).
  virtual KeyedParts split(const std::vector<Operation>& ops) const;
  // compile(ops), given what split prepared for these ops (null: nothing; the default ignores it).
  virtual std::unique_ptr<CompiledHistory> compile_prepared(
      const std::vector<Operation>& ops, std::unique_ptr<PreparedCalls> prepared) const {
    (void)prepared;
    return compile(ops);
  }
  virtual std::optional<std::string> explain_failure(const std::vector<Operation>& ops,
                                                     const Operation& failing) const = 0;
  virtual std::optional<CheckResult> check_special(const std::vector<Operation>& ops) const = 0;
  // Runs ops[order[0]], ops[order[1]], ... one after another from the initial state: the state
  // after each (per key for keyed models) as people read it, or nullopt if the model forbids one
  // of them. For checking a witness by hand, and for reports.
  std::optional<std::vector<std::string>> replay(const std::vector<Operation>& ops,
                                                 const std::vector<int>& order) const;
  // The initial state as people read it.
  std::string describe_initial() const;
};

// Converts a history value (integer or null) to an integer (nullopt for null); throws
// HistoryError naming the operation.
std::optional<std::int64_t> integer_or_nil(const nlohmann::json& v, const Operation& op);
// "operation 3 (process 1, read, line 7)", for HistoryError messages.
std::string operation_label(const Operation& op);
// "[invoke, complete]" ("[10, unknown]" for an outcome-unknown op), for explanations.
std::string operation_interval(const Operation& op);

// FNV-1a over integers, for a model's `hash` of a state made of them (a list, a map's values).
inline std::size_t hash_integers(std::size_t h, std::int64_t v) {
  return (h ^ static_cast<std::size_t>(v)) * 0x100000001b3ULL;
}
template <class Range>
std::size_t hash_integers(const Range& values) {
  std::size_t h = 0xcbf29ce484222325ULL;
  for (const auto v : values) h = hash_integers(h, static_cast<std::int64_t>(v));
  return h;
}

}  // namespace seer::check

#include "seer/check/model_adapter.hpp"  // IWYU pragma: export
