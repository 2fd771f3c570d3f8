#pragma once

#include "seer/sim/system.hpp"

#include <memory>

namespace seer::systems::reg {

std::unique_ptr<sim::System> make_register_system();

}  // namespace seer::systems::reg
