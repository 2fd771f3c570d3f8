// Which promises a request names, and the origin they belong to (spec §3.2, §10): what a design
// that partitions σ needs to route a request to the part of the state it touches.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "promises/model/request.hpp"

namespace seer::promises {

// spec §3.2: the promise ids a request converges, in order (none for heartbeat, search, schedules,
// debug).
std::vector<std::string> converge_ids(const Request& request);
// Every promise (or task) id the request names: the converged ids, then a heartbeat's task ids.
std::vector<std::string> named_ids(const Request& request);
// spec §10: the part of an id before its first ':' (ids.js: origin), or the whole id.
std::string_view origin_of(std::string_view id);

}  // namespace seer::promises
