// Set (add v, read -> all values) and FIFO queue (enqueue v, dequeue -> v) models: their states
// are the values held, in order.
#include "../builtin_models.hpp"
#include "special_checkers.hpp"

#include <algorithm>

namespace seer::check {

namespace {

using Values = std::vector<std::int64_t>;

std::int64_t integer(const nlohmann::json& v, const Operation& op) {
  if (!v.is_number_integer()) {
    throw HistoryError(operation_label(op) + ": value " + to_text(v) + " is not an integer");
  }
  return v.get<std::int64_t>();
}

std::string describe(const Values& values) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) out += (i ? " " : "") + std::to_string(values[i]);
  return out + "]";
}

// A set starts empty; its state is its values, sorted.
class SetModel {
 public:
  struct Input {
    bool add = false;
    std::int64_t value = 0;  // added
    bool operator==(const Input&) const = default;
  };
  using Output = Values;  // a read's values, sorted, without repeats
  using State = Values;
  // A read would copy the set to return it unchanged: remember each transition instead.
  static constexpr bool kMemoizeSteps = true;

  State init() const { return {}; }
  void set_init(const std::string& text) {
    if (text == "[]" || text == "#{}" || text == "empty") return;
    throw std::invalid_argument("a set starts empty (--init [] or leave it out)");
  }
  std::size_t hash(const State& s) const { return hash_integers(s); }
  std::string describe_state(const State& s) const { return describe(s); }

  CallOf<SetModel> compile(const Operation& op) const {
    CallOf<SetModel> c;
    if (op.f == "add") {
      c.input = {true, integer(op.input, op)};
    } else if (op.f == "read") {
      if (!op.unknown() && op.output.is_array()) {
        Values values;
        for (const auto& v : op.output) values.push_back(integer(v, op));
        std::sort(values.begin(), values.end());
        values.erase(std::unique(values.begin(), values.end()), values.end());
        c.output = std::move(values);
      }
    } else {
      throw HistoryError(operation_label(op) + ": unknown function for model set");
    }
    return c;
  }

  std::optional<State> step(const State& s, const Input& in,
                            const std::optional<Output>& out) const {
    if (!in.add) {
      if (out && *out != s) return std::nullopt;
      return s;
    }
    const auto at = std::lower_bound(s.begin(), s.end(), in.value);
    if (at != s.end() && *at == in.value) return s;
    State next = s;
    next.insert(next.begin() + (at - s.begin()), in.value);
    return next;
  }

  // Unknown reads show nothing. An unknown add of a value no read contains can only be placed after
  // every read, where it changes nothing observable.
  std::vector<bool> prunable(const std::vector<CallOf<SetModel>>& calls,
                             const std::vector<Operation>& ops) const {
    Values seen;
    for (const auto& c : calls) {
      if (!c.input.add && c.output) seen.insert(seen.end(), c.output->begin(), c.output->end());
    }
    std::sort(seen.begin(), seen.end());
    std::vector<bool> out(calls.size(), false);
    for (std::size_t i = 0; i < calls.size(); ++i) {
      if (!calls[i].input.add) {
        out[i] = !calls[i].output;
      } else if (ops[i].unknown()) {
        out[i] = !std::binary_search(seen.begin(), seen.end(), calls[i].input.value);
      }
    }
    return out;
  }

  // A grow-only set whose adds are distinct: a linear-time check (set_checker.cpp).
  std::optional<CheckResult> check_special(const std::vector<Operation>& ops) const {
    return check_set_special(ops);
  }
};

// A FIFO queue starts empty; its state is its values, oldest first.
class QueueModel {
 public:
  struct Input {
    bool enqueue = false;
    std::int64_t value = 0;  // enqueued
    bool operator==(const Input&) const = default;
  };
  using Output = std::optional<std::int64_t>;  // what a dequeue returned (nullopt: nil, empty)
  using State = Values;

  State init() const { return {}; }
  void set_init(const std::string& text) {
    if (text == "[]" || text == "empty") return;
    throw std::invalid_argument("a queue starts empty (--init [] or leave it out)");
  }
  std::size_t hash(const State& s) const { return hash_integers(s); }
  std::string describe_state(const State& s) const { return describe(s); }

  CallOf<QueueModel> compile(const Operation& op) const {
    CallOf<QueueModel> c;
    if (op.f == "enqueue") {
      c.input = {true, integer(op.input, op)};
    } else if (op.f == "dequeue") {
      if (!op.unknown()) {
        c.output = op.output.is_null() ? Output() : Output(integer(op.output, op));
      }
    } else {
      throw HistoryError(operation_label(op) + ": unknown function for model queue");
    }
    return c;
  }

  std::optional<State> step(const State& s, const Input& in,
                            const std::optional<Output>& out) const {
    if (in.enqueue) {
      State next = s;
      next.push_back(in.value);
      return next;
    }
    if (s.empty()) {
      if (out && out->has_value()) return std::nullopt;
      return s;
    }
    if (out && *out != s.front()) return std::nullopt;
    return State(s.begin() + 1, s.end());
  }

  // An unknown enqueue of a value never dequeued can be left out: included, it would sit in the
  // queue and block every later value from being dequeued in FIFO order.
  std::vector<bool> prunable(const std::vector<CallOf<QueueModel>>& calls,
                             const std::vector<Operation>& ops) const {
    Values dequeued;
    for (const auto& c : calls) {
      if (!c.input.enqueue && c.output && c.output->has_value()) dequeued.push_back(**c.output);
    }
    std::sort(dequeued.begin(), dequeued.end());
    std::vector<bool> out(calls.size(), false);
    for (std::size_t i = 0; i < calls.size(); ++i) {
      if (calls[i].input.enqueue && ops[i].unknown()) {
        out[i] = !std::binary_search(dequeued.begin(), dequeued.end(), calls[i].input.value);
      }
    }
    return out;
  }
};

}  // namespace

ModelEntry set_model_entry() {
  return {"set", "add v, read -> every value added; starts empty",
          [] { return erase_model<SetModel>("set"); }};
}

ModelEntry queue_model_entry() {
  return {"queue", "enqueue v, dequeue -> the oldest value (nil when empty); starts empty",
          [] { return erase_model<QueueModel>("queue"); }};
}

}  // namespace seer::check
