#pragma once

#include "seer/sim/system.hpp"

#include <memory>

namespace seer::systems::jobs {

std::unique_ptr<sim::System> make_jobs_system();

}  // namespace seer::systems::jobs
