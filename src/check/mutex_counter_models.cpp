// Mutex (acquire/release, as in Knossos: no owner is tracked) and counter (add n / read) models.
#include "seer/check/model.hpp"

namespace seer::check {

namespace {

std::string label(const Operation& op) {
  return "operation " + std::to_string(op.id) + " (process " + std::to_string(op.process) + ", " +
         op.f + (op.line ? ", line " + std::to_string(op.line) : std::string()) + ")";
}

class MutexModel : public Model {
 public:
  enum Kind { kAcquire, kRelease };
  MutexModel() { set_initial(0); }
  std::string name() const override { return "mutex"; }
  State parse_initial(const std::string& text) const override {
    if (text == "free" || text == "0") return 0;
    if (text == "held" || text == "1") return 1;
    throw std::invalid_argument("bad initial mutex state '" + text + "': expected free or held");
  }
  CompiledOp compile(const Operation& op) const override {
    CompiledOp c;
    if (op.f == "acquire") {
      c.kind = kAcquire;
    } else if (op.f == "release") {
      c.kind = kRelease;
    } else {
      throw HistoryError(label(op) + ": unknown function for model mutex");
    }
    return c;
  }
  std::optional<State> step(State s, const CompiledOp& op) const override {
    if (op.kind == kAcquire) return s == 0 ? std::optional<State>(1) : std::nullopt;
    return s == 1 ? std::optional<State>(0) : std::nullopt;
  }
};

class CounterModel : public Model {
 public:
  enum Kind { kAdd, kRead };
  CounterModel() { set_initial(0); }
  std::string name() const override { return "counter"; }
  CompiledOp compile(const Operation& op) const override {
    CompiledOp c;
    if (op.f == "add" || op.f == "increment") {
      c.kind = kAdd;
      c.a = op.input.is_null() ? 1 : value_of(op.input, op);
    } else if (op.f == "read") {
      c.kind = kRead;
      c.has_output = !op.unknown() && !op.output.is_null();
      if (c.has_output) c.output = value_of(op.output, op);
    } else {
      throw HistoryError(label(op) + ": unknown function for model counter");
    }
    return c;
  }
  std::optional<State> step(State s, const CompiledOp& op) const override {
    if (op.kind == kAdd) return s + op.a;
    if (op.has_output && op.output != s) return std::nullopt;
    return s;
  }
  std::vector<bool> prunable(const std::vector<CompiledOp>& ops,
                             const std::vector<bool>&) const override {
    std::vector<bool> out(ops.size(), false);
    for (std::size_t i = 0; i < ops.size(); ++i)
      out[i] = ops[i].kind == kRead && !ops[i].has_output;
    return out;
  }
};

}  // namespace

std::unique_ptr<Model> make_mutex_model() {
  return std::make_unique<MutexModel>();
}
std::unique_ptr<Model> make_counter_model() {
  return std::make_unique<CounterModel>();
}

}  // namespace seer::check
