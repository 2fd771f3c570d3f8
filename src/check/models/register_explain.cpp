// Why a register-like history cannot place an operation, in one or two sentences: who wrote the
// value read, and what overwrote it before the read began.
#include "register_model.hpp"

#include <algorithm>

namespace seer::check {

namespace {

// The value `w` writes, or nullptr if it writes none.
const nlohmann::json* written_by(const Operation& w) {
  if (w.f == "write") return &w.input;
  if (w.f == "cas" && w.input.is_array() && w.input.size() == 2) return &w.input[1];
  return nullptr;
}

// A read of the initial value `initial` after a completed write had replaced it.
std::string stale_initial(const std::vector<Operation>& ops, const Operation& op,
                          const std::string& what, const std::string& initial) {
  for (const auto& w : ops) {
    const nlohmann::json* written = written_by(w);
    if (written && !w.unknown() && w.complete < op.invoke && *written != op.output) {
      return what + ", but that is the initial value, and " + w.f + " " + to_text(w.input) +
             " (process " + std::to_string(w.process) + ", " + operation_interval(w) +
             ") had replaced it before the read began; nothing wrote " + initial + " again.";
    }
  }
  return what +
         ", but no order of the operations around it lets the register still hold the initial "
         "value " +
         initial + " then.";
}

}  // namespace

std::optional<std::string> RegisterModel::explain_failure(const std::vector<Operation>& ops,
                                                          const Operation& op) const {
  std::string what = "process " + std::to_string(op.process) + " " + op.f;
  if (op.f == "read") {
    what += " returned " + (op.output.is_null() ? std::string("nil") : to_text(op.output));
  } else {
    what += " " + to_text(op.input);
    if (!op.output.is_null() && op.output != op.input) what += " returned " + to_text(op.output);
  }
  what += " during " + operation_interval(op);
  if (op.f != "read")
    return what + ", but no order of the operations around it allows that result.";
  // A key that is appended to holds what no single operation wrote.
  if (std::any_of(ops.begin(), ops.end(), [](const Operation& o) { return o.f == "append"; })) {
    return what +
           ", but no order of the operations around it (appends included) lets the key hold " +
           to_text(op.output) + " then.";
  }
  // Who wrote the value read, and what overwrote it before the read began?
  const Operation* writer = nullptr;
  for (const auto& w : ops) {
    const nlohmann::json* written = written_by(w);
    if (written && *written == op.output && w.invoke <= op.complete) writer = &w;
  }
  if (!writer) {
    if (op.output.is_null()) return what + ", but a write had completed before the read began.";
    const std::string initial = is_nil(init_) ? std::string() : describe_value(init_);
    if (!initial.empty() && to_text(op.output) == initial) {
      return stale_initial(ops, op, what, initial);
    }
    return what + ", but no operation that could precede it ever wrote " + to_text(op.output) + ".";
  }
  for (const auto& w : ops) {
    if ((w.f == "write" || w.f == "cas") && &w != writer && !w.unknown() &&
        w.invoke > writer->complete && w.complete < op.invoke && w.input != op.output) {
      return what + ", but the write of " + to_text(op.output) + " by process " +
             std::to_string(writer->process) + " " + operation_interval(*writer) +
             " was overwritten by " + w.f + " " + to_text(w.input) + " (process " +
             std::to_string(w.process) + ", " + operation_interval(w) +
             "), which completed before the read began, and nothing wrote " + to_text(op.output) +
             " again.";
    }
  }
  return what + ", but no order of the operations around it lets the register hold " +
         to_text(op.output) + " then.";
}

}  // namespace seer::check
