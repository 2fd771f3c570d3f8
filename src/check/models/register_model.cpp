#include "register_model.hpp"

#include "../builtin_models.hpp"

#include <algorithm>
#include <charconv>
#include <map>

namespace seer::check {

std::string describe_value(const RegisterValue& v) {
  if (is_nil(v)) return "nil";
  if (const auto* n = std::get_if<std::int64_t>(&v)) return std::to_string(*n);
  if (const auto* s = std::get_if<std::string>(&v)) return to_text(nlohmann::json(*s));
  std::string out = "[";
  for (const auto n : std::get<std::vector<std::int64_t>>(v)) {
    out += (out.size() > 1 ? " " : "") + std::to_string(n);
  }
  return out + "]";
}

void RegisterModel::set_init(const std::string& text) {
  if (!text.empty() && text.front() == '"') {
    const auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_string()) {
      throw std::invalid_argument("bad initial value '" + text + "': not a JSON string");
    }
    init_ = j.get<std::string>();
    return;
  }
  if (text == "nil" || text == "null") {
    init_ = std::monostate{};
    return;
  }
  std::int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
    throw std::invalid_argument("bad initial value '" + text +
                                "': expected an integer, nil, or a string in double quotes (e.g. "
                                "'\"\"')");
  }
  init_ = v;
}

RegisterValue RegisterModel::value(const nlohmann::json& v, const Operation& op) const {
  if (v.is_string()) return v.get<std::string>();
  if (const auto n = integer_or_nil(v, op)) return *n;
  return std::monostate{};
}

CallOf<RegisterModel> RegisterModel::compile_register(const Operation& op) const {
  CallOf<RegisterModel> c;
  if (op.f == "read") {
    c.input.kind = Kind::kRead;
    if (!op.unknown()) c.output = value(op.output, op);
    // Following Knossos: when the register can never hold nil (its initial value is not nil and
    // writes are integers), a read that returned nil carries no information, like a timed-out
    // read.
    if (c.output && is_nil(*c.output) && !is_nil(init_)) c.output.reset();
  } else if (op.f == "write") {
    c.input.kind = Kind::kWrite;
    c.input.a = value(op.input, op);
  } else if (cas_ && op.f == "cas") {
    c.input.kind = Kind::kCas;
    if (!op.input.is_array() || op.input.size() != 2) {
      throw HistoryError(operation_label(op) + ": cas expects [old new]");
    }
    c.input.a = value(op.input[0], op);
    c.input.b = value(op.input[1], op);
  } else {
    throw HistoryError(operation_label(op) + ": unknown function for model " +
                       (keyed_ ? "kv"
                        : cas_ ? "cas-register"
                               : "register"));
  }
  return c;
}

// A kv key is a register, a list of integers (append, list reads) or a string appended to.
CallOf<RegisterModel> RegisterModel::compile_keyed(const Operation& op) const {
  const bool string_append = op.f == "append" && op.input.is_string();
  const bool list_read = op.f == "read" && !op.unknown() && op.output.is_array();
  if (string_append) {
    CallOf<RegisterModel> c;
    c.input.kind = Kind::kAppendString;
    c.input.a = op.input.get<std::string>();
    return c;
  }
  if (op.f == "append") {
    CallOf<RegisterModel> c;
    c.input.kind = Kind::kAppend;
    if (!op.input.is_number_integer()) {
      throw HistoryError(operation_label(op) + ": append needs an integer or a string");
    }
    c.input.a = op.input.get<std::int64_t>();
    return c;
  }
  if (list_read) {
    CallOf<RegisterModel> c;
    c.input.kind = Kind::kReadList;
    std::vector<std::int64_t> list;
    for (const auto& v : op.output) {
      if (!v.is_number_integer())
        throw HistoryError(operation_label(op) + ": a list holds integers");
      list.push_back(v.get<std::int64_t>());
    }
    c.output = list.empty() ? RegisterValue{} : RegisterValue{std::move(list)};
    return c;
  }
  return compile_register(op);
}

std::vector<CallOf<RegisterModel>> RegisterModel::compile_all(
    const std::vector<Operation>& ops) const {
  std::vector<CallOf<RegisterModel>> calls;
  // bit 1: list ops, 2: register ops, 4: integer register values, 8: string appends (per key)
  std::map<std::string, int> key_use;
  for (const auto& op : ops) {
    calls.push_back(keyed_ ? compile_keyed(op) : compile_register(op));
    if (!keyed_) continue;
    const auto kind = calls.back().input.kind;
    const bool list_op = kind == Kind::kAppend || kind == Kind::kReadList;
    const bool string_append = kind == Kind::kAppendString;
    const bool register_op = !list_op;  // a string append too: a string is a register value
    const auto integer = [](const nlohmann::json& v) { return v.is_number_integer(); };
    const bool integer_value =
        register_op &&
        (integer(op.input) || integer(op.output) ||
         (op.input.is_array() && std::any_of(op.input.begin(), op.input.end(), integer)));
    auto& use = key_use[to_text(op.key)];
    use |= (list_op ? 1 : 0) | (register_op && op.f != "read" ? 2 : 0) |
           (register_op && op.f == "read" && !op.output.is_null() ? 2 : 0) |
           (integer_value ? 4 : 0) | (string_append ? 8 : 0);
    if ((use & 3) == 3) {
      throw HistoryError(operation_label(op) + ": key " + to_text(op.key) +
                         " is used both as a register and as a list (append)");
    }
    if ((use & 12) == 12) {
      throw HistoryError(operation_label(op) + ": key " + to_text(op.key) +
                         " holds integers but is appended strings to");
    }
  }
  return calls;
}

std::optional<RegisterModel::State> RegisterModel::step(const State& s, const Input& in,
                                                        const std::optional<Output>& out) const {
  switch (in.kind) {
    case Kind::kRead:
      if (out && *out != s) return std::nullopt;
      return s;
    case Kind::kWrite:
      return in.a;
    case Kind::kCas:
      if (s != in.a) return std::nullopt;
      return in.b;
    default:
      return step_list(s, in, out);
  }
}

// --init sets the registers' initial value; a list key starts empty whatever it says. A string
// key never written (nil) is appended to as the empty string, as in Porcupine's kv model.
std::optional<RegisterModel::State> RegisterModel::step_list(
    const State& s, const Input& in, const std::optional<Output>& out) const {
  if (in.kind == Kind::kAppendString) {
    if (!is_nil(s) && !std::holds_alternative<std::string>(s)) return std::nullopt;
    std::string text = is_nil(s) ? std::string() : std::get<std::string>(s);
    return text + std::get<std::string>(in.a);
  }
  const bool list = std::holds_alternative<std::vector<std::int64_t>>(s);
  const State& current = !list && s == init_ ? State{} : s;
  if (in.kind == Kind::kReadList) {
    if (out && *out != current) return std::nullopt;
    return current;
  }
  if (!is_nil(current) && !list) return std::nullopt;
  std::vector<std::int64_t> values;
  if (list) values = std::get<std::vector<std::int64_t>>(current);
  values.push_back(std::get<std::int64_t>(in.a));
  return values;
}

// An unknown read changes nothing and shows nothing. An unknown write (or cas) of a value that no
// read returns and no cas expects can always be omitted: any linearization that includes it stays
// valid without it, because nothing between it and the next write can have observed its value.
std::vector<bool> RegisterModel::prunable(const std::vector<CallOf<RegisterModel>>& calls,
                                          const std::vector<Operation>& ops) const {
  std::vector<RegisterValue> observed;
  for (const auto& c : calls) {
    if (c.input.kind == Kind::kRead && c.output) observed.push_back(*c.output);
    if (c.input.kind == Kind::kCas) observed.push_back(c.input.a);
  }
  std::sort(observed.begin(), observed.end());
  // A string append builds on whatever was written before it, so a write whose value no read
  // returns may still be observed as the prefix of one: with appends, no write is left out.
  const bool appends = std::any_of(calls.begin(), calls.end(), [](const auto& c) {
    return c.input.kind == Kind::kAppend || c.input.kind == Kind::kAppendString;
  });
  std::vector<bool> out(calls.size(), false);
  for (std::size_t i = 0; i < calls.size(); ++i) {
    const auto& c = calls[i];
    if (c.input.kind == Kind::kRead || c.input.kind == Kind::kReadList) {
      out[i] = !c.output;  // sees nothing, changes nothing
    } else if (ops[i].unknown() && !appends) {
      const RegisterValue& written = c.input.kind == Kind::kWrite ? c.input.a : c.input.b;
      out[i] = !std::binary_search(observed.begin(), observed.end(), written);
    }
  }
  return out;
}

std::pair<nlohmann::json, Operation> KvModel::partition(const Operation& op) const {
  Operation inner = op;
  if (op.f == "get") inner.f = "read";
  if (op.f == "put") inner.f = "write";
  if (!op.key.is_null()) return {op.key, inner};
  // Jepsen independent: [key value] on the invocation, [key result] on the completion.
  const bool tuple_in = op.input.is_array() && op.input.size() == 2;
  if (!tuple_in) {
    throw HistoryError(operation_label(op) +
                       ": kv ops need a \"key\" field or a [key value] value");
  }
  inner.input = op.input[1];
  inner.key = op.input[0];
  if (op.output.is_array() && op.output.size() == 2) inner.output = op.output[1];
  return {op.input[0], inner};
}

ModelEntry register_model_entry(bool cas) {
  const std::string name = cas ? "cas-register" : "register";
  return {name,
          cas ? "read, write, cas [old new]; --init an integer, nil or a \"string\""
              : "read, write; --init an integer, nil or a \"string\"",
          [name, cas] { return erase_model(name, RegisterModel(cas, false)); }};
}

ModelEntry kv_model_entry() {
  return {"kv",
          "cas-registers by key (\"key\" field or [key value]): get/read, put/write, cas, append "
          "(strings, integer lists)",
          [] { return erase_model<KvModel>("kv"); }};
}

}  // namespace seer::check
