// A sequential specification for the linearizability checker. Operations are compiled once into a
// compact form so the search's inner loop never touches JSON. A state is one int64: registers use
// it directly; models with richer states (sets, queues, multi-registers, kv lists, promises) map
// theirs to ids themselves.
#pragma once

#include "seer/check/history.hpp"

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace seer::check {

using State = std::int64_t;
constexpr State kNil =
    std::numeric_limits<std::int64_t>::min();  // a register never written (`nil`)

struct CompiledOp {
  int kind = 0;        // model-specific
  std::int64_t a = 0;  // argument(s)
  std::int64_t b = 0;
  bool has_output = false;  // false for info ops: their result was never seen
  std::int64_t output = 0;
};

class Model {
 public:
  virtual ~Model() = default;
  virtual std::string name() const = 0;
  virtual State initial() const { return initial_; }
  void set_initial(State s) { initial_ = s; }
  // Parses a --init value for this model (default: an integer or nil). Throws
  // std::invalid_argument.
  virtual State parse_initial(const std::string& text) const;
  // Validates and compiles an operation; throws HistoryError naming the operation if it does not
  // fit.
  virtual CompiledOp compile(const Operation& op) const = 0;
  // Compiles the operations of one history (or one partition of it) together, so a model can use
  // what the whole history observed (e.g. the values an operation of unknown outcome could have
  // chosen). Default: compile each.
  virtual std::vector<CompiledOp> compile_all(const std::vector<Operation>& ops) const;
  // The state after `op`, or nullopt if the model cannot produce the op's observed result from
  // `state`.
  virtual std::optional<State> step(State state, const CompiledOp& op) const = 0;
  // Every state `op` may lead to from `state`, for models where an operation's effect is not
  // determined by its recorded input (appended to `out`, best candidates first). Default: step.
  virtual void successors(State state, const CompiledOp& op, std::vector<State>& out) const {
    if (auto next = step(state, op)) out.push_back(*next);
  }
  // Marks operations the search may leave out without changing the verdict (e.g. an outcome-unknown
  // write whose value nothing observes). `unknown[i]` says whether op i's outcome is unknown.
  // Default: none.
  virtual std::vector<bool> prunable(const std::vector<CompiledOp>& ops,
                                     const std::vector<bool>& unknown) const {
    (void)unknown;
    return std::vector<bool>(ops.size(), false);
  }
  // Orderings the search may impose without changing the verdict: `before[i]` lists operations
  // that must be linearized before op i. Default: twins (see `twin_orderings`) by compiled form.
  virtual std::vector<std::vector<int>> required_before(const std::vector<CompiledOp>& compiled,
                                                        const std::vector<Operation>& ops) const;
  // Components of a history's operations: an outcome-unknown op can matter only to the known ops of
  // its component (and, through time or ordering, never helps any other). Once every known op of
  // its component is linearized, the search leaves it out. -1: in no component (never left out, and
  // keeps nothing alive). Empty (the default): no such structure.
  virtual std::vector<int> components(const std::vector<CompiledOp>& ops) const {
    (void)ops;
    return {};
  }
  // Keyed models (P-compositionality): the key of an op and the op rewritten for the per-key model,
  // or nullopt when the model is not partitioned. Each key's sub-history is checked on its own.
  virtual std::optional<std::pair<nlohmann::json, Operation>> split(const Operation& op) const {
    (void)op;
    return std::nullopt;
  }
  virtual bool partitioned() const { return false; }
  static std::string describe_value(State v) { return v == kNil ? "nil" : std::to_string(v); }
  // A state as people read it (for reports); models with interned states override it.
  virtual std::string describe_state(State s) const { return describe_value(s); }

 private:
  State initial_ = kNil;
};

// Two outcome-unknown operations that would act alike from every state (same `key`) are
// interchangeable, and either may be placed anywhere after its invocation. So a witness never needs
// the later-invoked one without the earlier, nor before it: the later waits for the earlier. An
// empty key marks an operation with no twin.
std::vector<std::vector<int>> twin_orderings(const std::vector<Operation>& ops,
                                             const std::vector<std::string>& keys);

// "register" (read, write), "cas-register" (read, write, cas [old new]) and "kv" (get/read and
// put/write per key, checked key by key). nullptr if unknown.
std::unique_ptr<Model> make_model(const std::string& name);
std::unique_ptr<Model> make_mutex_model();
std::unique_ptr<Model> make_counter_model();
std::unique_ptr<Model> make_set_model();
std::unique_ptr<Model> make_queue_model();
std::unique_ptr<Model> make_multi_register_model();
// The names make_model knows, comma-separated, for error messages.
std::string model_names();
// Adds a model defined outside the checker library (e.g. a system's own sequential model, such as
// "promises"); make_model then knows it by `name`. Built-in names cannot be replaced.
void register_model(const std::string& name, std::function<std::unique_ptr<Model>()> factory);

// Registers a checker model when the program starts, from the translation unit that defines it:
//   SEER_REGISTER_MODEL("queue", [] { return std::make_unique<QueueModel>(); });
struct ModelRegistrar {
  ModelRegistrar(const std::string& name, std::function<std::unique_ptr<Model>()> factory) {
    register_model(name, std::move(factory));
  }
};
#define SEER_CHECK_CONCAT_(a, b) a##b
#define SEER_CHECK_CONCAT(a, b) SEER_CHECK_CONCAT_(a, b)
#define SEER_REGISTER_MODEL(name, ...)                                                \
  static const ::seer::check::ModelRegistrar SEER_CHECK_CONCAT(seer_model_registrar_, \
                                                               __COUNTER__) {         \
    name, __VA_ARGS__                                                                 \
  }
// Parses --init: an integer or "nil"/"null". Throws std::invalid_argument.
State parse_state(const std::string& text);
// Converts a history value (integer or null) to a State; throws HistoryError.
State value_of(const nlohmann::json& v, const Operation& op);

}  // namespace seer::check
