// The whole state σ as JSON and back, losslessly (seq, creation order, the order of ordered sets
// and of the task-timeout table included), for designs that keep σ in a store and for interning
// states in the checker. Not a wire format: records (records.hpp) are what clients see.
#pragma once

#include <nlohmann/json.hpp>

#include "promises/model/state.hpp"

namespace seer::promises {

nlohmann::json state_to_json(const State& state);
// The inverse of state_to_json. Throws std::invalid_argument if `j` is not such a document.
State state_from_json(const nlohmann::json& j);

}  // namespace seer::promises
