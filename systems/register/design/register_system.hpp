#pragma once

#include "seer/sim/system.hpp"

#include <memory>

namespace seer::systems::reg {

std::unique_ptr<sim::System> make_register_system();
// Linearizability of the run's client history as a register with initial value 0.
std::optional<std::pair<std::string, std::string>> check_register_history(
    const std::vector<sim::HistoryEntry>& history);

}  // namespace seer::systems::reg
