// A crash that lost work its process had already recorded as done (a watermark written before the
// work), which the restarted process read back and skipped (crash_marked_done.cpp).
#pragma once

#include "causes.hpp"

#include <vector>

namespace seer::explain {

std::vector<Cause> detect_work_marked_done(const DetectContext& c);

}  // namespace seer::explain
