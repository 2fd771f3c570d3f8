// A request identifier reused after a crash: a process numbered its requests to another of the
// design's processes in memory, crashed, and its restarted life numbered them again from the start.
// The receiver, which remembers the numbers it has handled (a dedupe table, a client session),
// took a new request for a retransmission of the old one with the same number (docs/explain.md,
// crash_lost_data, how `id_reused_after_crash`).
#pragma once

#include "causes.hpp"

#include <vector>

namespace seer::explain {

std::vector<Cause> detect_ids_reused_after_crash(const DetectContext& c);

}  // namespace seer::explain
