// The sequential specification of spec.md as a typed checker model: one counter, starting at 0;
// `increment` adds one and returns the new value. seer's linearizability checker searches for an
// order of the clients' increments, each placed between its invocation and its completion, in
// which every returned value is the model's.
//
// An increment whose outcome is unknown (it timed out) may have taken effect or not: the checker
// may place it anywhere after its invocation (at the end: it never happened). One that failed
// (`fail` in the history: fenced off, or given up before its write) did not happen and is not
// given to the model.
#include "seer/check/model_registry.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace fenced_lock {

using seer::check::CallOf;
using seer::check::Operation;

struct IncrementAndGet {
  using State = std::int64_t;   // the counter
  using Input = std::int64_t;   // (nothing: every increment adds one)
  using Output = std::int64_t;  // the value it returned

  State init() const { return 0; }

  CallOf<IncrementAndGet> compile(const Operation& op) const {
    if (op.f != "increment") {
      throw seer::check::HistoryError(seer::check::operation_label(op) +
                                      ": unknown function for model increment-and-get");
    }
    if (op.unknown()) return {0, std::nullopt};
    return {0, seer::check::integer_or_nil(op.output, op)};
  }

  std::optional<State> step(State counter, Input, const std::optional<Output>& returned) const {
    if (returned && *returned != counter + 1) return std::nullopt;  // it saw another counter
    return counter + 1;
  }

  std::string describe_state(State counter) const { return "counter " + std::to_string(counter); }
  std::string describe_operation(const CallOf<IncrementAndGet>& call) const {
    return call.output ? "increment returned " + std::to_string(*call.output)
                       : "increment (outcome unknown)";
  }
};

}  // namespace fenced_lock

SEER_REGISTER_MODEL("increment-and-get", "increment, returning the new value; starts at 0",
                    fenced_lock::IncrementAndGet);
