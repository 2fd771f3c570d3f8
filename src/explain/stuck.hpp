// A liveness violation's own question: not "what broke" but "what never happened, and why did
// nothing make it happen". Read from the trace alone: the heal, the awaited entity's last event,
// what the process behind it did next, and what the faults took (a crash, a lost message).
#pragma once

#include "accesses.hpp"
#include "seer/explain/explain.hpp"
#include "seer/explain/trace_file.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <set>
#include <string>

namespace seer::explain {

struct Stuck {
  nlohmann::json json;              // Explanation::stuck
  std::uint64_t last_progress = 0;  // the awaited entity's last event (0: nothing touched it)
  // Pattern holder_crashed: the process that held the entity, its last event on it, its crash.
  int holder = -1;
  std::uint64_t holder_last = 0;
  std::uint64_t holder_crashed = 0;
};

// Whether the trace's violation is a liveness property's.
bool is_liveness_violation(const nlohmann::json& violation);

// `entity` is the awaited one (the property's first named entity); `touching` every event that
// touched it, of the whole run; `horizon` the violation's event. Patterns: holder_crashed (whoever
// changed it last crashed before changing it again), message_lost (the last thing about it was a
// message that never arrived), left_as_is (processes looked at it after the heal and none changed
// it), no_convergence (it kept changing after the heal), abandoned (nothing touched it after the
// heal), never_touched.
Stuck explain_stuck(const Trace& trace, const TraceIndex& index, const std::string& entity,
                    const std::set<std::uint64_t>& touching, std::uint64_t horizon);

// A liveness violation that names no entity the run has (pattern `unnamed`): the heal, which
// processes still worked after it and their last event, which stayed down, and how a check names
// what it waits for. `last_progress` is the last event after the heal (0: none).
Stuck explain_unnamed_stuck(const Trace& trace, std::uint64_t horizon);

// The cause a holder_crashed pattern is (kind crash_lost_data): the holder's last event on
// `entity` and its crash; nullopt for any other pattern.
std::optional<Cause> holder_crash_cause(const Trace& trace, const Stuck& stuck,
                                        const std::string& entity);

}  // namespace seer::explain
