// Register and compare-and-set register models.
#include "seer/check/model.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <mutex>
#include <type_traits>

namespace seer::check {

namespace {

enum Kind { kRead = 0, kWrite = 1, kCas = 2, kAppend = 3, kReadList = 4, kAppendString = 5 };

std::string op_label(const Operation& op) {
  return "operation " + std::to_string(op.id) + " (process " + std::to_string(op.process) + ", " +
         op.f + (op.line ? ", line " + std::to_string(op.line) : std::string()) + ")";
}

// Values that are not integers: strings (registers of strings, Porcupine's kv) and lists (kv
// `append`, Jepsen's list-append), interned to ids so the search still compares integers. Ids
// live just above kNil, in [kNil + 1, kInternedLimit]; register integers in that band are an
// input error (RegisterModel::value). The empty list is nil, so a list key never written reads as
// [] or nil alike. Thread-safe: keys are checked in parallel.
constexpr State kInternedLimit = kNil + (State{1} << 62);  // -2^62

class ValueInterner {
 public:
  State list(const std::vector<std::int64_t>& values) const {
    if (values.empty()) return kNil;
    std::lock_guard lock(mutex_);
    return add(lists_, values, false);
  }
  State string(const std::string& text) const {
    std::lock_guard lock(mutex_);
    return add(strings_, text, true);
  }
  bool is_list(State id) const { return kind(id) == 1; }
  bool is_string(State id) const { return kind(id) == 2; }
  std::vector<std::int64_t> list_values(State id) const {
    if (id == kNil) return {};
    std::lock_guard lock(mutex_);
    return entries_.at(index(id)).list;
  }
  std::string string_value(State id) const {
    std::lock_guard lock(mutex_);
    return entries_.at(index(id)).text;
  }

 private:
  struct Entry {
    bool is_string = false;
    std::vector<std::int64_t> list;
    std::string text;
  };
  static std::size_t index(State id) { return static_cast<std::size_t>(id - kNil - 1); }
  // 0: not interned (an integer or nil), 1: a list, 2: a string.
  int kind(State id) const {
    if (id <= kNil || id > kInternedLimit) return 0;
    std::lock_guard lock(mutex_);
    if (index(id) >= entries_.size()) return 0;
    return entries_[index(id)].is_string ? 2 : 1;
  }
  template <typename Key>
  State add(std::map<Key, State>& ids, const Key& key, bool is_string) const {
    const auto [it, added] = ids.emplace(key, kNil + 1 + static_cast<State>(entries_.size()));
    if (added) {
      if (it->second > kInternedLimit) throw HistoryError("too many distinct values to intern");
      Entry e;
      e.is_string = is_string;
      if constexpr (std::is_same_v<Key, std::string>) {
        e.text = key;
      } else {
        e.list = key;
      }
      entries_.push_back(std::move(e));
    }
    return it->second;
  }

  mutable std::mutex mutex_;
  mutable std::map<std::vector<std::int64_t>, State> lists_;
  mutable std::map<std::string, State> strings_;
  mutable std::vector<Entry> entries_;
};

class RegisterModel : public Model {
 public:
  explicit RegisterModel(bool cas) : cas_(cas) {}
  std::string name() const override { return cas_ ? "cas-register" : "register"; }

  // --init: an integer, nil, or a string in double quotes (JSON), e.g. --init '""'. A string is
  // interned in this model, so the state is for this model's set_initial only.
  State parse_initial(const std::string& text) const override {
    if (!text.empty() && text.front() == '"') {
      const auto j = nlohmann::json::parse(text, nullptr, false);
      if (j.is_discarded() || !j.is_string()) {
        throw std::invalid_argument("bad initial value '" + text + "': not a JSON string");
      }
      return values_.string(j.get<std::string>());
    }
    try {
      const State v = parse_state(text);
      if (v != kNil && v <= kInternedLimit) throw std::invalid_argument("");
      return v;
    } catch (const std::invalid_argument&) {
      throw std::invalid_argument("bad initial value '" + text +
                                  "': expected an integer from -2^62 up, nil, or a string in "
                                  "double quotes (e.g. '\"\"')");
    }
  }

  std::string describe_state(State s) const override {
    if (values_.is_string(s)) return to_text(nlohmann::json(values_.string_value(s)));
    if (values_.is_list(s)) {
      std::string out = "[";
      for (auto v : values_.list_values(s)) out += (out.size() > 1 ? " " : "") + std::to_string(v);
      return out + "]";
    }
    return describe_value(s);
  }

  CompiledOp compile(const Operation& op) const override {
    CompiledOp c;
    if (op.f == "read") {
      c.kind = kRead;
      c.has_output = !op.unknown();
      if (c.has_output) c.output = value(op.output, op);
      // Following Knossos: when the register can never hold nil (its initial value is not nil and
      // writes are integers), a read that returned nil carries no information, like a timed-out
      // read.
      if (c.has_output && c.output == kNil && initial() != kNil) c.has_output = false;
    } else if (op.f == "write") {
      c.kind = kWrite;
      c.a = value(op.input, op);
    } else if (cas_ && op.f == "cas") {
      c.kind = kCas;
      if (!op.input.is_array() || op.input.size() != 2) {
        throw HistoryError(op_label(op) + ": cas expects [old new]");
      }
      c.a = value(op.input[0], op);
      c.b = value(op.input[1], op);
    } else {
      throw HistoryError(op_label(op) + ": unknown function for model " + name());
    }
    return c;
  }

  // An unknown read changes nothing and shows nothing. An unknown write (or cas) of a value that no
  // read returns and no cas expects can always be omitted: any linearization that includes it stays
  // valid without it, because nothing between it and the next write can have observed its value.
  std::vector<bool> prunable(const std::vector<CompiledOp>& ops,
                             const std::vector<bool>& unknown) const override {
    std::vector<State> observed;
    for (const auto& op : ops) {
      if (op.kind == kRead && op.has_output) observed.push_back(op.output);
      if (op.kind == kCas) observed.push_back(op.a);
    }
    std::sort(observed.begin(), observed.end());
    // A string append builds on whatever was written before it, so a write whose value no read
    // returns may still be observed as the prefix of one: with appends, no write is left out.
    const bool appends = std::any_of(ops.begin(), ops.end(), [](const CompiledOp& op) {
      return op.kind == kAppend || op.kind == kAppendString;
    });
    std::vector<bool> out(ops.size(), false);
    for (std::size_t i = 0; i < ops.size(); ++i) {
      if (ops[i].kind == kRead || ops[i].kind == kReadList) {
        out[i] = !ops[i].has_output;  // sees nothing, changes nothing
      } else if (unknown[i] && !appends) {
        const State written = ops[i].kind == kWrite ? ops[i].a : ops[i].b;
        out[i] = !std::binary_search(observed.begin(), observed.end(), written);
      }
    }
    return out;
  }

  std::optional<State> step(State s, const CompiledOp& op) const override {
    switch (op.kind) {
      case kRead:
        if (op.has_output && op.output != s) return std::nullopt;
        return s;
      case kWrite:
        return op.a;
      case kCas:
        if (s != op.a) return std::nullopt;
        return op.b;
      default:
        return step_list(s, op);
    }
  }

 protected:
  // A register value: an integer (outside the interned band), nil, or a string (interned).
  State value(const nlohmann::json& v, const Operation& op) const {
    if (v.is_string()) return values_.string(v.get<std::string>());
    const State s = value_of(v, op);
    if (s != kNil && s <= kInternedLimit) {
      throw HistoryError(op_label(op) + ": integer " + std::to_string(s) +
                         " is below -2^62, the least a register holds");
    }
    return s;
  }

  ValueInterner values_;

  virtual std::optional<State> step_list(State s, const CompiledOp& op) const {
    (void)s;
    (void)op;
    return std::nullopt;
  }

 private:
  bool cas_;
};

// A map of independent registers: each key is a register, checked on its own (Herlihy & Wing's
// locality). Keys come from the op's "key" field, or from Jepsen's independent tuples, where the
// value is [key value].
class KvModel : public RegisterModel {
 public:
  KvModel() : RegisterModel(true) {}
  std::string name() const override { return "kv"; }
  bool partitioned() const override { return true; }

  CompiledOp compile(const Operation& op) const override {
    const bool string_append = op.f == "append" && op.input.is_string();
    const bool list_read = op.f == "read" && !op.unknown() && op.output.is_array();
    const bool list_op = (op.f == "append" && !string_append) || list_read;
    const bool register_op =
        !list_op && (op.f != "read" || op.output.is_number_integer() || op.output.is_string());
    const auto integer = [](const nlohmann::json& v) { return v.is_number_integer(); };
    const bool integer_value =
        register_op &&
        (integer(op.input) || integer(op.output) ||
         (op.input.is_array() && std::any_of(op.input.begin(), op.input.end(), integer)));
    {
      std::lock_guard lock(mutex_);
      auto& use = key_use_[to_text(op.key)];
      use |= (list_op ? 1 : 0) | (register_op ? 2 : 0) | (integer_value ? 4 : 0) |
             (string_append ? 8 : 0);
      if ((use & 3) == 3) {
        throw HistoryError(op_label(op) + ": key " + to_text(op.key) +
                           " is used both as a register and as a list (append)");
      }
      if ((use & 12) == 12) {
        throw HistoryError(op_label(op) + ": key " + to_text(op.key) +
                           " holds integers but is appended strings to");
      }
    }
    CompiledOp c;
    if (string_append) {
      c.kind = kAppendString;
      c.a = values_.string(op.input.get<std::string>());
      return c;
    }
    if (!list_op) return RegisterModel::compile(op);
    if (op.f == "append") {
      c.kind = kAppend;
      c.a = value(op.input, op);
      if (c.a == kNil) throw HistoryError(op_label(op) + ": append needs an integer or a string");
      return c;
    }
    c.kind = kReadList;
    c.has_output = true;
    std::vector<std::int64_t> list;
    for (const auto& v : op.output) {
      if (!v.is_number_integer()) throw HistoryError(op_label(op) + ": a list holds integers");
      list.push_back(value(v, op));
    }
    c.output = values_.list(list);
    return c;
  }

  std::optional<std::pair<nlohmann::json, Operation>> split(const Operation& op) const override {
    Operation inner = op;
    if (op.f == "get") inner.f = "read";
    if (op.f == "put") inner.f = "write";
    if (!op.key.is_null()) return std::make_pair(op.key, inner);
    // Jepsen independent: [key value] on the invocation, [key result] on the completion.
    const bool tuple_in = op.input.is_array() && op.input.size() == 2;
    if (!tuple_in) {
      throw HistoryError(op_label(op) + ": kv ops need a \"key\" field or a [key value] value");
    }
    inner.input = op.input[1];
    inner.key = op.input[0];
    if (op.output.is_array() && op.output.size() == 2) inner.output = op.output[1];
    return std::make_pair(op.input[0], inner);
  }

 protected:
  // --init sets the registers' initial value; a list key starts empty whatever it says. A string
  // key never written (nil) is appended to as the empty string, as in Porcupine's kv model.
  std::optional<State> step_list(State s, const CompiledOp& op) const override {
    if (op.kind == kAppendString) {
      std::string text;
      if (s != kNil) {
        if (!values_.is_string(s)) return std::nullopt;
        text = values_.string_value(s);
      }
      return values_.string(text + values_.string_value(op.a));
    }
    if (s == initial() && !values_.is_list(s)) s = kNil;
    if (op.kind == kReadList) {
      if (op.has_output && op.output != s) return std::nullopt;
      return s;
    }
    if (s != kNil && !values_.is_list(s)) return std::nullopt;
    auto list = values_.list_values(s);
    list.push_back(op.a);
    return values_.list(list);
  }

 private:
  mutable std::mutex mutex_;
  // bit 1: list ops, 2: register ops, 4: integer register values, 8: string appends
  mutable std::map<std::string, int> key_use_;
};

}  // namespace

State value_of(const nlohmann::json& v, const Operation& op) {
  if (v.is_null()) return kNil;
  if (v.is_number_integer()) return v.get<std::int64_t>();
  throw HistoryError(op_label(op) + ": value " + to_text(v) + " is not an integer or null");
}

namespace {

// Models registered from outside the library, by name (std::map: a stable order for messages).
std::map<std::string, std::function<std::unique_ptr<Model>()>>& registered_models() {
  static std::map<std::string, std::function<std::unique_ptr<Model>()>> models;
  return models;
}
std::mutex registered_models_mutex;

}  // namespace

void register_model(const std::string& name, std::function<std::unique_ptr<Model>()> factory) {
  std::lock_guard lock(registered_models_mutex);
  registered_models().emplace(name, std::move(factory));
}

std::string model_names() {
  std::string names = "register, cas-register, kv, mutex, counter, set, queue, multi-register";
  std::lock_guard lock(registered_models_mutex);
  for (const auto& [name, factory] : registered_models()) names += ", " + name;
  return names;
}

State Model::parse_initial(const std::string& text) const {
  return parse_state(text);
}

std::vector<CompiledOp> Model::compile_all(const std::vector<Operation>& ops) const {
  std::vector<CompiledOp> out;
  out.reserve(ops.size());
  for (const auto& op : ops) out.push_back(compile(op));
  return out;
}

std::vector<std::vector<int>> twin_orderings(const std::vector<Operation>& ops,
                                             const std::vector<std::string>& keys) {
  std::vector<std::size_t> order(ops.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return ops[a].invoke < ops[b].invoke; });
  std::vector<std::vector<int>> before(ops.size());
  std::map<std::string, std::size_t> latest;  // key -> latest-invoked twin so far
  for (const auto i : order) {
    if (!ops[i].unknown() || keys[i].empty()) continue;
    auto [it, first] = latest.try_emplace(keys[i], i);
    if (!first) {
      before[i].push_back(static_cast<int>(it->second));  // a chain: each waits for the previous
      it->second = i;
    }
  }
  return before;
}

std::vector<std::vector<int>> Model::required_before(const std::vector<CompiledOp>& compiled,
                                                     const std::vector<Operation>& ops) const {
  std::vector<std::string> keys;
  keys.reserve(compiled.size());
  for (const auto& c : compiled) {
    keys.push_back(std::to_string(c.kind) + "/" + std::to_string(c.a) + "/" + std::to_string(c.b));
  }
  return twin_orderings(ops, keys);
}

State parse_state(const std::string& text) {
  if (text == "nil" || text == "null") return kNil;
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
    throw std::invalid_argument("bad initial value '" + text + "': expected an integer or nil");
  }
  return v;
}

std::unique_ptr<Model> make_model(const std::string& name) {
  if (name == "register") return std::make_unique<RegisterModel>(false);
  if (name == "cas-register") return std::make_unique<RegisterModel>(true);
  if (name == "kv") return std::make_unique<KvModel>();
  if (name == "mutex") return make_mutex_model();
  if (name == "counter") return make_counter_model();
  if (name == "set") return make_set_model();
  if (name == "queue") return make_queue_model();
  if (name == "multi-register") return make_multi_register_model();
  std::lock_guard lock(registered_models_mutex);
  const auto it = registered_models().find(name);
  return it == registered_models().end() ? nullptr : it->second();
}

}  // namespace seer::check
