// Tag predicates and the logical view of a promise (spec §2.1, §3.2).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "promises/model/state.hpp"

namespace seer::promises {

// `resonate:target` present and non-empty (the SDK's truthiness check; spec A9).
bool has_target(const Tags& tags);
// The target address; callers check has_target first.
const std::string& target(const Tags& tags);
bool is_timer(const Tags& tags);
// Key-presence test for `resonate:target`, unlike has_target (spec A9).
bool is_external(const Tags& tags);
// `resonate:delay` as an integer if it is an optional '-' followed by decimal digits (spec A6).
// Saturates at the int64 range: such values are never reached by a non-decreasing `now` either way.
std::optional<std::int64_t> delay(const Tags& tags);
// `resonate:branch` if present and non-empty.
std::optional<std::string> branch(const Tags& tags);
PromiseState timeout_state(const Tags& tags);

inline bool is_settled(const Promise& p) {
  return p.state != PromiseState::pending;
}

// spec §3.2 view(p, now): a pending promise at or past its deadline reads as timed out.
Promise view(const Promise& p, std::int64_t now);

// Time arithmetic that cannot overflow (inputs are bounded by §6 A4, `now` by the caller).
std::int64_t add_time(std::int64_t a, std::int64_t b);

}  // namespace seer::promises
