// Set (add v, read -> all values) and FIFO queue (enqueue v, dequeue -> v) models. Their states are
// value sequences, interned to integer ids so the search keeps hashing and comparing plain
// integers.
#include "seer/assert.hpp"
#include "seer/check/model.hpp"

#include <algorithm>
#include <map>
#include <mutex>

namespace seer::check {

namespace {

std::string label(const Operation& op) {
  return "operation " + std::to_string(op.id) + " (process " + std::to_string(op.process) + ", " +
         op.f + (op.line ? ", line " + std::to_string(op.line) : std::string()) + ")";
}

// Maps value sequences to dense ids and back. Thread-safe: partitions may be checked in parallel.
class Interner {
 public:
  Interner() { id({}); }  // id 0: the empty sequence
  State id(const std::vector<std::int64_t>& values) const {
    std::lock_guard lock(mutex_);
    auto [it, added] = ids_.emplace(values, static_cast<State>(values_.size()));
    if (added) values_.push_back(values);
    return it->second;
  }
  std::vector<std::int64_t> values(State id) const {
    std::lock_guard lock(mutex_);
    SEER_ASSERT(id >= 0 && static_cast<std::size_t>(id) < values_.size(),
                "a state id known to its table");
    return values_[static_cast<std::size_t>(id)];
  }

 private:
  mutable std::mutex mutex_;
  mutable std::map<std::vector<std::int64_t>, State> ids_;
  mutable std::vector<std::vector<std::int64_t>> values_;
};

std::int64_t integer(const nlohmann::json& v, const Operation& op) {
  if (!v.is_number_integer()) {
    throw HistoryError(label(op) + ": value " + to_text(v) + " is not an integer");
  }
  return v.get<std::int64_t>();
}

std::string describe(const std::vector<std::int64_t>& values) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) out += (i ? " " : "") + std::to_string(values[i]);
  return out + "]";
}

class SetModel : public Model {
 public:
  enum Kind { kAdd, kRead };
  SetModel() { set_initial(0); }
  std::string name() const override { return "set"; }
  std::string describe_state(State s) const override { return describe(states_.values(s)); }
  State parse_initial(const std::string& text) const override {
    if (text == "[]" || text == "#{}" || text == "empty") return 0;
    throw std::invalid_argument("a set starts empty (--init [] or leave it out)");
  }
  CompiledOp compile(const Operation& op) const override {
    CompiledOp c;
    if (op.f == "add") {
      c.kind = kAdd;
      c.a = integer(op.input, op);
    } else if (op.f == "read") {
      c.kind = kRead;
      c.has_output = !op.unknown() && op.output.is_array();
      if (c.has_output) {
        std::vector<std::int64_t> values;
        for (const auto& v : op.output) values.push_back(integer(v, op));
        std::sort(values.begin(), values.end());
        values.erase(std::unique(values.begin(), values.end()), values.end());
        c.output = states_.id(values);
      }
    } else {
      throw HistoryError(label(op) + ": unknown function for model set");
    }
    return c;
  }
  std::optional<State> step(State s, const CompiledOp& op) const override {
    if (op.kind == kRead) {
      if (op.has_output && op.output != s) return std::nullopt;
      return s;
    }
    auto values = states_.values(s);
    auto at = std::lower_bound(values.begin(), values.end(), op.a);
    if (at != values.end() && *at == op.a) return s;
    values.insert(at, op.a);
    return states_.id(values);
  }
  // Unknown reads show nothing. An unknown add of a value no read contains can only be placed after
  // every read, where it changes nothing observable.
  std::vector<bool> prunable(const std::vector<CompiledOp>& ops,
                             const std::vector<bool>& unknown) const override {
    std::vector<std::int64_t> seen;
    for (const auto& op : ops) {
      if (op.kind == kRead && op.has_output) {
        const auto values = states_.values(op.output);
        seen.insert(seen.end(), values.begin(), values.end());
      }
    }
    std::sort(seen.begin(), seen.end());
    std::vector<bool> out(ops.size(), false);
    for (std::size_t i = 0; i < ops.size(); ++i) {
      if (ops[i].kind == kRead) {
        out[i] = !ops[i].has_output;
      } else if (unknown[i]) {
        out[i] = !std::binary_search(seen.begin(), seen.end(), ops[i].a);
      }
    }
    return out;
  }

 private:
  Interner states_;
};

class QueueModel : public Model {
 public:
  enum Kind { kEnqueue, kDequeue };
  QueueModel() { set_initial(0); }
  std::string name() const override { return "queue"; }
  std::string describe_state(State s) const override { return describe(states_.values(s)); }
  State parse_initial(const std::string& text) const override {
    if (text == "[]" || text == "empty") return 0;
    throw std::invalid_argument("a queue starts empty (--init [] or leave it out)");
  }
  CompiledOp compile(const Operation& op) const override {
    CompiledOp c;
    if (op.f == "enqueue") {
      c.kind = kEnqueue;
      c.a = integer(op.input, op);
    } else if (op.f == "dequeue") {
      c.kind = kDequeue;
      c.has_output = !op.unknown();
      // A dequeue that returned nil found the queue empty.
      if (c.has_output) c.output = op.output.is_null() ? kNil : integer(op.output, op);
    } else {
      throw HistoryError(label(op) + ": unknown function for model queue");
    }
    return c;
  }
  std::optional<State> step(State s, const CompiledOp& op) const override {
    auto values = states_.values(s);
    if (op.kind == kEnqueue) {
      values.push_back(op.a);
      return states_.id(values);
    }
    if (values.empty()) {
      if (op.has_output && op.output != kNil) return std::nullopt;
      return s;
    }
    if (op.has_output && op.output != values.front()) return std::nullopt;
    values.erase(values.begin());
    return states_.id(values);
  }
  // An unknown enqueue of a value never dequeued can be left out: included, it would sit in the
  // queue and block every later value from being dequeued in FIFO order.
  std::vector<bool> prunable(const std::vector<CompiledOp>& ops,
                             const std::vector<bool>& unknown) const override {
    std::vector<std::int64_t> dequeued;
    for (const auto& op : ops) {
      if (op.kind == kDequeue && op.has_output) dequeued.push_back(op.output);
    }
    std::sort(dequeued.begin(), dequeued.end());
    std::vector<bool> out(ops.size(), false);
    for (std::size_t i = 0; i < ops.size(); ++i) {
      if (ops[i].kind == kEnqueue && unknown[i]) {
        out[i] = !std::binary_search(dequeued.begin(), dequeued.end(), ops[i].a);
      }
    }
    return out;
  }

 private:
  Interner states_;
};

}  // namespace

std::unique_ptr<Model> make_set_model() {
  return std::make_unique<SetModel>();
}
std::unique_ptr<Model> make_queue_model() {
  return std::make_unique<QueueModel>();
}

}  // namespace seer::check
