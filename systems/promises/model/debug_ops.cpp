// spec §5.5: debug kinds, chiefly the sweep (debug.tick).
#include "promises/model/model.hpp"
#include "promises/model/ops.hpp"
#include "promises/model/predicates.hpp"
#include "promises/model/records.hpp"

namespace seer::promises::ops {

using json = nlohmann::json;

namespace {
// The sweep's two conditions, shared by the tick and tick_finds_due so they cannot drift apart.
bool promise_due(const Promise& p, std::int64_t now) {
  return !is_settled(p) && has_target(p.tags) && now >= p.timeout_at;
}

bool task_due(const TaskTimeout& timeout, const Task& task, std::int64_t now) {
  if (now < timeout.at) return false;
  const bool lease = timeout.kind == TimeoutKind::lease && task.state == TaskState::acquired;
  const bool retry = timeout.kind == TimeoutKind::retry && task.state == TaskState::pending;
  return lease || retry;
}

// A task timeout found due in phase 2 of the sweep, with the version it was found at.
struct DueTask {
  std::string id;
  TimeoutKind kind;
  std::int64_t version;
};

// Phase 1: pending targeted promises (σ.PT) due at t, in creation order.
std::vector<std::string> due_promises(const Ctx& ctx) {
  std::vector<std::string> due;
  for (const std::string& id : ctx.state.creation_order) {
    if (promise_due(ctx.state.promises.at(id), ctx.now)) due.push_back(id);
  }
  return due;
}

// Phase 2: expired leases of acquired tasks and due retries of pending tasks, in σ.TT order.
std::vector<DueTask> due_tasks(const Ctx& ctx) {
  std::vector<DueTask> due;
  for (const auto& [id, timeout] : ctx.state.task_timeouts.entries()) {
    const Task& task = ctx.state.tasks.at(id);
    if (task_due(timeout, task, ctx.now)) due.push_back({id, timeout.kind, task.version});
  }
  return due;
}

// Phase 6: releases and retries, re-checked because phases 3–5 may have changed the task.
void fire(Ctx& ctx, const DueTask& due) {
  Task& task = ctx.state.tasks.at(due.id);
  if (due.kind == TimeoutKind::lease) {
    if (task.state == TaskState::acquired && task.version == due.version)
      release_to_pending(ctx, task);
  } else if (task.state == TaskState::pending) {
    ctx.state.task_timeouts.upsert(due.id, {TimeoutKind::retry, add_time(ctx.now, kRetry)});
    emit_execute(ctx, due.id);
  }
}

json timeout_entry(const std::string& id, std::int64_t at) {
  json e = json::object();
  e["id"] = id;
  e["timeout"] = at;
  return e;
}
}  // namespace

// The sweep. Settling all due promises before any trigger (phases 3–5) makes the resulting state
// independent of their order: a task whose own promise timed out is fulfilled, not resumed.
Outcome debug_tick(Ctx& ctx) {
  const std::vector<std::string> promises = due_promises(ctx);
  const std::vector<DueTask> tasks = due_tasks(ctx);
  for (const std::string& id : promises) {  // phase 3
    Promise& p = promise_at(ctx, id);
    p.state = timeout_state(p.tags);
    p.value = Value{};
    p.settled_at = p.timeout_at;
  }
  for (const std::string& id : promises) fulfil(ctx, id);  // phase 4
  for (const std::string& id : promises) {                 // phase 5
    resume(ctx, id);
    notify(ctx, id);
  }
  for (const DueTask& due : tasks) fire(ctx, due);  // phase 6; phase 7 needs module S
  return {200, json::array()};
}

// A dump of the stored (not viewed) state in the SDK's debug.snap shape. The model keeps no
// outbox (spec §2, §7), so `messages` is always empty.
Outcome debug_snap(Ctx& ctx) {
  json promises = json::array(), promise_timeouts = json::array(), callbacks = json::array(),
       listeners = json::array(), tasks = json::array(), task_timeouts = json::array();
  for (const std::string& id : ctx.state.creation_order) {
    const Promise& p = promise_at(ctx, id);
    promises.push_back(promise_record(p));
    if (!is_settled(p) && has_target(p.tags))
      promise_timeouts.push_back(timeout_entry(id, p.timeout_at));
    for (const std::string& awaiter : p.callbacks) {
      json c = json::object();
      c["awaiter"] = awaiter;
      c["awaited"] = id;
      callbacks.push_back(std::move(c));
    }
    for (const std::string& address : p.listeners) {
      json l = json::object();
      l["id"] = id;
      l["address"] = address;
      listeners.push_back(std::move(l));
    }
    if (const Task* task = find_task(ctx, id)) tasks.push_back(task_record(*task));
  }
  for (const auto& [id, timeout] : ctx.state.task_timeouts.entries()) {
    json e = timeout_entry(id, timeout.at);
    e["type"] = static_cast<int>(timeout.kind);
    task_timeouts.push_back(std::move(e));
  }
  json data = json::object();
  data["promises"] = std::move(promises);
  data["promiseTimeouts"] = std::move(promise_timeouts);
  data["callbacks"] = std::move(callbacks);
  data["listeners"] = std::move(listeners);
  data["tasks"] = std::move(tasks);
  data["taskTimeouts"] = std::move(task_timeouts);
  data["messages"] = json::array();
  return {200, std::move(data)};
}

Outcome debug_reset(Ctx& ctx) {
  ctx.state = State{};
  return {200, json::object()};
}

}  // namespace seer::promises::ops

namespace seer::promises {

bool tick_finds_due(const State& state, std::int64_t at) {
  for (const auto& [id, p] : state.promises) {
    if (ops::promise_due(p, at)) return true;
  }
  // tasks.at only once the time has come, as in the tick itself.
  return state.task_timeouts.any_of([&](const std::string& id, const TaskTimeout& timeout) {
    return at >= timeout.at && ops::task_due(timeout, state.tasks.at(id), at);
  });
}

}  // namespace seer::promises
