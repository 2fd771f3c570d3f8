#include "common/linearizable_check.hpp"
#include "register_system.hpp"

namespace seer::systems::reg {

std::optional<std::pair<std::string, std::string>> check_register_history(
    const std::vector<sim::HistoryEntry>& history) {
  return check_linearizable_history(history, "register", "0");
}

}  // namespace seer::systems::reg
