// Mutex (acquire/release, as in Knossos: no owner is tracked) and counter (add n / read) models.
#include "../builtin_models.hpp"

namespace seer::check {

namespace {

class MutexModel {
 public:
  using State = std::int64_t;  // 1: held
  using Input = bool;          // acquire
  using Output = bool;         // (nothing is returned)

  State init() const { return held_ ? 1 : 0; }
  void set_init(const std::string& text) {
    if (text == "free" || text == "0") {
      held_ = false;
    } else if (text == "held" || text == "1") {
      held_ = true;
    } else {
      throw std::invalid_argument("bad initial mutex state '" + text + "': expected free or held");
    }
  }
  std::string describe_state(State s) const { return s ? "held" : "free"; }

  CallOf<MutexModel> compile(const Operation& op) const {
    if (op.f != "acquire" && op.f != "release") {
      throw HistoryError(operation_label(op) + ": unknown function for model mutex");
    }
    return {op.f == "acquire", std::nullopt};
  }
  std::optional<State> step(State s, bool acquire, const std::optional<Output>&) const {
    if (acquire) return s == 0 ? std::optional<State>(1) : std::nullopt;
    return s == 1 ? std::optional<State>(0) : std::nullopt;
  }

 private:
  bool held_ = false;
};

class CounterModel {
 public:
  using State = std::int64_t;
  using Input = std::int64_t;   // added (0 for a read)
  using Output = std::int64_t;  // read

  State init() const { return 0; }
  std::string describe_state(State s) const { return std::to_string(s); }

  CallOf<CounterModel> compile(const Operation& op) const {
    if (op.f == "add" || op.f == "increment") {
      if (op.input.is_null()) return {1, std::nullopt};
      const auto n = integer_or_nil(op.input, op);
      return {n.value_or(1), std::nullopt};
    }
    if (op.f == "read") {
      CallOf<CounterModel> c;
      if (!op.unknown()) c.output = integer_or_nil(op.output, op);
      return c;
    }
    throw HistoryError(operation_label(op) + ": unknown function for model counter");
  }
  std::optional<State> step(State s, Input add, const std::optional<Output>& read) const {
    if (read && *read != s) return std::nullopt;
    return s + add;
  }
  // A read that returned nothing shows nothing and changes nothing.
  std::vector<bool> prunable(const std::vector<CallOf<CounterModel>>& calls,
                             const std::vector<Operation>& ops) const {
    std::vector<bool> out(calls.size(), false);
    for (std::size_t i = 0; i < calls.size(); ++i) {
      out[i] = ops[i].f == "read" && !calls[i].output;
    }
    return out;
  }
};

}  // namespace

ModelEntry mutex_model_entry() {
  return {"mutex", "acquire, release (no owner tracked); --init free or held",
          [] { return erase_model<MutexModel>("mutex"); }};
}

ModelEntry counter_model_entry() {
  return {"counter", "add n (or increment), read; starts at 0",
          [] { return erase_model<CounterModel>("counter"); }};
}

}  // namespace seer::check
