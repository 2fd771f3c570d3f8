#pragma once

#include "seer/sim/system.hpp"

#include <memory>

namespace seer::systems::counter {

std::unique_ptr<sim::System> make_counter_system();

}  // namespace seer::systems::counter
