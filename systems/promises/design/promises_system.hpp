#pragma once

#include "seer/sim/system.hpp"

#include <memory>

namespace seer::promises::design {

std::unique_ptr<sim::System> make_promises_system();

}  // namespace seer::promises::design
