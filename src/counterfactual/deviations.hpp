// The deviations of a run's schedule that a cause's events show, and the schedule without some.
#pragma once

#include "seer/counterfactual/counterfactual.hpp"

namespace seer::counterfactual {

// A deviation and where it sits in the schedule.
struct Shown {
  enum class List : std::uint8_t {
    kLatencies,
    kDrops,
    kDuplicates,
    kCrashes,
    kPauses,
    kPartitions,
    kClocks,
    kServiceFaults,
  };
  Deviation deviation;
  List list = List::kLatencies;
  std::size_t index = 0;  // in that list
};

std::vector<Shown> shown_deviations(const explain::Trace& trace, const sim::FaultSchedule& schedule,
                                    const std::vector<std::uint64_t>& events, bool include_clocks);

// `schedule` less the `removed` entries.
sim::FaultSchedule without(const sim::FaultSchedule& schedule, const std::vector<Shown>& removed);

}  // namespace seer::counterfactual
