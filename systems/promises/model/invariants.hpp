// The state invariants of spec §9.1 (I1–I14), checkable on any reachable state.
#pragma once

#include <string>
#include <vector>

#include "promises/model/state.hpp"

namespace seer::promises {

// One line per violated invariant ("I9: ..."); empty when σ satisfies them all. I14 assumes the
// states were reached with non-decreasing `now` (spec §3.1).
std::vector<std::string> check_invariants(const State& state);

}  // namespace seer::promises
