// What would have prevented a cause: the event where the design acted on the wrong view (the
// place to look for in its code) and the standard ways to make that decision safe for the cause's
// kind. Explain finds what happened; an engineer or agent repairing the design needs where and
// what to change, and the kind alone already narrows the usual fixes to two or three.
#pragma once

#include "seer/explain/explain.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace seer::explain {

struct Remedy {
  // The event that embodies the decision, in the deciding process's code: the cause's
  // `decision_event` fact (else its own event), or, when that is a service's reply to the
  // deciding process, the request it answered; then `took_effect_event` is the reply. The input
  // the decision relied on, when the cause names one.
  std::uint64_t decision_event = 0;
  std::optional<std::uint64_t> took_effect_event;
  std::optional<std::uint64_t> relied_on_event;
  std::string relied_on_role;        // "acting on" (a read), "under the lease", "first handled at"
  std::vector<std::string> options;  // what prevents this kind of cause, most specific first
};

// None for kinds that only say why another cause happened (the faults listed under `behind`).
std::optional<Remedy> remedy_for(const Cause& cause, const Trace& trace);

nlohmann::json remedy_json(const Remedy& remedy, const Trace& trace);
// Lines for the text output, each without its indentation.
std::vector<std::string> remedy_lines(const Remedy& remedy, const Trace& trace);

}  // namespace seer::explain
