// Bridges the register's history to the linearizability checker.
#include "register_system.hpp"

namespace seer::systems::reg {

std::optional<std::pair<std::string, std::string>> check_register_history(
    const std::vector<sim::HistoryEntry>& /*history*/) {
  return std::nullopt;  // wired to seer_check when the checker library lands
}

}  // namespace seer::systems::reg
