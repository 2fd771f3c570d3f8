// Typed requests: what a well-formed request envelope (spec §1.1, §6) carries, per kind (spec §5).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "promises/model/state.hpp"

namespace seer::promises {

// The 26 wire kinds of spec §5.0.
enum class Kind {
  promise_get,
  promise_create,
  promise_settle,
  promise_register_callback,
  promise_register_listener,
  promise_search,
  task_get,
  task_create,
  task_acquire,
  task_release,
  task_suspend,
  task_fulfill,
  task_fence,
  task_heartbeat,
  task_halt,
  task_continue,
  task_search,
  schedule_get,
  schedule_create,
  schedule_delete,
  schedule_search,
  debug_start,
  debug_reset,
  debug_tick,
  debug_snap,
  debug_stop,
};

std::optional<Kind> kind_from_name(std::string_view name);
std::string_view kind_name(Kind kind);

struct Head {
  std::string corr_id;
  std::string version;
};

struct PromiseCreateReq {
  Head head;
  std::string id;
  std::int64_t timeout_at = 0;
  Value param;
  Tags tags;
};

struct PromiseSettleReq {
  Head head;
  std::string id;
  PromiseState state = PromiseState::resolved;  // one of the three client states
  Value value;
};

struct RegisterCallbackReq {
  std::string awaited;
  std::string awaiter;
};

struct RegisterListenerReq {
  std::string awaited;
  std::string address;
};

// promise.get, task.get, task.halt, task.continue (and schedule.get/delete, not implemented).
struct IdReq {
  std::string id;
};

struct TaskCreateReq {
  std::string pid;
  std::int64_t ttl = 0;
  PromiseCreateReq action;
};

struct TaskAcquireReq {
  std::string id;
  std::int64_t version = 0;
  std::string pid;
  std::int64_t ttl = 0;
};

struct TaskReleaseReq {
  std::string id;
  std::int64_t version = 0;
};

struct TaskSuspendReq {
  std::string id;
  std::int64_t version = 0;
  std::vector<RegisterCallbackReq> actions;
};

struct TaskFulfillReq {
  std::string id;
  std::int64_t version = 0;
  PromiseSettleReq action;
};

struct TaskFenceReq {
  std::string id;
  std::int64_t version = 0;
  std::variant<PromiseCreateReq, PromiseSettleReq> action;
};

struct HeartbeatEntry {
  std::string id;
  std::int64_t version = 0;
};

struct TaskHeartbeatReq {
  std::string pid;
  std::vector<HeartbeatEntry> tasks;
};

struct DebugTickReq {
  std::int64_t time = 0;
};

// Kinds whose data the model does not read (search, schedules, debug start/stop/reset/snap).
struct NoData {};

using RequestData =
    std::variant<NoData, IdReq, PromiseCreateReq, PromiseSettleReq, RegisterCallbackReq,
                 RegisterListenerReq, TaskCreateReq, TaskAcquireReq, TaskReleaseReq, TaskSuspendReq,
                 TaskFulfillReq, TaskFenceReq, TaskHeartbeatReq, DebugTickReq>;

struct Request {
  Kind kind = Kind::debug_start;
  Head head;
  RequestData data;
};

}  // namespace seer::promises
