// Which promises a request names, and the origin they belong to (spec §3.2, §10): what a design
// that partitions σ needs to route a request to the part of the state it touches.
#pragma once

#include <map>
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
// The rows a request's step can read or change, when that is a bounded set: its named ids and
// their callback neighbours (the promises awaiting one of them, whose tasks a settlement resumes,
// and those it awaits, whose callbacks a fulfilment leaves). Settling a named promise (by a
// request or an eager timeout) touches exactly those. task.create, task.acquire and task.suspend
// also read a branch for their preload (spec PRELOAD): every promise carrying the
// `resonate:branch` of the promise they name, or, for task.create, of the promise it creates.
struct Footprint {
  std::vector<std::string> ids;
  bool preload = false;               // the branch of the promise ids.front() names
  std::optional<std::string> branch;  // task.create's new promise's branch, if it has one
};
// nullopt for debug requests (every promise and timeout) and kinds with no ids. A store may load
// only these rows for the request (see unloaded_promises in state.hpp).
std::optional<Footprint> footprint(const Request& request);
// spec §10: the part of an id before its first ':' (ids.js: origin), or the whole id.
std::string_view origin_of(std::string_view id);
// spec §10: a heartbeat's entries are independent; its parts by origin, each with the same pid.
std::map<std::string, TaskHeartbeatReq> heartbeat_parts(const TaskHeartbeatReq& heartbeat);

}  // namespace seer::promises
