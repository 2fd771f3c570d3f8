#pragma once

#include "seer/sim/system.hpp"

#include <memory>

namespace seer::systems::bank {

std::unique_ptr<sim::System> make_bank_system();

}  // namespace seer::systems::bank
