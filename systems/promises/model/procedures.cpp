// spec §4: the procedures every handler shares (settlement fan-out, creation, preload).
#include "promises/model/ops.hpp"
#include "promises/model/predicates.hpp"
#include "promises/model/records.hpp"

namespace seer::promises::ops {

using json = nlohmann::json;

Outcome error(int status, const char* text) {
  Outcome out;
  out.status = status;
  out.form = Outcome::Form::text;
  out.text = text;
  return out;
}

Outcome promise_ok(const Promise& p) {
  Outcome out;
  out.form = Outcome::Form::promise;
  out.promise = &p;
  return out;
}

Outcome promise_ok_view(const Promise& p, std::int64_t now) {
  Outcome out = promise_ok(p);
  out.view_at = now;
  return out;
}

Promise& promise_at(Ctx& ctx, const std::string& id) {
  return ctx.state.promises.at(id);
}

Task* find_task(Ctx& ctx, const std::string& id) {
  const auto it = ctx.state.tasks.find(id);
  return it == ctx.state.tasks.end() ? nullptr : &it->second;
}

Promise& insert_promise(Ctx& ctx, const PromiseCreateReq& c, bool expired) {
  Promise p;
  p.id = c.id;
  p.seq =
      static_cast<std::int64_t>(ctx.state.creation_order.size()) + ctx.state.unloaded_promises + 1;
  p.param = c.param;
  p.tags = c.tags;
  p.timeout_at = c.timeout_at;
  if (expired) {  // born expired (PC2/TC6): created and settled at the deadline
    p.state = timeout_state(c.tags);
    p.created_at = c.timeout_at;
    p.settled_at = c.timeout_at;
  } else {
    p.created_at = ctx.now;
  }
  ctx.state.creation_order.push_back(c.id);
  return ctx.state.promises.emplace(c.id, std::move(p)).first->second;
}

// execute{id, version} to the promise's target, carrying the task's current version (spec §7).
void emit_execute(Ctx& ctx, const std::string& id) {
  const Task& task = ctx.state.tasks.at(id);
  const std::string& address = target(promise_at(ctx, id).tags);
  if (ctx.record_messages) ctx.out.push_back(execute_message(address, id, task.version));
}

void release_to_pending(Ctx& ctx, Task& task) {
  task.state = TaskState::pending;
  task.pid.reset();
  task.ttl.reset();
  ctx.state.task_timeouts.upsert(task.id, {TimeoutKind::retry, add_time(ctx.now, kRetry)});
  emit_execute(ctx, task.id);
}

// SETTLE then ON_SETTLED = FULFIL; RESUME; NOTIFY (local.js: triggerSettlement).
void settle(Ctx& ctx, const std::string& id, PromiseState state, const Value& value,
            std::int64_t at) {
  Promise& p = promise_at(ctx, id);
  p.state = state;
  p.value = value;
  p.settled_at = at;
  fulfil(ctx, id);
  resume(ctx, id);
  notify(ctx, id);
}

// FULFIL: the task of a settled promise is done; it stops awaiting anything (version unchanged).
void fulfil(Ctx& ctx, const std::string& id) {
  Task* task = find_task(ctx, id);
  if (task == nullptr || task->state == TaskState::fulfilled) return;
  task->state = TaskState::fulfilled;
  task->pid.reset();
  task->ttl.reset();
  task->resumes.clear();
  ctx.state.task_timeouts.erase(id);
  for (auto& [other, q] : ctx.state.promises) q.callbacks.remove(id);
}

// RESUME: wake suspended awaiters (same version, fresh retry), buffer the id for the others.
void resume(Ctx& ctx, const std::string& id) {
  Promise& p = promise_at(ctx, id);
  for (const std::string& awaiter : p.callbacks) {
    Task& task = ctx.state.tasks.at(awaiter);
    if (task.state == TaskState::suspended) {
      task.state = TaskState::pending;
      task.resumes = {id};
      ctx.state.task_timeouts.upsert(awaiter, {TimeoutKind::retry, add_time(ctx.now, kRetry)});
      emit_execute(ctx, awaiter);
    } else if (task.state != TaskState::fulfilled) {
      task.resumes.add(id);
    }
  }
  p.callbacks.clear();
}

// NOTIFY: one unblock per listener address, then forget them.
void notify(Ctx& ctx, const std::string& id) {
  Promise& p = promise_at(ctx, id);
  if (ctx.record_messages) {
    for (const std::string& address : p.listeners) ctx.out.push_back(unblock_message(address, p));
  }
  p.listeners.clear();
}

// spec §3.2 CONVERGE: make the stored promise agree with its view (eager timeout).
void converge(Ctx& ctx, const std::string& id) {
  const auto it = ctx.state.promises.find(id);
  if (it == ctx.state.promises.end()) return;
  const Promise& p = it->second;
  if (p.state != PromiseState::pending || ctx.now < p.timeout_at) return;
  settle(ctx, id, timeout_state(p.tags), Value{}, p.timeout_at);
}

// PRELOAD: the other promises of the same branch, viewed at now (spec A2), in creation order.
json preload(Ctx& ctx, const std::string& id) {
  json out = json::array();
  const auto it = ctx.state.promises.find(id);
  if (it == ctx.state.promises.end()) return out;
  const std::optional<std::string> b = branch(it->second.tags);
  if (!b) return out;
  for (const std::string& qid : ctx.state.creation_order) {
    if (qid == id) continue;
    const Promise& q = promise_at(ctx, qid);
    const auto qb = q.tags.find("resonate:branch");
    if (qb != q.tags.end() && qb->second == *b) out.push_back(promise_record(view(q, ctx.now)));
  }
  return out;
}

// CREATE (spec §4; PC1–PC5): idempotent by id, the request ignored if the id exists.
Outcome create(Ctx& ctx, const PromiseCreateReq& c) {
  const auto existing = ctx.state.promises.find(c.id);
  if (existing != ctx.state.promises.end()) return promise_ok_view(existing->second, ctx.now);
  if (ctx.now >= c.timeout_at) {
    const Promise& p = insert_promise(ctx, c, true);
    if (has_target(c.tags)) ctx.state.tasks[c.id] = Task{c.id, TaskState::fulfilled, 0, {}, {}, {}};
    return promise_ok(p);
  }
  const Promise& p = insert_promise(ctx, c, false);
  if (has_target(c.tags)) {
    ctx.state.tasks[c.id] = Task{c.id, TaskState::pending, 0, {}, {}, {}};
    const std::optional<std::int64_t> d = delay(c.tags);
    const bool deferred = d && ctx.now < *d;
    const std::int64_t at = deferred ? *d : add_time(ctx.now, kRetry);
    ctx.state.task_timeouts.upsert(c.id, {TimeoutKind::retry, at});
    if (!deferred) emit_execute(ctx, c.id);
  }
  return promise_ok(p);
}

// SETTLE_REQ (spec §4; PS1–PS3): the first settle wins, later ones see the existing state.
Outcome settle_request(Ctx& ctx, const PromiseSettleReq& s) {
  const auto it = ctx.state.promises.find(s.id);
  if (it == ctx.state.promises.end()) return error(404, "Promise not found");
  const Promise& p = it->second;
  // Settled in its view (spec §3.2): settled, or pending past its deadline.
  if (is_settled(p) || ctx.now >= p.timeout_at) return promise_ok_view(p, ctx.now);
  settle(ctx, s.id, s.state, s.value, ctx.now);
  return promise_ok(promise_at(ctx, s.id));
}

}  // namespace seer::promises::ops
