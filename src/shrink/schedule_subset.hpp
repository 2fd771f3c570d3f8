// Sub-schedules for delta debugging: the faults (or latencies) at the kept indices.
#pragma once

#include "seer/sim/schedule.hpp"

#include <vector>

namespace seer::shrink {

// `kept` indexes the faults in the order drops, duplicates, crashes, pauses, partitions, clocks,
// service faults; latencies are unchanged.
sim::FaultSchedule with_faults(const sim::FaultSchedule& s, const std::vector<std::size_t>& kept);
// `kept` indexes the latencies; the faults are unchanged.
sim::FaultSchedule with_latencies(const sim::FaultSchedule& s,
                                  const std::vector<std::size_t>& kept);

}  // namespace seer::shrink
