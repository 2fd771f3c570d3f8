// An answer taken for a later request's: the requester gave up on a request (its receive timeout
// fired before the server answered), the answer arrived after all, and the requester took it for
// its next request's to the same server (the answer reached it during that wait, or before it and
// was taken by it, queued on the connection). From then on it
// paired each answer with the request after the one answered (a connection one answer behind),
// and it told one of the design's own processes about the violated entity on such an answer
// (docs/explain.md, lost_response, how `answer_taken_for_next`). Read from the messages, the
// timeout and the request numbers the answers carry (where they carry none, only the late answer
// itself is followed); no field name, no oracle fact.
#pragma once

#include "causes.hpp"

#include <vector>

namespace seer::explain {

std::vector<Cause> detect_answers_taken_for_next(const DetectContext& c);

}  // namespace seer::explain
