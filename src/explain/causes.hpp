// Cause detectors: each scans the trace's facts for one kind of bad view or lost knowledge and
// returns candidate causes with their evidence. Ranking against the violation is explain.cpp's job.
#pragma once

#include "accesses.hpp"
#include "seer/explain/causal_graph.hpp"
#include "seer/explain/explain.hpp"

#include <vector>

namespace seer::explain {

struct DetectContext {
  const Trace& trace;
  const CausalGraph& graph;
  const TraceIndex& index;
  std::uint64_t horizon;  // only events up to the violation count
};

std::vector<Cause> detect_stale_reads(const DetectContext& c);
std::vector<Cause> detect_outdated_reads(const DetectContext& c);
std::vector<Cause> detect_lost_responses(const DetectContext& c);
std::vector<Cause> detect_duplicates(const DetectContext& c);
std::vector<Cause> detect_crash_losses(const DetectContext& c);
std::vector<Cause> detect_clock_skew(const DetectContext& c);

// "t=7.183ms"
std::string format_time(std::int64_t ns);

}  // namespace seer::explain
