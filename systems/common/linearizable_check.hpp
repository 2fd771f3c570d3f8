// Bridges a run's history to the linearizability checker, which knows nothing of the simulator.
#pragma once

#include "seer/sim/history.hpp"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace seer::systems {

// {"linearizable", why} if the history is not linearizable for `model` (or the checker gave up
// after check::kSimulatedRunSteps, so a sweep never stalls on one history and the verdict is the
// same on every machine); nullopt if it is. `init` is --init's text.
std::optional<std::pair<std::string, std::string>> check_linearizable_history(
    const std::vector<sim::HistoryEntry>& history, const std::string& model,
    const std::string& init);

}  // namespace seer::systems
