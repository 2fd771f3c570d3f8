#include "promises/model/validate.hpp"

#include "promises/model/predicates.hpp"

namespace seer::promises {

namespace {
// spec §5.1 promise.register_callback
std::optional<std::string> check_callback(const RegisterCallbackReq& r) {
  if (r.awaited == r.awaiter) return "Awaited and awaiter must be different";
  return std::nullopt;
}

// spec §5.2 task.suspend: the three rules, each over all actions, in this order.
std::optional<std::string> check_suspend(const TaskSuspendReq& r) {
  if (r.actions.empty()) return "Actions list must not be empty";
  for (const RegisterCallbackReq& a : r.actions)
    if (a.awaiter != r.id) return "Awaiter must be the suspending task";
  for (const RegisterCallbackReq& a : r.actions)
    if (a.awaited == r.id) return "Task cannot await its own promise";
  return std::nullopt;
}

// spec §5.2 task.create: a missing or empty target is rejected (truthiness, A9).
std::optional<std::string> check_create(const TaskCreateReq& r) {
  if (!has_target(r.action.tags)) return "Action must have a resonate:target tag";
  return std::nullopt;
}

// spec §5.2 task.fulfill
std::optional<std::string> check_fulfill(const TaskFulfillReq& r) {
  if (r.action.id != r.id) return "Promise ID must match task ID";
  return std::nullopt;
}
}  // namespace

std::optional<std::string> validate(const Request& request) {
  switch (request.kind) {
    case Kind::promise_register_callback:
      return check_callback(std::get<RegisterCallbackReq>(request.data));
    case Kind::task_suspend:
      return check_suspend(std::get<TaskSuspendReq>(request.data));
    case Kind::task_create:
      return check_create(std::get<TaskCreateReq>(request.data));
    case Kind::task_fulfill:
      return check_fulfill(std::get<TaskFulfillReq>(request.data));
    default:
      return std::nullopt;
  }
}

}  // namespace seer::promises
