// Whether a fault with probability `ppm` (parts per million) strikes now, drawn from the run's
// seeded PRNG: the services' stale reads, lost acknowledgements and lags all draw this way.
#pragma once

#include "seer/sim/env.hpp"

#include <cstdint>

namespace seer::services {

inline bool fault_drawn(sim::Env& env, std::uint32_t ppm) {
  return env.random() % 1'000'000 < ppm;
}

}  // namespace seer::services
