// A request lost to its server's crash and acknowledged anyway: a process forwarded the
// violated entity to a server (a write request), the server crashed with it unanswered (received
// and not yet answered, or dropped on arrival while the server was down), the forwarder's receive
// timeout fired, and it then answered whoever had asked it about the entity as if the request had
// been done (docs/explain.md, crash_lost_data, how `request_lost_in_crash`). Read from the
// messages, the crash and the timeout alone: no field name, no oracle fact.
#pragma once

#include "causes.hpp"

#include <vector>

namespace seer::explain {

std::vector<Cause> detect_requests_lost_in_crash(const DetectContext& c);

}  // namespace seer::explain
