// Internal to the model: one step in progress, the shared procedures of spec §4 and the handlers
// of spec §5. Not part of the public API (see model.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "promises/model/request.hpp"
#include "promises/model/state.hpp"

namespace seer::promises::ops {

// A handler's answer: status and response `data` (spec §5 tables).
struct Outcome {
  int status = 200;
  nlohmann::json data;
};

// One step: the state it mutates, its time (data.time for debug.tick) and its messages, in order.
struct Ctx {
  State& state;
  std::int64_t now;
  std::vector<nlohmann::json>& out;
  // false: `out` stays empty (answer(): a caller that reads only σ and the response's data).
  bool record_messages = true;
};

Outcome error(int status, const char* text);
// 200 {promise: Record(p)}
Outcome promise_ok(const Promise& p);

// ---- spec §4 shared procedures (procedures.cpp) ----
Promise& promise_at(Ctx& ctx, const std::string& id);
Task* find_task(Ctx& ctx, const std::string& id);
// Inserts a new promise (pending, or born expired: spec PC2/TC6) with the next seq.
Promise& insert_promise(Ctx& ctx, const PromiseCreateReq& c, bool expired);
void emit_execute(Ctx& ctx, const std::string& id);
// Task back to `pending` with a fresh retry and an execute message (TR1, TK3, sweep release).
void release_to_pending(Ctx& ctx, Task& task);
void settle(Ctx& ctx, const std::string& id, PromiseState state, const Value& value,
            std::int64_t at);
void fulfil(Ctx& ctx, const std::string& id);
void resume(Ctx& ctx, const std::string& id);
void notify(Ctx& ctx, const std::string& id);
void converge(Ctx& ctx, const std::string& id);
nlohmann::json preload(Ctx& ctx, const std::string& id);
// CREATE and SETTLE_REQ; data is {promise: record} on 200.
Outcome create(Ctx& ctx, const PromiseCreateReq& c);
Outcome settle_request(Ctx& ctx, const PromiseSettleReq& s);

// ---- spec §5.1 (promises_ops.cpp) ----
Outcome promise_get(Ctx& ctx, const IdReq& r);
Outcome promise_create(Ctx& ctx, const PromiseCreateReq& r);
Outcome promise_settle(Ctx& ctx, const PromiseSettleReq& r);
Outcome register_callback(Ctx& ctx, const RegisterCallbackReq& r);
Outcome register_listener(Ctx& ctx, const RegisterListenerReq& r);

// ---- spec §5.2 (tasks_ops.cpp) ----
Outcome task_get(Ctx& ctx, const IdReq& r);
Outcome task_create(Ctx& ctx, const TaskCreateReq& r);
Outcome task_acquire(Ctx& ctx, const TaskAcquireReq& r);
Outcome task_release(Ctx& ctx, const TaskReleaseReq& r);
Outcome task_suspend(Ctx& ctx, const TaskSuspendReq& r);
Outcome task_fulfill(Ctx& ctx, const TaskFulfillReq& r);
Outcome task_fence(Ctx& ctx, const TaskFenceReq& r);
Outcome task_heartbeat(Ctx& ctx, const TaskHeartbeatReq& r);
Outcome task_halt(Ctx& ctx, const IdReq& r);
Outcome task_continue(Ctx& ctx, const IdReq& r);

// ---- spec §5.5 (debug_ops.cpp) ----
Outcome debug_tick(Ctx& ctx);  // ctx.now is data.time
Outcome debug_snap(Ctx& ctx);
Outcome debug_reset(Ctx& ctx);

}  // namespace seer::promises::ops
