// spec §5.2: task handlers. As for promises, every id named in spec §3.2's converge table has been
// converged before a handler runs.
#include <optional>

#include "promises/model/json_fields.hpp"
#include "promises/model/ops.hpp"
#include "promises/model/predicates.hpp"
#include "promises/model/records.hpp"

namespace seer::promises::ops {

using json = nlohmann::json;

namespace {
Outcome empty_ok() {
  Outcome out;
  out.form = Outcome::Form::empty;
  return out;
}

// Common checks F1–F4 of the fenced operations; nullopt when the fence holds.
std::optional<Outcome> fence_check(Ctx& ctx, const std::string& id, std::int64_t version,
                                   const char* not_acquired, const char* mismatch) {
  const Task* task = find_task(ctx, id);
  if (task == nullptr) return error(404, "Task not found");
  if (task->state != TaskState::acquired) return error(409, not_acquired);
  if (is_settled(view(promise_at(ctx, id), ctx.now))) return error(409, not_acquired);  // F3
  if (task->version != version) return error(409, mismatch);
  return std::nullopt;
}

// Entering `acquired` (spec T7): version+1, lease from the request, resumes cleared.
void acquire(Ctx& ctx, Task& task, const std::string& pid, std::int64_t ttl) {
  task.state = TaskState::acquired;
  task.version += 1;
  task.pid = pid;
  task.ttl = ttl;
  task.resumes.clear();
  ctx.state.task_timeouts.upsert(task.id, {TimeoutKind::lease, add_time(ctx.now, ttl)});
}

// {task, promise, preload} of task.create and task.acquire.
Outcome task_ok(Ctx& ctx, const std::string& id, json preloaded) {
  Outcome out;
  out.form = Outcome::Form::task_ok;
  out.data = std::move(preloaded);
  out.promise = &promise_at(ctx, id);
  out.task = &ctx.state.tasks.at(id);
  return out;
}

}  // namespace

// TG1–TG2
Outcome task_get(Ctx& ctx, const IdReq& r) {
  const Task* task = find_task(ctx, r.id);
  if (task == nullptr) return error(404, "Task not found");
  Outcome out;
  out.form = Outcome::Form::task;
  out.task = task;
  return out;
}

// TC1–TC7
Outcome task_create(Ctx& ctx, const TaskCreateReq& r) {
  const PromiseCreateReq& c = r.action;
  if (Task* task = find_task(ctx, c.id)) {
    if (task->state == TaskState::pending) {
      acquire(ctx, *task, r.pid, r.ttl);
      return task_ok(ctx, c.id, preload(ctx, c.id));
    }
    if (task->state == TaskState::fulfilled) return task_ok(ctx, c.id, preload(ctx, c.id));
    return error(409, "Task already exists");
  }
  const auto existing = ctx.state.promises.find(c.id);
  if (existing != ctx.state.promises.end()) {
    if (!has_target(existing->second.tags)) return error(422, "Promise has no address");
    return error(409, "Promise already exists");  // TC5, unreachable by I5
  }
  if (ctx.now >= c.timeout_at) {  // TC6: born expired, no preload
    insert_promise(ctx, c, true);
    ctx.state.tasks[c.id] = Task{c.id, TaskState::fulfilled, 0, {}, {}, {}};
    return task_ok(ctx, c.id, json::array());
  }
  insert_promise(ctx, c, false);  // TC7: resonate:delay is ignored here
  Task& task = ctx.state.tasks[c.id] = Task{c.id, TaskState::pending, 0, {}, {}, {}};
  acquire(ctx, task, r.pid, r.ttl);  // version 0 → 1
  return task_ok(ctx, c.id, preload(ctx, c.id));
}

// TA1–TA5
Outcome task_acquire(Ctx& ctx, const TaskAcquireReq& r) {
  Task* task = find_task(ctx, r.id);
  if (task == nullptr) return error(404, "Task not found");
  if (task->state != TaskState::pending) return error(409, "Task not in pending state");
  if (is_settled(view(promise_at(ctx, r.id), ctx.now)))
    return error(409, "Task logically fulfilled");
  if (task->version != r.version) return error(409, "Version mismatch");
  acquire(ctx, *task, r.pid, r.ttl);
  return task_ok(ctx, r.id, preload(ctx, r.id));
}

// TR1
Outcome task_release(Ctx& ctx, const TaskReleaseReq& r) {
  if (auto refused = fence_check(ctx, r.id, r.version, "Task not acquired", "Version mismatch"))
    return *refused;
  release_to_pending(ctx, ctx.state.tasks.at(r.id));
  return empty_ok();
}

// TF1–TF2
Outcome task_fulfill(Ctx& ctx, const TaskFulfillReq& r) {
  if (auto refused = fence_check(ctx, r.id, r.version, "Task not acquired", "Version mismatch"))
    return *refused;
  const Promise& p = promise_at(ctx, r.id);
  if (is_settled(p)) {  // TF1, unreachable after converge + F3
    fulfil(ctx, r.id);
    return promise_ok(p);
  }
  settle(ctx, r.id, r.action.state, r.action.value, ctx.now);
  return promise_ok(p);
}

// TS1–TS3: suspend only if every awaited promise is pending; otherwise keep running (300).
Outcome task_suspend(Ctx& ctx, const TaskSuspendReq& r) {
  if (auto refused = fence_check(ctx, r.id, r.version, "Task not acquired", "Version mismatch"))
    return *refused;
  bool some_settled = false;
  for (const RegisterCallbackReq& a : r.actions) {
    const auto it = ctx.state.promises.find(a.awaited);
    if (it == ctx.state.promises.end()) return error(422, "Awaited promise not found");  // A10
    some_settled = some_settled || is_settled(it->second);
  }
  Task& task = ctx.state.tasks.at(r.id);
  if (some_settled) {
    task.resumes.clear();
    json data = json::object();
    data["preload"] = preload(ctx, r.id);
    return {300, std::move(data)};
  }
  for (const RegisterCallbackReq& a : r.actions) promise_at(ctx, a.awaited).callbacks.add(r.id);
  task.state = TaskState::suspended;
  task.pid.reset();
  task.ttl.reset();
  task.resumes.clear();
  ctx.state.task_timeouts.erase(r.id);
  return empty_ok();
}

// TN1–TN2: the outer status is 200 whenever the fence holds; the inner one is the action's.
Outcome task_fence(Ctx& ctx, const TaskFenceReq& r) {
  if (auto refused = fence_check(ctx, r.id, r.version, "Fence check failed", "Fence check failed"))
    return *refused;
  Outcome inner;
  std::string_view kind;
  const Head* head = nullptr;
  if (const auto* c = std::get_if<PromiseCreateReq>(&r.action)) {
    inner = create(ctx, *c);
    kind = "promise.create";
    head = &c->head;
  } else {
    const auto& s = std::get<PromiseSettleReq>(r.action);
    inner = settle_request(ctx, s);
    kind = "promise.settle";
    head = &s.head;
  }
  JsonFields data;
  const int status = inner.status;  // built now: σ is read as the action left it
  data.add("action", envelope(kind, *head, status, build_data(std::move(inner))));
  data.add("preload", json::array());
  return {200, std::move(data.object)};
}

// Extends the lease of each listed task this pid holds at that version; never refuses.
Outcome task_heartbeat(Ctx& ctx, const TaskHeartbeatReq& r) {
  for (const HeartbeatEntry& e : r.tasks) {
    const Task* task = find_task(ctx, e.id);
    if (task == nullptr || task->state != TaskState::acquired || task->version != e.version ||
        task->pid != r.pid)
      continue;
    if (is_settled(view(promise_at(ctx, e.id), ctx.now))) continue;  // not converged: use the view
    ctx.state.task_timeouts.upsert(
        e.id, {TimeoutKind::lease, add_time(ctx.now, task->ttl.value_or(kRetry))});
  }
  return empty_ok();
}

// TH1–TH4
Outcome task_halt(Ctx& ctx, const IdReq& r) {
  Task* task = find_task(ctx, r.id);
  if (task == nullptr) return error(404, "Task not found");
  if (task->state == TaskState::fulfilled) return error(409, "Task is fulfilled");
  if (task->state != TaskState::halted) {
    task->state = TaskState::halted;
    task->pid.reset();
    task->ttl.reset();
    ctx.state.task_timeouts.erase(r.id);
  }
  return empty_ok();
}

// TK1–TK3
Outcome task_continue(Ctx& ctx, const IdReq& r) {
  Task* task = find_task(ctx, r.id);
  if (task == nullptr) return error(404, "Task not found");
  if (task->state != TaskState::halted) return error(409, "Task is not halted");
  release_to_pending(ctx, *task);
  return empty_ok();
}

}  // namespace seer::promises::ops
