// A crash between a side effect taking effect and the durable record of it: the process sent a
// write (an enqueue, a charge, a notification), crashed before anything durable said it was done,
// and its restarted life, deriving its work again from durable state, made the same write again
// (docs/explain.md, crash_lost_data, how `repeated_after_crash`).
#pragma once

#include "causes.hpp"

#include <vector>

namespace seer::explain {

std::vector<Cause> detect_repeats_after_crash(const DetectContext& c);

}  // namespace seer::explain
