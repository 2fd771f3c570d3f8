#pragma once

#include "seer/sim/system.hpp"

#include <memory>

namespace seer::systems::segments {

std::unique_ptr<sim::System> make_segments_system();

}  // namespace seer::systems::segments
