// A structural hash of σ, consistent with State's ==, for interning states (the checker visits
// many) without rendering them.
#pragma once

#include <cstddef>

#include "promises/model/state.hpp"

namespace seer::promises {

std::size_t hash_state(const State& state);

}  // namespace seer::promises
