// The structural fallback, for a violation no kind-specific detector explains: the decisions on
// the violated entity (the last messages and writes of the design's own processes naming it), and
// for each, its inputs walked back along its process's program order (the reads it had made in
// that life); an input that another process's write changed after it was served and before the
// decision took effect made the decision on a view already wrong (docs/explain.md, outdated_read,
// how `decision_input_overtaken`). Run only when nothing else was found.
#pragma once

#include "causes.hpp"

#include <vector>

namespace seer::explain {

std::vector<Cause> detect_overtaken_decision_inputs(const DetectContext& c);
// A request to one of the design's processes, naming the violated entity, that the process took
// in, wrote part of, and crashed before answering: work in progress lost with its memory
// (crash_mid_request.cpp; crash_lost_data, how `crashed_mid_request`). Tried after the overtaken
// inputs, when those name nothing either.
std::vector<Cause> detect_work_lost_in_crash(const DetectContext& c);

}  // namespace seer::explain
