// An acknowledged write whose only copy stayed on the node that acknowledged it: the node stored
// the violated entity on a request, answered the requester, and crashed before it passed the
// entity on to any other process, nor did it in a later life. What the acknowledgement promised
// rested on one node's disk, and its crash took that copy out of service (docs/explain.md,
// crash_lost_data, how `acknowledged_then_crashed`). Read from the messages, the storage write and
// the crash alone: no field name, no oracle fact.
#pragma once

#include "causes.hpp"

#include <vector>

namespace seer::explain {

std::vector<Cause> detect_unshipped_acknowledgements(const DetectContext& c);

}  // namespace seer::explain
