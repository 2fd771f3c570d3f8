#pragma once

#include "seer/sim/system.hpp"

#include <memory>

namespace seer::systems::reg {

std::unique_ptr<sim::System> make_register_system();
// Linearizability of a register history (initial value 0), via the checker library.
std::optional<std::pair<std::string, std::string>> check_register_history(
    const std::vector<sim::HistoryEntry>& history);

}  // namespace seer::systems::reg
