#pragma once

#include "seer/sim/system.hpp"

#include <memory>

namespace seer::systems::kvc {

std::unique_ptr<sim::System> make_kv_contract_system();

}  // namespace seer::systems::kvc
