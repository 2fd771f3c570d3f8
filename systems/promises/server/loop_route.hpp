// Which of the server's loops serves a request. A loop is the design's server process on its own
// thread with its own database connection; the loops share the database as the design's servers
// share their store. A request goes to the loop its origin hashes to, so the requests of one
// origin are served one at a time in arrival order (no loop wastes a transaction on another's
// guard) and different origins in parallel. Correctness does not depend on the route: the guard
// orders the writers of one origin whichever loop they run on (a heartbeat's parts and the sweeps
// cross origins).
#pragma once

#include "promises/model/request.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>

namespace seer::promises::server {

// In [0, loops); a request naming no promise (malformed, search, schedules) goes to loop 0.
std::size_t loop_for(const nlohmann::json& request, std::size_t loops);
// The same for a request parsed already (parse_request's Request; null: malformed), which the
// front end hands on to the loop's server so that a request is parsed once.
std::size_t loop_for(const Request* request, std::size_t loops);

}  // namespace seer::promises::server
