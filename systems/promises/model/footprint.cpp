#include "promises/model/footprint.hpp"

#include "promises/model/predicates.hpp"

namespace seer::promises {

std::vector<std::string> converge_ids(const Request& r) {
  switch (r.kind) {
    case Kind::promise_get:
    case Kind::task_get:
    case Kind::task_halt:
    case Kind::task_continue:
      return {std::get<IdReq>(r.data).id};
    case Kind::promise_create:
      return {std::get<PromiseCreateReq>(r.data).id};
    case Kind::promise_settle:
      return {std::get<PromiseSettleReq>(r.data).id};
    case Kind::promise_register_callback: {
      const auto& d = std::get<RegisterCallbackReq>(r.data);
      return {d.awaited, d.awaiter};
    }
    case Kind::promise_register_listener:
      return {std::get<RegisterListenerReq>(r.data).awaited};
    case Kind::task_create:
      return {std::get<TaskCreateReq>(r.data).action.id};
    case Kind::task_acquire:
      return {std::get<TaskAcquireReq>(r.data).id};
    case Kind::task_release:
      return {std::get<TaskReleaseReq>(r.data).id};
    case Kind::task_fulfill:
      return {std::get<TaskFulfillReq>(r.data).id};
    case Kind::task_suspend: {
      const auto& d = std::get<TaskSuspendReq>(r.data);
      std::vector<std::string> ids{d.id};
      for (const RegisterCallbackReq& a : d.actions) ids.push_back(a.awaited);
      return ids;
    }
    case Kind::task_fence: {
      const auto& d = std::get<TaskFenceReq>(r.data);
      const std::string& action_id = std::visit([](const auto& a) { return a.id; }, d.action);
      return {d.id, action_id};
    }
    default:
      return {};  // heartbeat, search, schedules, debug
  }
}

std::vector<std::string> named_ids(const Request& r) {
  std::vector<std::string> ids = converge_ids(r);
  if (r.kind == Kind::task_heartbeat) {
    for (const HeartbeatEntry& t : std::get<TaskHeartbeatReq>(r.data).tasks) ids.push_back(t.id);
  }
  return ids;
}

std::optional<Footprint> footprint(const Request& r) {
  Footprint out;
  switch (r.kind) {
    case Kind::promise_get:
    case Kind::promise_create:
    case Kind::promise_settle:
    case Kind::promise_register_callback:
    case Kind::promise_register_listener:
    case Kind::task_get:
    case Kind::task_release:
    case Kind::task_fulfill:
    case Kind::task_fence:
    case Kind::task_heartbeat:
    case Kind::task_halt:
    case Kind::task_continue:
      break;
    case Kind::task_create:
      out.branch = branch(std::get<TaskCreateReq>(r.data).action.tags);
      out.preload = true;
      break;
    case Kind::task_acquire:
    case Kind::task_suspend:
      out.preload = true;
      break;
    default:
      return std::nullopt;
  }
  out.ids = named_ids(r);
  if (out.ids.empty()) return std::nullopt;
  return out;
}

std::string_view origin_of(std::string_view id) {
  const auto colon = id.find(':');
  return colon == std::string_view::npos ? id : id.substr(0, colon);
}

std::map<std::string, TaskHeartbeatReq> heartbeat_parts(const TaskHeartbeatReq& heartbeat) {
  std::map<std::string, TaskHeartbeatReq> parts;
  for (const auto& entry : heartbeat.tasks) {
    auto& part = parts[std::string(origin_of(entry.id))];
    part.pid = heartbeat.pid;
    part.tasks.push_back(entry);
  }
  return parts;
}

}  // namespace seer::promises
