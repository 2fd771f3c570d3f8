// The executable sequential model of Resonate's durable promises and tasks
// (systems/promises/spec.md): one pure, total, deterministic step function
//
//   step : (σ, request, now) → (σ', response, messages)            (spec §10)
//
// No threads, clocks or randomness: `now` is the only time. Module S (schedules) is not
// implemented: every schedule.* kind answers 501 after well-formedness checking (spec §5.4).
#pragma once

#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "promises/model/request.hpp"
#include "promises/model/state.hpp"

namespace seer::promises {

struct Step {
  // {kind, head: {corrId, status, version}, data}, as the SDK's server answers (spec §1.1).
  nlohmann::json response;
  // {"address": target, "message": {kind, head, data}} in emission order (spec §7).
  std::vector<nlohmann::json> messages;
};

// Applies one request envelope {kind, head, data}. Malformed or invalid requests get a 400 response
// and leave `state` untouched (spec §6, T10); nothing throws for any JSON value.
// Precondition: `now` is non-decreasing across calls on one state (spec §3.1, A8).
Step apply(State& state, const nlohmann::json& request, std::int64_t now);

// The same for a request already parsed by parse_request (parse.hpp); semantic validation still
// applies. Precondition: `request.data` holds the alternative that parse_request gives its kind.
Step apply(State& state, const Request& request, std::int64_t now);

// What apply() answers, without building the envelope or the messages (the history checker
// compares a response's status and data, at every step of its search): the same σ', status and
// response `data`.
struct Answer {
  int status = 0;
  nlohmann::json data;
};
Answer answer(State& state, const Request& request, std::int64_t now);

// answer() for a caller that compares it with a response it was given: the same σ', and whether
// the status and data are `status` and `data` (equal as JSON values). The data is compared in
// place, not built: the history checker asks this at every step of its search.
bool answers(State& state, const Request& request, std::int64_t now, int status,
             const nlohmann::json& data);
// Whether applying `request` at `now` is known to leave `state` exactly as it is, before applying
// it: a read (promise.get, task.get) whose converge times out nothing. Such a request needs no
// copy of σ to be answered.
bool reads_only(const State& state, const Request& request, std::int64_t now);
// answers() for a request reads_only says leaves `state` as it is, on `state` itself (throws
// std::logic_error for any other request).
bool answers_unchanged(const State& state, const Request& request, std::int64_t now, int status,
                       const nlohmann::json& data);
// answer()'s σ' alone, for a caller with no response to compare.
void apply_effect(State& state, const Request& request, std::int64_t now);

// Whether debug.tick at `at` finds anything due in `state` (a pending targeted promise past its
// timeout, an expired lease, a due retry). False: applying the tick leaves σ exactly as it is, so
// a sweep can skip the copy and the step (most ticks find nothing due).
bool tick_finds_due(const State& state, std::int64_t at);

}  // namespace seer::promises
