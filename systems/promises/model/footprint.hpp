// Which promises a request names, and the origin they belong to (spec §3.2, §10): what a design
// that partitions σ needs to route a request to the part of the state it touches.
#pragma once

#include <optional>
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
// The promises (and their tasks and task timeouts) a request's step can read or change, when that
// is a bounded set: its named ids and their callback neighbours (the promises awaiting one of them,
// whose tasks a settlement resumes, and those it awaits, whose callbacks a fulfilment leaves).
// Settling a named promise (by a request or an eager timeout) touches exactly those. nullopt for
// the kinds whose step reads more of the origin: task.create, task.acquire and task.suspend (their
// preload lists the branch's promises), debug requests (every promise and timeout) and kinds with
// no ids. A store may load only these rows for the request (see unloaded_promises in state.hpp).
std::optional<std::vector<std::string>> local_ids(const Request& request);
// spec §10: the part of an id before its first ':' (ids.js: origin), or the whole id.
std::string_view origin_of(std::string_view id);

}  // namespace seer::promises
